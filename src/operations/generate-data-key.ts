/** GenerateDataKey: a fresh data key, in plaintext and encrypted under a KMS key. */
import type { Operation } from './operation';
import { DATA_KEY_INPUT, generateDataKey as generate, type DataKeyInput } from './data-key';

export const generateDataKey: Operation<DataKeyInput> = {
  name: 'GenerateDataKey',
  readOnly: true,
  input: DATA_KEY_INPUT,
  async invoke(input, ctx, svc) {
    const { plaintext, ciphertext, keyArn } = await generate(input, 'kms:GenerateDataKey', ctx, svc);
    try {
      return { CiphertextBlob: ciphertext.toString('base64'), Plaintext: plaintext.toString('base64'), KeyId: keyArn };
    } finally {
      plaintext.fill(0);
    }
  },
};
