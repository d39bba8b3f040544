/** IAM authorizes the account alias actions on `*` (Service Authorization Reference, IAM). */
export const ACCOUNT_ALIAS_RESOURCE = '*';
