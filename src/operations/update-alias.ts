/**
 * UpdateAlias: re-points an alias to another key with the same key spec and key usage. The
 * current target may be pending deletion; the new one may not (kms-reference.md §8 [10]).
 */
import { ServiceError } from '../errors';
import { aliasArn } from '../keys/arn';
import { assertCustomerManaged } from '../keys/aws-managed';
import { assertKeyState } from '../keys/key-states';
import { aliasNotFound, assertAliasName, assertTargetIsKey } from './create-alias';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import { authorizeKms } from './authorize';

interface UpdateAliasInput {
  AliasName: string;
  TargetKeyId: string;
}

export const updateAlias: Operation<UpdateAliasInput> = {
  name: 'UpdateAlias',
  readOnly: false,
  input: KMS_INPUTS.UpdateAlias,
  async invoke(input, ctx, svc) {
    assertAliasName(input.AliasName);
    assertTargetIsKey(input.TargetKeyId);
    const { accountId } = ctx.caller;
    const arn = aliasArn(ctx.region, accountId, input.AliasName);
    // kms:UpdateAlias on the alias (identity-based policies), on the current and on the new key (§3.1).
    await authorizeKms(ctx, svc, { action: 'kms:UpdateAlias', resource: arn });
    const alias = await svc.store.getAlias(accountId, ctx.region, input.AliasName);
    if (alias === undefined) throw aliasNotFound(arn);
    const { key } = await svc.keyring.resolve(input.TargetKeyId, 'key', ctx.caller, ctx.region, 'kms:UpdateAlias');
    await authorizeKms(ctx, svc, { action: 'kms:UpdateAlias', key });
    const current = await svc.keyring.getKey(alias.targetKeyArn);
    if (current !== undefined) await authorizeKms(ctx, svc, { action: 'kms:UpdateAlias', key: current });
    assertCustomerManaged(key, 'kms:UpdateAlias', ctx.caller);
    assertKeyState(key, 'modify');
    if (current !== undefined && (current.keySpec !== key.keySpec || current.keyUsage !== key.keyUsage)) {
      throw new ServiceError(
        'ValidationException',
        `${arn} points to a key with KeySpec ${current.keySpec} and KeyUsage ${current.keyUsage}; ` +
          `the new target key must have the same KeySpec and KeyUsage, but ${key.arn} has KeySpec ${key.keySpec} and KeyUsage ${key.keyUsage}.`,
      );
    }
    const updated = await svc.store.updateAlias(accountId, ctx.region, input.AliasName, key.keyId, key.arn, svc.clock.now());
    svc.keyring.forgetAlias(accountId, ctx.region, input.AliasName);
    if (!updated) throw aliasNotFound(arn);
    return undefined;
  },
};
