/** DeleteAlias: removes an alias; its key is unaffected (allowed in every key state, §8). */
import { aliasArn } from '../keys/arn';
import { aliasNotFound, assertAliasName } from './create-alias';
import type { Operation } from './operation';
import { S, structure } from './shape';

interface DeleteAliasInput {
  AliasName: string;
}

export const deleteAlias: Operation<DeleteAliasInput> = {
  name: 'DeleteAlias',
  readOnly: false,
  input: structure({ AliasName: S.aliasName() }),
  async invoke(input, ctx, svc) {
    assertAliasName(input.AliasName);
    const { accountId } = ctx.caller;
    const deleted = await svc.store.deleteAlias(accountId, ctx.region, input.AliasName);
    svc.keyring.forgetAlias(accountId, ctx.region, input.AliasName);
    if (!deleted) throw aliasNotFound(aliasArn(ctx.region, accountId, input.AliasName));
    return undefined;
  },
};
