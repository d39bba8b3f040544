/**
 * ScheduleKeyDeletion: the key becomes PendingDeletion and is deleted by the scheduler after a
 * 7–30 day window (kms-reference.md §14.2). The model allows 1–365 days; AWS documents and
 * enforces 7–30 (§6 PendingWindowInDaysType, §15 #2).
 */
import { ServiceError } from '../errors';
import { assertKeyState } from '../keys/key-states';
import { epochSeconds, type Operation } from './operation';
import { S, structure } from './shape';

interface ScheduleKeyDeletionInput {
  KeyId: string;
  PendingWindowInDays?: number;
}

const MIN_WINDOW_DAYS = 7;
const MAX_WINDOW_DAYS = 30;
const DEFAULT_WINDOW_DAYS = 30;
const DAY_MS = 86_400_000;
/** Attempts before a change that keeps losing races is reported as an internal error. */
const MAX_ATTEMPTS = 3;

function windowError(constraint: string): ServiceError {
  return new ServiceError(
    'ValidationException',
    `1 validation error detected: Value at 'pendingWindowInDays' failed to satisfy constraint: Member must have value ${constraint}`,
  );
}

export const scheduleKeyDeletion: Operation<ScheduleKeyDeletionInput> = {
  name: 'ScheduleKeyDeletion',
  readOnly: false,
  input: structure({
    KeyId: S.keyId(),
    PendingWindowInDays: { type: 'integer', min: 1, max: 365 },
  }),
  async invoke(input, ctx, svc) {
    const days = input.PendingWindowInDays ?? DEFAULT_WINDOW_DAYS;
    if (days < MIN_WINDOW_DAYS) throw windowError(`greater than or equal to ${MIN_WINDOW_DAYS}`);
    if (days > MAX_WINDOW_DAYS) throw windowError(`less than or equal to ${MAX_WINDOW_DAYS}`);
    let { key } = await svc.keyring.resolve(input.KeyId, 'key', ctx.caller, ctx.region, 'kms:ScheduleKeyDeletion');
    if (key.keyManager === 'AWS') {
      throw new ServiceError('UnsupportedOperationException', `${key.arn} is an AWS managed key, which cannot be deleted.`);
    }
    for (let attempt = 1; ; attempt++) {
      assertKeyState(key, 'schedule-deletion');
      const deletionDate = svc.clock.now() + days * DAY_MS;
      // Conditional on the state just checked, so a concurrent change of state cannot be lost.
      const changed = await svc.store.updateKey(
        key.keyId,
        { state: 'PendingDeletion', deletionDate, pendingWindowInDays: days },
        [key.state],
      );
      svc.keyring.forget(key.keyId);
      if (changed) {
        return { KeyId: key.arn, DeletionDate: epochSeconds(deletionDate), KeyState: 'PendingDeletion', PendingWindowInDays: days };
      }
      if (attempt === MAX_ATTEMPTS) throw new Error(`ScheduleKeyDeletion lost ${MAX_ATTEMPTS} races on the state of ${key.keyId}`);
      const fresh = await svc.keyring.getKey(key.keyId);
      if (fresh === undefined) throw new ServiceError('NotFoundException', `Key '${key.arn}' does not exist`);
      key = fresh;
    }
  },
};
