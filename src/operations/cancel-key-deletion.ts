/**
 * CancelKeyDeletion: a key pending deletion becomes Disabled, not Enabled (kms-reference.md §3
 * row 1, §8 footnote [4]).
 */
import { ServiceError } from '../errors';
import { assertKeyState } from '../keys/key-states';
import type { Operation } from './operation';
import { S, structure } from './shape';

interface CancelKeyDeletionInput {
  KeyId: string;
}

/** Attempts before a change that keeps losing races is reported as an internal error. */
const MAX_ATTEMPTS = 3;

export const cancelKeyDeletion: Operation<CancelKeyDeletionInput> = {
  name: 'CancelKeyDeletion',
  readOnly: false,
  input: structure({ KeyId: S.keyId() }),
  async invoke(input, ctx, svc) {
    let { key } = await svc.keyring.resolve(input.KeyId, 'key', ctx.caller, ctx.region, 'kms:CancelKeyDeletion');
    for (let attempt = 1; ; attempt++) {
      assertKeyState(key, 'cancel-deletion');
      // Conditional on the state just checked: the scheduler may be deleting the key right now.
      const changed = await svc.store.updateKey(
        key.keyId,
        { state: 'Disabled', deletionDate: null, pendingWindowInDays: null },
        [key.state],
      );
      svc.keyring.forget(key.keyId);
      if (changed) return { KeyId: key.arn };
      if (attempt === MAX_ATTEMPTS) throw new Error(`CancelKeyDeletion lost ${MAX_ATTEMPTS} races on the state of ${key.keyId}`);
      const fresh = await svc.keyring.getKey(key.keyId);
      if (fresh === undefined) throw new ServiceError('NotFoundException', `Key '${key.arn}' does not exist`);
      key = fresh;
    }
  },
};
