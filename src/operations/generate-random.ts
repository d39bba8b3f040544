/** GenerateRandom: 1–1024 random bytes from the operating system's CSPRNG. */
import { rejectUnsupportedMembers } from './unsupported-members';
import { randomBytes } from 'node:crypto';
import { ServiceError } from '../errors';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import { authorizeKms } from './authorize';
import type { KmsAuthorizationStore } from './authorize';
import { KMS_OUTPUTS, type GenerateRandomOutput } from '../model/kms-outputs';

interface GenerateRandomInput {
  NumberOfBytes?: number;
  CustomKeyStoreId?: string;
}

export const generateRandom: Operation<GenerateRandomInput, GenerateRandomOutput, KmsAuthorizationStore> = {
  name: 'GenerateRandom',
  output: KMS_OUTPUTS.GenerateRandom,
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
    // Handed over: the encoder zeroes Plaintext once written (src/protocol/json-encoder.ts).
    return { Plaintext: randomBytes(input.NumberOfBytes) };
  },
};
