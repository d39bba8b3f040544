/**
 * The AccountAlias member (IAM API Reference, CreateAccountAlias: 3–63 lowercase letters, digits
 * and single dashes, neither first nor last).
 */
import type { StringShape } from '../shape';

export const ACCOUNT_ALIAS: StringShape = Object.freeze({
  type: 'string',
  min: 3,
  max: 63,
  pattern: /^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$/,
  required: true,
});

/** IAM authorizes the account alias actions on `*` (Service Authorization Reference, IAM). */
export const ACCOUNT_ALIAS_RESOURCE = '*';
