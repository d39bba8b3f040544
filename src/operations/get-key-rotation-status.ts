/**
 * GetKeyRotationStatus: whether automatic rotation is on, its period and next date, and the start
 * of an on-demand rotation in progress (kms-reference.md §3 row 30). While a key is pending
 * deletion the status reads false; the stored setting is kept and shows again once deletion is
 * cancelled (rotate-keys.md, keys pending deletion). A replica reports the setting it shares
 * with its primary.
 */
import { KMS_INPUTS } from '../model/kms-inputs';
import { assertRotatableKind } from '../keys/rotate';
import type { Operation } from './operation';
import { authorizeKms } from './authorize';
import type { KmsAuthorizationStore } from './authorize';
import { KMS_OUTPUTS, type GetKeyRotationStatusOutput } from '../model/kms-outputs';

interface GetKeyRotationStatusInput {
  KeyId: string;
}

export const getKeyRotationStatus: Operation<GetKeyRotationStatusInput, GetKeyRotationStatusOutput, KmsAuthorizationStore> = {
  name: 'GetKeyRotationStatus',
  output: KMS_OUTPUTS.GetKeyRotationStatus,
  readOnly: true,
  input: KMS_INPUTS.GetKeyRotationStatus,
  async invoke(input, ctx, svc) {
    const { key } = await svc.keyring.resolve(input.KeyId, 'key', ctx.caller, ctx.region, 'kms:GetKeyRotationStatus');
    await authorizeKms(ctx, svc, { action: 'kms:GetKeyRotationStatus', key });
    assertRotatableKind(key);
    const pendingDeletion = key.state === 'PendingDeletion' || key.state === 'PendingReplicaDeletion';
    const enabled = key.rotationEnabled && !pendingDeletion;
    const out: Record<string, unknown> = { KeyRotationEnabled: enabled, KeyId: key.arn };
    if (enabled) {
      if (key.rotationPeriodInDays !== null) out.RotationPeriodInDays = key.rotationPeriodInDays;
      if (key.nextRotationDate !== null) out.NextRotationDate = key.nextRotationDate;
    }
    if (key.onDemandRotationStartDate !== null) out.OnDemandRotationStartDate = key.onDemandRotationStartDate;
    return out;
  },
};
