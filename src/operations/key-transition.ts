/**
 * A guarded change of one key: check its state, write only if the state is still the one just
 * checked, and on a lost race re-read and decide again. A concurrent ScheduleKeyDeletion can
 * therefore never be undone by a slower EnableKey or description update.
 */
import { ServiceError } from '../errors';
import { assertKeyState, type StateRule } from '../keys/key-states';
import type { KeyPatch, KeyRecord } from '../store/store';
import type { Services } from './operation';

const MAX_ATTEMPTS = 3;

/**
 * Applies `change(key)` (undefined = nothing to do) under `rule`; returns the key as written.
 */
export async function changeKey(
  svc: Services,
  key: KeyRecord,
  rule: StateRule,
  change: (key: KeyRecord) => KeyPatch | undefined,
): Promise<KeyRecord> {
  let current = key;
  for (let attempt = 1; ; attempt++) {
    assertKeyState(current, rule);
    const patch = change(current);
    if (patch === undefined) return current;
    const changed = await svc.store.updateKey(current.arn, patch, [current.state]);
    svc.keyring.forget(current.arn);
    if (changed) return { ...current, ...patch };
    if (attempt === MAX_ATTEMPTS) throw new Error(`lost ${MAX_ATTEMPTS} races on the state of ${current.arn}`);
    const fresh = await svc.keyring.getKey(current.arn);
    if (fresh === undefined) throw new ServiceError('NotFoundException', `Key '${current.arn}' does not exist`);
    current = fresh;
  }
}
