/** DeleteAlias: removes an alias; its key is unaffected (allowed in every key state, §8). */
import { aliasArn } from '../keys/arn';
import { aliasNotFound, assertAliasName } from './create-alias';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import type { AliasRepository } from '../store/store';
import { authorizeKms } from './authorize';
import type { KmsAuthorizationStore } from './authorize';
import { KMS_OUTPUTS, type DeleteAliasOutput } from '../model/kms-outputs';

interface DeleteAliasInput {
  AliasName: string;
}

export const deleteAlias: Operation<DeleteAliasInput, DeleteAliasOutput, KmsAuthorizationStore & AliasRepository> = {
  name: 'DeleteAlias',
  output: KMS_OUTPUTS.DeleteAlias,
  readOnly: false,
  input: KMS_INPUTS.DeleteAlias,
  async invoke(input, ctx, svc) {
    assertAliasName(input.AliasName);
    const { accountId } = ctx.caller;
    // kms:DeleteAlias on the alias (identity-based policies) and on its key (the key policy), §9.2.
    const arn = aliasArn(ctx.region, accountId, input.AliasName);
    await authorizeKms(ctx, svc, { action: 'kms:DeleteAlias', resource: arn });
    const alias = await svc.store.getAlias(accountId, ctx.region, input.AliasName);
    if (alias === undefined) throw aliasNotFound(arn);
    const key = await svc.keyring.getKey(alias.targetKeyArn);
    if (key !== undefined) await authorizeKms(ctx, svc, { action: 'kms:DeleteAlias', key });
    const deleted = await svc.store.deleteAlias(accountId, ctx.region, input.AliasName);
    if (!deleted) throw aliasNotFound(arn);
    return undefined;
  },
};
