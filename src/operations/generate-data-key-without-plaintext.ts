/** GenerateDataKeyWithoutPlaintext: a fresh data key, returned only encrypted. */
import type { Operation } from './operation';
import { DATA_KEY_INPUT, generateDataKey, type DataKeyInput } from './data-key';

export const generateDataKeyWithoutPlaintext: Operation<DataKeyInput> = {
  name: 'GenerateDataKeyWithoutPlaintext',
  readOnly: true,
  input: DATA_KEY_INPUT,
  async invoke(input, ctx, svc) {
    const { plaintext, ciphertext, keyArn } = await generateDataKey(input, 'kms:GenerateDataKeyWithoutPlaintext', ctx, svc);
    plaintext.fill(0);
    return { CiphertextBlob: ciphertext.toString('base64'), KeyId: keyArn };
  },
};
