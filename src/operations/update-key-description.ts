/** UpdateKeyDescription: replaces a key's description; refused while the key is pending deletion. */
import { ServiceError } from '../errors';
import { assertKeyState } from '../keys/key-states';
import type { Operation } from './operation';
import { S, structure } from './shape';

interface UpdateKeyDescriptionInput {
  KeyId: string;
  Description: string;
}

/** Attempts before a change that keeps losing races is reported as an internal error. */
const MAX_ATTEMPTS = 3;

export const updateKeyDescription: Operation<UpdateKeyDescriptionInput> = {
  name: 'UpdateKeyDescription',
  readOnly: false,
  input: structure({ KeyId: S.keyId(), Description: S.description(true) }),
  async invoke(input, ctx, svc) {
    let { key } = await svc.keyring.resolve(input.KeyId, 'key', ctx.caller, ctx.region, 'kms:UpdateKeyDescription');
    for (let attempt = 1; ; attempt++) {
      assertKeyState(key, 'modify');
      // Conditional on the state just checked: a key scheduled for deletion meanwhile is not changed.
      const changed = await svc.store.updateKey(key.keyId, { description: input.Description }, [key.state]);
      svc.keyring.forget(key.keyId);
      if (changed) return undefined;
      if (attempt === MAX_ATTEMPTS) throw new Error(`UpdateKeyDescription lost ${MAX_ATTEMPTS} races on the state of ${key.keyId}`);
      const fresh = await svc.keyring.getKey(key.keyId);
      if (fresh === undefined) throw new ServiceError('NotFoundException', `Key '${key.arn}' does not exist`);
      key = fresh;
    }
  },
};
