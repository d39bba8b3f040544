/** GenerateDataKey: a fresh data key, in plaintext and encrypted under a KMS key. */
import { rejectUnsupportedMembers } from './unsupported-members';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import type { KmsAuthorizationStore } from './authorize';
import { generateDataKey as generate, type DataKeyInput } from './data-key';
import { KMS_OUTPUTS, type GenerateDataKeyOutput } from '../model/kms-outputs';

export const generateDataKey: Operation<DataKeyInput, GenerateDataKeyOutput, KmsAuthorizationStore> = {
  name: 'GenerateDataKey',
  output: KMS_OUTPUTS.GenerateDataKey,
  readOnly: true,
  input: KMS_INPUTS.GenerateDataKey,
  async invoke(input, ctx, svc) {
    rejectUnsupportedMembers('GenerateDataKey', input, ['Recipient']);
    const { plaintext, ciphertext, keyArn } = await generate(input, 'kms:GenerateDataKey', ctx, svc);
    // Handed over: the encoder zeroes Plaintext once written (src/protocol/json-encoder.ts).
    return { CiphertextBlob: ciphertext, Plaintext: plaintext, KeyId: keyArn };
  },
};
