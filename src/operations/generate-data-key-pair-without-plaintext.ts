/** GenerateDataKeyPairWithoutPlaintext: a key pair whose private key is returned only encrypted. */
import { generateDataKeyPair as generate, type DataKeyPairInput } from './data-key-pair';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';

export const generateDataKeyPairWithoutPlaintext: Operation<DataKeyPairInput> = {
  name: 'GenerateDataKeyPairWithoutPlaintext',
  readOnly: true,
  input: KMS_INPUTS.GenerateDataKeyPairWithoutPlaintext,
  async invoke(input, ctx, svc) {
    const pair = await generate(input, 'kms:GenerateDataKeyPairWithoutPlaintext', ctx, svc);
    pair.privateKey.fill(0);
    return {
      PrivateKeyCiphertextBlob: pair.privateKeyCiphertext.toString('base64'),
      PublicKey: pair.publicKey.toString('base64'),
      KeyId: pair.keyArn,
      KeyPairSpec: input.KeyPairSpec,
    };
  },
};
