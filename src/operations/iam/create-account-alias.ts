/**
 * IAM CreateAccountAlias: gives the caller's account an alias, replacing the one it had (an
 * account has at most one). An alias another account holds is EntityAlreadyExists, as AWS's are
 * unique across AWS (IAM API Reference, CreateAccountAlias).
 */
import { ServiceError } from '../../errors';
import type { Operation } from '../operation';
import { ACCOUNT_ALIAS_RESOURCE } from './account-alias-shapes';
import { authorizeIam, type IamStore } from './iam-common';
import { IAM_OUTPUTS, type CreateAccountAliasOutput } from '../../model/iam-outputs';
import { IAM_INPUTS } from '../../model/iam-inputs';

interface Input {
  readonly AccountAlias: string;
}

export const createAccountAlias: Operation<Input, CreateAccountAliasOutput, IamStore> = {
  name: 'CreateAccountAlias',
  output: IAM_OUTPUTS.CreateAccountAlias,
  input: IAM_INPUTS.CreateAccountAlias,
  readOnly: false,
  async invoke(input, ctx, svc) {
    await authorizeIam(ctx, svc, 'CreateAccountAlias', ACCOUNT_ALIAS_RESOURCE);
    if ((await svc.store.identity.setAccountAlias(ctx.caller.accountId, input.AccountAlias)) === 'taken') {
      throw new ServiceError('EntityAlreadyExistsException', `The account alias ${input.AccountAlias} already exists.`);
    }
    return undefined;
  },
};
