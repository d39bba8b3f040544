/**
 * UpdateAlias: re-points an alias to another key with the same key spec and key usage. The
 * current target may be pending deletion; the new one may not (kms-reference.md §8 [10]). The
 * alias moves only if it still targets the key the caller was authorized on (compare-and-swap).
 */
import { ServiceError } from '../errors';
import { aliasArn } from '../keys/arn';
import { assertCustomerManaged } from '../keys/aws-managed';
import { retargetAlias } from '../keys/guarded-writes';
import { assertKeyState } from '../keys/key-states';
import { aliasNotFound, assertAliasName, assertTargetIsKey } from './create-alias';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import type { TransactionRunner } from '../store/store';
import { authorizeKms } from './authorize';
import type { KmsAuthorizationStore } from './authorize';
import { KMS_OUTPUTS, type UpdateAliasOutput } from '../model/kms-outputs';

/** How often the compare-and-swap is retried against an alias that other calls keep re-pointing. */
const MAX_ATTEMPTS = 5;

interface UpdateAliasInput {
  AliasName: string;
  TargetKeyId: string;
}

export const updateAlias: Operation<UpdateAliasInput, UpdateAliasOutput, KmsAuthorizationStore & TransactionRunner> = {
  name: 'UpdateAlias',
  output: KMS_OUTPUTS.UpdateAlias,
  readOnly: false,
  input: KMS_INPUTS.UpdateAlias,
  async invoke(input, ctx, svc) {
    assertAliasName(input.AliasName);
    assertTargetIsKey(input.TargetKeyId);
    const { accountId } = ctx.caller;
    const arn = aliasArn(ctx.region, accountId, input.AliasName);
    // kms:UpdateAlias on the alias (identity-based policies), on the current and on the new key (§3.1).
    await authorizeKms(ctx, svc, { action: 'kms:UpdateAlias', resource: arn });
    const found = await svc.store.getAlias(accountId, ctx.region, input.AliasName);
    if (found === undefined) throw aliasNotFound(arn);
    let alias = found;
    const { key } = await svc.keyring.resolve(input.TargetKeyId, 'key', ctx.caller, ctx.region, 'kms:UpdateAlias');
    await authorizeKms(ctx, svc, { action: 'kms:UpdateAlias', key });
    // Compare-and-swap (issue 12 item 9), in one transaction (issue 13): the alias moves only from
    // the key the caller was authorized on. If another call re-pointed it meanwhile, this is not a
    // database retry but a new decision: authorize again against the alias's new target.
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
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
      const outcome = await retargetAlias(
        svc.store, { accountId, region: ctx.region, aliasName: input.AliasName }, alias.targetKeyArn, key, svc.clock.now(),
        (target) => assertKeyState(target, 'modify'),
      );
      if (outcome.kind === 'updated') return undefined;
      if (outcome.kind === 'missing') throw aliasNotFound(arn);
      if (outcome.kind === 'no-key') throw new ServiceError('NotFoundException', `Key '${key.arn}' does not exist`);
      alias = outcome.alias;
    }
    // Re-pointed by others on every attempt: retryable, as AWS's answer to contention.
    throw new ServiceError('DependencyTimeoutException', 'The alias was changed by other requests while this one was authorized; retry the request.');
  },
};
