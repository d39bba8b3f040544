/** GenerateDataKeyPairWithoutPlaintext: a key pair whose private key is returned only encrypted. */
import { generateDataKeyPair as generate, type DataKeyPairInput } from './data-key-pair';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import type { KmsAuthorizationStore } from './authorize';
import { KMS_OUTPUTS, type GenerateDataKeyPairWithoutPlaintextOutput } from '../model/kms-outputs';

export const generateDataKeyPairWithoutPlaintext: Operation<DataKeyPairInput, GenerateDataKeyPairWithoutPlaintextOutput, KmsAuthorizationStore> = {
  name: 'GenerateDataKeyPairWithoutPlaintext',
  output: KMS_OUTPUTS.GenerateDataKeyPairWithoutPlaintext,
  readOnly: true,
  input: KMS_INPUTS.GenerateDataKeyPairWithoutPlaintext,
  async invoke(input, ctx, svc) {
    const pair = await generate(input, 'kms:GenerateDataKeyPairWithoutPlaintext', ctx, svc);
    pair.privateKey.fill(0);
    return {
      PrivateKeyCiphertextBlob: pair.privateKeyCiphertext,
      PublicKey: pair.publicKey,
      KeyId: pair.keyArn,
      KeyPairSpec: input.KeyPairSpec,
    };
  },
};
