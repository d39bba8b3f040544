/** GenerateDataKey: a fresh data key, in plaintext and encrypted under a KMS key. */
import { rejectUnsupportedMembers } from './unsupported-members';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import { generateDataKey as generate, type DataKeyInput } from './data-key';

export const generateDataKey: Operation<DataKeyInput> = {
  name: 'GenerateDataKey',
  readOnly: true,
  input: KMS_INPUTS.GenerateDataKey,
  async invoke(input, ctx, svc) {
    rejectUnsupportedMembers('GenerateDataKey', input, ['Recipient']);
    const { plaintext, ciphertext, keyArn } = await generate(input, 'kms:GenerateDataKey', ctx, svc);
    try {
      return { CiphertextBlob: ciphertext.toString('base64'), Plaintext: plaintext.toString('base64'), KeyId: keyArn };
    } finally {
      plaintext.fill(0);
    }
  },
};
