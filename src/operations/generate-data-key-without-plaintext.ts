/** GenerateDataKeyWithoutPlaintext: a fresh data key, returned only encrypted. */
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import { generateDataKey, type DataKeyInput } from './data-key';

export const generateDataKeyWithoutPlaintext: Operation<DataKeyInput> = {
  name: 'GenerateDataKeyWithoutPlaintext',
  readOnly: true,
  input: KMS_INPUTS.GenerateDataKeyWithoutPlaintext,
  async invoke(input, ctx, svc) {
    const { plaintext, ciphertext, keyArn } = await generateDataKey(input, 'kms:GenerateDataKeyWithoutPlaintext', ctx, svc);
    plaintext.fill(0);
    return { CiphertextBlob: ciphertext.toString('base64'), KeyId: keyArn };
  },
};
