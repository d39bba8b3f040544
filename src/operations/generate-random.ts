/** GenerateRandom: 1–1024 random bytes from the operating system's CSPRNG. */
import { rejectUnsupportedMembers } from './unsupported-members';
import { randomBytes } from 'node:crypto';
import { ServiceError } from '../errors';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import { authorizeKms } from './authorize';

interface GenerateRandomInput {
  NumberOfBytes?: number;
  CustomKeyStoreId?: string;
}

export const generateRandom: Operation<GenerateRandomInput> = {
  name: 'GenerateRandom',
  readOnly: true,
  input: KMS_INPUTS.GenerateRandom,
  async invoke(input, ctx, svc) {
    rejectUnsupportedMembers('GenerateRandom', input, ['Recipient']);
    if (input.CustomKeyStoreId !== undefined) {
      throw new ServiceError('CustomKeyStoreNotFoundException', `Custom key store ${input.CustomKeyStoreId} does not exist.`);
    }
    if (input.NumberOfBytes === undefined) {
      // Optional in the model, but AWS documents no default and refuses a request without it.
      throw new ServiceError(
        'ValidationException',
        "1 validation error detected: Value null at 'numberOfBytes' failed to satisfy constraint: Member must not be null",
      );
    }
    await authorizeKms(ctx, svc, { action: 'kms:GenerateRandom' });
    const bytes = randomBytes(input.NumberOfBytes);
    try {
      return { Plaintext: bytes.toString('base64') };
    } finally {
      bytes.fill(0);
    }
  },
};
