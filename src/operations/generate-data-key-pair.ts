/** GenerateDataKeyPair: a key pair with its private key in plaintext and encrypted under a KMS key. */
import { generateDataKeyPair as generate, type DataKeyPairInput } from './data-key-pair';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';

export const generateDataKeyPair: Operation<DataKeyPairInput> = {
  name: 'GenerateDataKeyPair',
  readOnly: true,
  input: KMS_INPUTS.GenerateDataKeyPair,
  async invoke(input, ctx, svc) {
    const pair = await generate(input, 'kms:GenerateDataKeyPair', ctx, svc);
    try {
      return {
        PrivateKeyCiphertextBlob: pair.privateKeyCiphertext.toString('base64'),
        PrivateKeyPlaintext: pair.privateKey.toString('base64'),
        PublicKey: pair.publicKey.toString('base64'),
        KeyId: pair.keyArn,
        KeyPairSpec: input.KeyPairSpec,
      };
    } finally {
      pair.privateKey.fill(0);
    }
  },
};
