/**
 * DisableKeyRotation: stops automatic rotation; the current material stays current, and
 * re-enabling starts a fresh schedule from the new enable date (kms-reference.md §3 row 16;
 * rotating-keys-disable.md). On-demand rotation is unaffected.
 */
import { ServiceError } from '../errors';
import { assertCustomerManaged } from '../keys/aws-managed';
import { assertKeyState } from '../keys/key-states';
import { assertRotatableKind, assertRotationManageable, writeRotationSettings } from '../keys/rotate';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import { authorizeKms } from './authorize';
import { KMS_OUTPUTS, type DisableKeyRotationOutput } from '../model/kms-outputs';

interface DisableKeyRotationInput {
  KeyId: string;
}

const MAX_ATTEMPTS = 3;

export const disableKeyRotation: Operation<DisableKeyRotationInput, DisableKeyRotationOutput> = {
  name: 'DisableKeyRotation',
  output: KMS_OUTPUTS.DisableKeyRotation,
  readOnly: false,
  input: KMS_INPUTS.DisableKeyRotation,
  async invoke(input, ctx, svc) {
    let { key } = await svc.keyring.resolve(input.KeyId, 'key', ctx.caller, ctx.region, 'kms:DisableKeyRotation');
    await authorizeKms(ctx, svc, { action: 'kms:DisableKeyRotation', key });
    assertCustomerManaged(key, 'kms:DisableKeyRotation', ctx.caller);
    assertRotationManageable(key);
    assertRotatableKind(key);
    for (let attempt = 1; ; attempt++) {
      assertKeyState(key, 'configure-rotation');
      if (!key.rotationEnabled) return undefined;
      const patch = { rotationEnabled: false, rotationPeriodInDays: null, nextRotationDate: null };
      if (await writeRotationSettings(svc.store, svc.keyring, key, patch)) return undefined;
      if (attempt === MAX_ATTEMPTS) throw new Error(`lost ${MAX_ATTEMPTS} races on the state of ${key.arn}`);
      const fresh = await svc.keyring.getKey(key.arn);
      if (fresh === undefined) throw new ServiceError('NotFoundException', `Key '${key.arn}' does not exist`);
      key = fresh;
    }
  },
};
