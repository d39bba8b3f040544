/** DisableKey: an Enabled key becomes Disabled (kms-reference.md §8, row DisableKey). */
import { ServiceError } from '../errors';
import { assertKeyState } from '../keys/key-states';
import type { Operation } from './operation';
import { S, structure } from './shape';

interface DisableKeyInput {
  KeyId: string;
}

/** Attempts before a state change that keeps losing races is reported as an internal error. */
const MAX_ATTEMPTS = 3;

export const disableKey: Operation<DisableKeyInput> = {
  name: 'DisableKey',
  readOnly: false,
  input: structure({ KeyId: S.keyId() }),
  async invoke(input, ctx, svc) {
    let { key } = await svc.keyring.resolve(input.KeyId, 'key', ctx.caller, ctx.region, 'kms:DisableKey');
    for (let attempt = 1; ; attempt++) {
      assertKeyState(key, 'toggle');
      // Unavailable: succeeds, but the state changes only when the key store reconnects (§8 [12]).
      if (key.state === 'Disabled' || key.state === 'Unavailable') return undefined;
      // Conditional on the state just checked, so a concurrent ScheduleKeyDeletion is never undone.
      const changed = await svc.store.updateKey(key.keyId, { state: 'Disabled' }, [key.state]);
      svc.keyring.forget(key.keyId);
      if (changed) return undefined;
      if (attempt === MAX_ATTEMPTS) throw new Error(`DisableKey lost ${MAX_ATTEMPTS} races on the state of ${key.keyId}`);
      const fresh = await svc.keyring.getKey(key.keyId);
      if (fresh === undefined) throw new ServiceError('NotFoundException', `Key '${key.arn}' does not exist`);
      key = fresh;
    }
  },
};
