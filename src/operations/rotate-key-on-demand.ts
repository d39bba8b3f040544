/**
 * RotateKeyOnDemand: rotate now, whether or not automatic rotation is on, without moving the
 * automatic schedule (kms-reference.md §3 row 46, §14.1). At most 25 per key; refused with
 * ConflictException while an automatic rotation is due within 20 minutes or another rotation of
 * the key wins the race. Unlike AWS, the rotation completes before the response (docs/architecture.md §1.1: a
 * 200 means the new material is durable), so OnDemandRotationStartDate is never left set.
 * Keys with imported material are refused until ImportKeyMaterial can stage PENDING_ROTATION
 * material.
 */
import { ServiceError } from '../errors';
import { assertCustomerManaged } from '../keys/aws-managed';
import { assertKeyState } from '../keys/key-states';
import {
  assertRotatableKind,
  assertRotationManageable,
  AUTOMATIC_ROTATION_GUARD_MS,
  MAX_ON_DEMAND_ROTATIONS,
  rotateKey,
} from '../keys/rotate';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import type { KeyVersionRepository } from '../store/store';
import type { RotationStore } from '../keys/rotate';
import { authorizeKms } from './authorize';
import type { KmsAuthorizationStore } from './authorize';
import { KMS_OUTPUTS, type RotateKeyOnDemandOutput } from '../model/kms-outputs';

interface RotateKeyOnDemandInput {
  KeyId: string;
}

function conflict(arn: string): ServiceError {
  return new ServiceError(
    'ConflictException',
    `${arn} cannot be rotated on demand now: a rotation of this key is in progress or an automatic rotation is scheduled to begin within the next 20 minutes.`,
  );
}

export const rotateKeyOnDemand: Operation<RotateKeyOnDemandInput, RotateKeyOnDemandOutput, KmsAuthorizationStore & KeyVersionRepository & RotationStore> = {
  name: 'RotateKeyOnDemand',
  output: KMS_OUTPUTS.RotateKeyOnDemand,
  readOnly: false,
  input: KMS_INPUTS.RotateKeyOnDemand,
  async invoke(input, ctx, svc) {
    const { key } = await svc.keyring.resolve(input.KeyId, 'key', ctx.caller, ctx.region, 'kms:RotateKeyOnDemand');
    await authorizeKms(ctx, svc, { action: 'kms:RotateKeyOnDemand', key });
    assertCustomerManaged(key, 'kms:RotateKeyOnDemand', ctx.caller);
    assertRotationManageable(key);
    assertRotatableKind(key);
    assertKeyState(key, 'rotate');
    const now = svc.clock.now();
    if (key.onDemandRotationStartDate !== null) throw conflict(key.arn);
    if (key.rotationEnabled && key.nextRotationDate !== null && key.nextRotationDate - now <= AUTOMATIC_ROTATION_GUARD_MS) {
      throw conflict(key.arn);
    }
    const done = (await svc.store.listKeyVersions(key.arn)).filter((v) => v.origin === 'ON_DEMAND').length;
    if (done >= MAX_ON_DEMAND_ROTATIONS) {
      throw new ServiceError(
        'LimitExceededException',
        `${key.arn} has reached the limit of ${MAX_ON_DEMAND_ROTATIONS} on-demand rotations per key.`,
      );
    }
    const version = await rotateKey(svc.store, svc.keyring, key, 'ON_DEMAND', now);
    if (version === undefined) {
      // The guard failed: another rotation won, or the key left Enabled meanwhile.
      const fresh = await svc.keyring.getKey(key.arn);
      if (fresh !== undefined) assertKeyState(fresh, 'rotate');
      throw conflict(key.arn);
    }
    // The key ID, not its ARN: AWS's documented response (KMS Developer Guide, ct-rotatekeyondemand).
    return { KeyId: key.keyId };
  },
};
