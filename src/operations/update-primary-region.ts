/**
 * UpdatePrimaryRegion: the replica in PrimaryRegion becomes the primary key and the current
 * primary becomes one of its replicas (API reference UpdatePrimaryRegion; developer guide
 * multi-region-update: "Both the primary key and the replica key must be in the Enabled key state
 * when the operation starts"). Called in the current primary's Region with its key id or ARN.
 *
 * Every related row gets its new role and primary Region in one transaction, so no reader ever
 * sees two primaries or none. AWS passes both keys through a transient `Updating` state for a few
 * seconds after answering; Keyhold's swap is complete when it answers, so `Updating` never shows.
 */
import { ServiceError } from '../errors';
import { keyArn } from '../keys/arn';
import { assertCustomerManaged } from '../keys/aws-managed';
import { assertKeyState } from '../keys/key-states';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import type { KeyReader, TransactionRunner } from '../store/store';
import { assertMultiRegionPrimary, regionShape } from './replicate-key';
import { authorizeKms } from './authorize';
import type { KmsAuthorizationStore } from './authorize';
import { KMS_OUTPUTS, type UpdatePrimaryRegionOutput } from '../model/kms-outputs';

interface UpdatePrimaryRegionInput {
  KeyId: string;
  PrimaryRegion: string;
}


export const updatePrimaryRegion: Operation<UpdatePrimaryRegionInput, UpdatePrimaryRegionOutput, KmsAuthorizationStore & KeyReader & TransactionRunner> = {
  name: 'UpdatePrimaryRegion',
  output: KMS_OUTPUTS.UpdatePrimaryRegion,
  readOnly: false,
  input: KMS_INPUTS.UpdatePrimaryRegion,
  async invoke(input, ctx, svc) {
    const region = input.PrimaryRegion;
    const { key } = await svc.keyring.resolve(input.KeyId, 'key', ctx.caller, ctx.region, 'kms:UpdatePrimaryRegion');
    // kms:UpdatePrimaryRegion on the current primary here, and on the replica below (§3.1).
    const conditions = { 'kms:PrimaryRegion': region };
    await authorizeKms(ctx, svc, { action: 'kms:UpdatePrimaryRegion', key, conditions });
    assertCustomerManaged(key, 'kms:UpdatePrimaryRegion', ctx.caller);
    assertMultiRegionPrimary(key);
    assertKeyState(key, 'use');
    if (region === key.region) {
      throw new ServiceError('ValidationException', `${key.arn} is already the primary key; PrimaryRegion must name the Region of one of its replicas.`);
    }
    const missing = (): ServiceError => new ServiceError('NotFoundException', `Key '${keyArn(region, key.accountId, key.keyId)}' does not exist`);
    const target = (await svc.store.listRelatedKeys(key.accountId, key.keyId)).find((r) => r.region === region);
    if (target === undefined) throw missing();
    await authorizeKms(ctx, svc, { action: 'kms:UpdatePrimaryRegion', key: target, conditions });
    assertKeyState(target, 'replicate');
    // The checks again on the locked rows, and the swap, in one transaction (issue 13): a
    // concurrent UpdatePrimaryRegion or state change decides first or after, never half-way.
    await svc.store.transaction(async (tx) => {
      const rows = await tx.keys.lockRelated(key.accountId, key.keyId);
      const primary = rows.find((r) => r.arn === key.arn);
      if (primary === undefined) throw new ServiceError('NotFoundException', `Key '${key.arn}' does not exist`);
      assertMultiRegionPrimary(primary);
      assertKeyState(primary, 'use');
      const next = rows.find((r) => r.region === region);
      if (next === undefined) throw missing();
      assertKeyState(next, 'replicate');
      for (const r of rows) {
        await tx.keys.update(r.arn, { multiRegionKeyType: r.region === region ? 'PRIMARY' : 'REPLICA', primaryRegion: region });
      }
    });
    return undefined;
  },
};
