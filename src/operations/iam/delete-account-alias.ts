/** IAM DeleteAccountAlias: removes the caller's account alias; another name is NoSuchEntity. */
import { ServiceError } from '../../errors';
import type { Operation } from '../operation';
import { ACCOUNT_ALIAS_RESOURCE } from './account-alias-shapes';
import { authorizeIam, type IamStore } from './iam-common';
import { IAM_OUTPUTS, type DeleteAccountAliasOutput } from '../../model/iam-outputs';
import { IAM_INPUTS } from '../../model/iam-inputs';

interface Input {
  readonly AccountAlias: string;
}

export const deleteAccountAlias: Operation<Input, DeleteAccountAliasOutput, IamStore> = {
  name: 'DeleteAccountAlias',
  output: IAM_OUTPUTS.DeleteAccountAlias,
  input: IAM_INPUTS.DeleteAccountAlias,
  readOnly: false,
  async invoke(input, ctx, svc) {
    await authorizeIam(ctx, svc, 'DeleteAccountAlias', ACCOUNT_ALIAS_RESOURCE);
    if (!(await svc.store.identity.deleteAccountAlias(ctx.caller.accountId, input.AccountAlias))) {
      throw new ServiceError('NoSuchEntityException', `The account alias ${input.AccountAlias} cannot be found.`);
    }
    return undefined;
  },
};
