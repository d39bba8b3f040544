/**
 * IAM ListAccountAliases: the caller's account alias as a list of zero or one (an account has at
 * most one), with IsTruncated false; Marker and MaxItems are validated as AWS does and change
 * nothing for a list that short.
 */
import type { Operation } from '../operation';
import { ACCOUNT_ALIAS_RESOURCE } from './account-alias-shapes';
import { authorizeIam, type IamStore } from './iam-common';
import { IAM_OUTPUTS, type ListAccountAliasesOutput } from '../../model/iam-outputs';
import { IAM_INPUTS } from '../../model/iam-inputs';

interface Input {
  readonly Marker?: string;
  readonly MaxItems?: number;
}

export const listAccountAliases: Operation<Input, ListAccountAliasesOutput, IamStore> = {
  name: 'ListAccountAliases',
  output: IAM_OUTPUTS.ListAccountAliases,
  input: IAM_INPUTS.ListAccountAliases,
  readOnly: true,
  async invoke(_input, ctx, svc) {
    await authorizeIam(ctx, svc, 'ListAccountAliases', ACCOUNT_ALIAS_RESOURCE);
    const alias = await svc.store.identity.getAccountAlias(ctx.caller.accountId);
    return { AccountAliases: alias === undefined ? [] : [alias], IsTruncated: false };
  },
};
