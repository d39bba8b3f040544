/**
 * DisableKeyRotation: stops automatic rotation; the current material stays current, and
 * re-enabling starts a fresh schedule from the new enable date (kms-reference.md §3 row 16;
 * rotating-keys-disable.md). On-demand rotation is unaffected.
 */
import { ServiceError } from '../errors';
import { assertCustomerManaged } from '../keys/aws-managed';
import { assertKeyState } from '../keys/key-states';
import { assertRotatableKind, assertRotationManageable, changeRotationSettings } from '../keys/rotate';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import type { TransactionRunner } from '../store/store';
import { authorizeKms } from './authorize';
import type { KmsAuthorizationStore } from './authorize';
import { KMS_OUTPUTS, type DisableKeyRotationOutput } from '../model/kms-outputs';

interface DisableKeyRotationInput {
  KeyId: string;
}

export const disableKeyRotation: Operation<DisableKeyRotationInput, DisableKeyRotationOutput, KmsAuthorizationStore & TransactionRunner> = {
  name: 'DisableKeyRotation',
  output: KMS_OUTPUTS.DisableKeyRotation,
  readOnly: false,
  input: KMS_INPUTS.DisableKeyRotation,
  async invoke(input, ctx, svc) {
    const { key } = await svc.keyring.resolve(input.KeyId, 'key', ctx.caller, ctx.region, 'kms:DisableKeyRotation');
    await authorizeKms(ctx, svc, { action: 'kms:DisableKeyRotation', key });
    assertCustomerManaged(key, 'kms:DisableKeyRotation', ctx.caller);
    assertRotationManageable(key);
    assertRotatableKind(key);
    // The state check and the write in one transaction (issue 13).
    const exists = await changeRotationSettings(svc.store, key, (current) => {
      assertKeyState(current, 'configure-rotation');
      return current.rotationEnabled ? { rotationEnabled: false, rotationPeriodInDays: null, nextRotationDate: null } : undefined;
    });
    if (!exists) throw new ServiceError('NotFoundException', `Key '${key.arn}' does not exist`);
    return undefined;
  },
};
