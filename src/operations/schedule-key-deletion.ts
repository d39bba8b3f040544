/**
 * ScheduleKeyDeletion: the key becomes PendingDeletion and is deleted by the scheduler after a
 * 7–30 day window (kms-reference.md §14.2). The model allows 1–365 days; AWS documents and
 * enforces 7–30 (§6 PendingWindowInDaysType, §15 #2).
 */
import { KMS_INPUTS } from '../model/kms-inputs';
import { ServiceError } from '../errors';
import { assertCustomerManaged } from '../keys/aws-managed';
import { changeKey } from './key-transition';
import type { Operation } from './operation';
import type { KeyReader, TransactionRunner } from '../store/store';
import { authorizeKms } from './authorize';
import type { KmsAuthorizationStore } from './authorize';
import { KMS_OUTPUTS, type ScheduleKeyDeletionOutput } from '../model/kms-outputs';

interface ScheduleKeyDeletionInput {
  KeyId: string;
  PendingWindowInDays?: number;
}

const MIN_WINDOW_DAYS = 7;
const MAX_WINDOW_DAYS = 30;
const DEFAULT_WINDOW_DAYS = 30;
const DAY_MS = 86_400_000;

function windowError(days: number, constraint: string): ServiceError {
  return new ServiceError(
    'ValidationException',
    `1 validation error detected: Value '${days}' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value ${constraint}`,
  );
}

export const scheduleKeyDeletion: Operation<ScheduleKeyDeletionInput, ScheduleKeyDeletionOutput, KmsAuthorizationStore & KeyReader & TransactionRunner> = {
  name: 'ScheduleKeyDeletion',
  output: KMS_OUTPUTS.ScheduleKeyDeletion,
  readOnly: false,
  input: KMS_INPUTS.ScheduleKeyDeletion,
  async invoke(input, ctx, svc) {
    const days = input.PendingWindowInDays ?? DEFAULT_WINDOW_DAYS;
    if (days < MIN_WINDOW_DAYS) throw windowError(days, `greater than or equal to ${MIN_WINDOW_DAYS}`);
    if (days > MAX_WINDOW_DAYS) throw windowError(days, `less than or equal to ${MAX_WINDOW_DAYS}`);
    const { key } = await svc.keyring.resolve(input.KeyId, 'key', ctx.caller, ctx.region, 'kms:ScheduleKeyDeletion');
    await authorizeKms(ctx, svc, { action: 'kms:ScheduleKeyDeletion', key, conditions: { 'kms:ScheduleKeyDeletionPendingWindowInDays': days } });
    assertCustomerManaged(key, 'kms:ScheduleKeyDeletion', ctx.caller);
    // A multi-Region primary with replicas waits in PendingReplicaDeletion; its window starts when
    // the last replica is deleted (lifecycle/deletion-job.ts; ScheduleKeyDeletion API reference).
    if (key.multiRegionKeyType === 'PRIMARY' && (await svc.store.listRelatedKeys(key.accountId, key.keyId)).length > 1) {
      await changeKey(svc, key, 'schedule-deletion', () => ({ state: 'PendingReplicaDeletion', deletionDate: null, pendingWindowInDays: days }));
      return { KeyId: key.arn, KeyState: 'PendingReplicaDeletion', PendingWindowInDays: days };
    }
    const deletionDate = svc.clock.now() + days * DAY_MS;
    await changeKey(svc, key, 'schedule-deletion', () => ({ state: 'PendingDeletion', deletionDate, pendingWindowInDays: days }));
    return { KeyId: key.arn, DeletionDate: deletionDate, KeyState: 'PendingDeletion', PendingWindowInDays: days };
  },
};
