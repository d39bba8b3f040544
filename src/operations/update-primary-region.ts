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
import type { KeyWrite } from '../store/store';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import { assertMultiRegionPrimary, regionShape } from './replicate-key';
import { authorizeKms } from './authorize';
import { KMS_OUTPUTS, type UpdatePrimaryRegionOutput } from '../model/kms-outputs';

interface UpdatePrimaryRegionInput {
  KeyId: string;
  PrimaryRegion: string;
}

const MAX_ATTEMPTS = 3;

export const updatePrimaryRegion: Operation<UpdatePrimaryRegionInput, UpdatePrimaryRegionOutput> = {
  name: 'UpdatePrimaryRegion',
  output: KMS_OUTPUTS.UpdatePrimaryRegion,
  readOnly: false,
  input: KMS_INPUTS.UpdatePrimaryRegion,
  async invoke(input, ctx, svc) {
    const region = input.PrimaryRegion;
    let { key } = await svc.keyring.resolve(input.KeyId, 'key', ctx.caller, ctx.region, 'kms:UpdatePrimaryRegion');
    // kms:UpdatePrimaryRegion on the current primary here, and on the replica below (§3.1).
    const conditions = { 'kms:PrimaryRegion': region };
    await authorizeKms(ctx, svc, { action: 'kms:UpdatePrimaryRegion', key, conditions });
    assertCustomerManaged(key, 'kms:UpdatePrimaryRegion', ctx.caller);
    for (let attempt = 1; ; attempt++) {
      assertMultiRegionPrimary(key);
      assertKeyState(key, 'use');
      if (region === key.region) {
        throw new ServiceError('ValidationException', `${key.arn} is already the primary key; PrimaryRegion must name the Region of one of its replicas.`);
      }
      const related = await svc.store.listRelatedKeys(key.accountId, key.keyId);
      const target = related.find((r) => r.region === region);
      if (target === undefined) {
        throw new ServiceError('NotFoundException', `Key '${keyArn(region, key.accountId, key.keyId)}' does not exist`);
      }
      await authorizeKms(ctx, svc, { action: 'kms:UpdatePrimaryRegion', key: target, conditions });
      assertKeyState(target, 'replicate');
      // Each row is guarded on the state just checked; the named key also on still being primary
      // in the state the checks above saw.
      const writes: KeyWrite[] = related.map((r) => ({
        kind: 'update-key',
        arn: r.arn,
        patch: { multiRegionKeyType: r.region === region ? 'PRIMARY' : 'REPLICA', primaryRegion: region },
        ifStates: [r.arn === key.arn ? key.state : r.state],
      }));
      const applied = await svc.store.applyKeyWrites(writes);
      for (const r of related) svc.keyring.forget(r.arn);
      if (applied) return undefined;
      if (attempt === MAX_ATTEMPTS) throw new Error(`lost ${MAX_ATTEMPTS} races on ${key.arn}`);
      const fresh = await svc.keyring.getKey(key.arn);
      if (fresh === undefined) throw new ServiceError('NotFoundException', `Key '${key.arn}' does not exist`);
      key = fresh;
    }
  },
};
