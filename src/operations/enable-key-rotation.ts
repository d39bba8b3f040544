/**
 * EnableKeyRotation: automatic rotation every RotationPeriodInDays (90–2560, default 365) days,
 * the first one a period after the enable date (kms-reference.md §3 row 19, §14.1). Symmetric
 * encryption keys with AWS_KMS material only; on a multi-Region key, only on the primary, and the
 * setting is shared with every replica. Calling it again with another period keeps the anchor
 * (the enable date or the last automatic rotation) and moves the next date to anchor + new
 * period; a date that is thereby already past rotates on the scheduler's next pass.
 */
import { ServiceError } from '../errors';
import { assertCustomerManaged } from '../keys/aws-managed';
import { assertKeyState } from '../keys/key-states';
import {
  assertRotatableKind,
  assertRotationManageable,
  DAY_MS,
  DEFAULT_ROTATION_PERIOD_DAYS,
  changeRotationSettings,
} from '../keys/rotate';
import type { KeyPatch, KeyRecord } from '../store/store';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import type { TransactionRunner } from '../store/store';
import { authorizeKms } from './authorize';
import type { KmsAuthorizationStore } from './authorize';
import { KMS_OUTPUTS, type EnableKeyRotationOutput } from '../model/kms-outputs';

interface EnableKeyRotationInput {
  KeyId: string;
  RotationPeriodInDays?: number;
}

/** The settings patch for `key`, or undefined when nothing changes. */
function schedule(key: KeyRecord, days: number, now: number): KeyPatch | undefined {
  if (!key.rotationEnabled || key.nextRotationDate === null) {
    return { rotationEnabled: true, rotationPeriodInDays: days, nextRotationDate: now + days * DAY_MS };
  }
  const old = key.rotationPeriodInDays ?? DEFAULT_ROTATION_PERIOD_DAYS;
  if (old === days) return undefined;
  return { rotationPeriodInDays: days, nextRotationDate: key.nextRotationDate - old * DAY_MS + days * DAY_MS };
}

export const enableKeyRotation: Operation<EnableKeyRotationInput, EnableKeyRotationOutput, KmsAuthorizationStore & TransactionRunner> = {
  name: 'EnableKeyRotation',
  output: KMS_OUTPUTS.EnableKeyRotation,
  readOnly: false,
  input: KMS_INPUTS.EnableKeyRotation,
  async invoke(input, ctx, svc) {
    const days = input.RotationPeriodInDays ?? DEFAULT_ROTATION_PERIOD_DAYS;
    const { key } = await svc.keyring.resolve(input.KeyId, 'key', ctx.caller, ctx.region, 'kms:EnableKeyRotation');
    await authorizeKms(ctx, svc, { action: 'kms:EnableKeyRotation', key, conditions: { 'kms:RotationPeriodInDays': days } });
    assertCustomerManaged(key, 'kms:EnableKeyRotation', ctx.caller);
    assertRotationManageable(key);
    assertRotatableKind(key);
    // The state check, the schedule and the write in one transaction (issue 13).
    const now = svc.clock.now();
    const exists = await changeRotationSettings(svc.store, key, (current) => {
      assertKeyState(current, 'configure-rotation');
      return schedule(current, days, now);
    });
    if (!exists) throw new ServiceError('NotFoundException', `Key '${key.arn}' does not exist`);
    return undefined;
  },
};
