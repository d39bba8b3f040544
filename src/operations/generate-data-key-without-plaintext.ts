/** GenerateDataKeyWithoutPlaintext: a fresh data key, returned only encrypted. */
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import type { KmsAuthorizationStore } from './authorize';
import { generateDataKey, type DataKeyInput } from './data-key';
import { KMS_OUTPUTS, type GenerateDataKeyWithoutPlaintextOutput } from '../model/kms-outputs';

export const generateDataKeyWithoutPlaintext: Operation<DataKeyInput, GenerateDataKeyWithoutPlaintextOutput, KmsAuthorizationStore> = {
  name: 'GenerateDataKeyWithoutPlaintext',
  output: KMS_OUTPUTS.GenerateDataKeyWithoutPlaintext,
  readOnly: true,
  input: KMS_INPUTS.GenerateDataKeyWithoutPlaintext,
  async invoke(input, ctx, svc) {
    const { plaintext, ciphertext, keyArn } = await generateDataKey(input, 'kms:GenerateDataKeyWithoutPlaintext', ctx, svc);
    plaintext.fill(0);
    return { CiphertextBlob: ciphertext, KeyId: keyArn };
  },
};
