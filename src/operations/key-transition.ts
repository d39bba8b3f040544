/**
 * A guarded change of one key: its state is checked and the change written in one transaction
 * on the locked row (issue 13), so a concurrent ScheduleKeyDeletion can never be undone by a
 * slower EnableKey or description update.
 */
import { ServiceError } from '../errors';
import { changeKeyRecord } from '../keys/guarded-writes';
import { assertKeyState, type StateRule } from '../keys/key-states';
import type { KeyPatch, KeyRecord } from '../store/store';
import type { Services } from './operation';
import type { TransactionRunner } from '../store/store';

/**
 * Applies `change(key)` (undefined = nothing to do) under `rule`; returns the key as written.
 */
export async function changeKey(
  svc: Services<TransactionRunner>,
  key: KeyRecord,
  rule: StateRule,
  change: (key: KeyRecord) => KeyPatch | undefined,
): Promise<KeyRecord> {
  const written = await changeKeyRecord(svc.store, key.arn, (current) => {
    assertKeyState(current, rule);
    return change(current);
  });
  if (written === undefined) throw new ServiceError('NotFoundException', `Key '${key.arn}' does not exist`);
  return written;
}
