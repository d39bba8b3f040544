/** EnableKey: a Disabled key becomes Enabled (kms-reference.md §8, row EnableKey). */
import { ServiceError } from '../errors';
import { assertKeyState } from '../keys/key-states';
import type { Operation } from './operation';
import { S, structure } from './shape';

interface EnableKeyInput {
  KeyId: string;
}

/** Attempts before a state change that keeps losing races is reported as an internal error. */
const MAX_ATTEMPTS = 3;

export const enableKey: Operation<EnableKeyInput> = {
  name: 'EnableKey',
  readOnly: false,
  input: structure({ KeyId: S.keyId() }),
  async invoke(input, ctx, svc) {
    let { key } = await svc.keyring.resolve(input.KeyId, 'key', ctx.caller, ctx.region, 'kms:EnableKey');
    for (let attempt = 1; ; attempt++) {
      assertKeyState(key, 'toggle');
      // Unavailable: succeeds, but the state changes only when the key store reconnects (§8 [12]).
      if (key.state === 'Enabled' || key.state === 'Unavailable') return undefined;
      // Conditional on the state just checked, so a concurrent ScheduleKeyDeletion is never undone.
      const changed = await svc.store.updateKey(key.keyId, { state: 'Enabled' }, [key.state]);
      svc.keyring.forget(key.keyId);
      if (changed) return undefined;
      if (attempt === MAX_ATTEMPTS) throw new Error(`EnableKey lost ${MAX_ATTEMPTS} races on the state of ${key.keyId}`);
      const fresh = await svc.keyring.getKey(key.keyId);
      if (fresh === undefined) throw new ServiceError('NotFoundException', `Key '${key.arn}' does not exist`);
      key = fresh;
    }
  },
};
