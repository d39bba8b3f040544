/** GenerateDataKeyPair: a key pair with its private key in plaintext and encrypted under a KMS key. */
import { generateDataKeyPair as generate, type DataKeyPairInput } from './data-key-pair';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import type { KmsAuthorizationStore } from './authorize';
import { KMS_OUTPUTS, type GenerateDataKeyPairOutput } from '../model/kms-outputs';

export const generateDataKeyPair: Operation<DataKeyPairInput, GenerateDataKeyPairOutput, KmsAuthorizationStore> = {
  name: 'GenerateDataKeyPair',
  output: KMS_OUTPUTS.GenerateDataKeyPair,
  readOnly: true,
  input: KMS_INPUTS.GenerateDataKeyPair,
  async invoke(input, ctx, svc) {
    const pair = await generate(input, 'kms:GenerateDataKeyPair', ctx, svc);
    // Handed over: the encoder zeroes PrivateKeyPlaintext once written (src/protocol/json-encoder.ts).
    return {
      PrivateKeyCiphertextBlob: pair.privateKeyCiphertext,
      PrivateKeyPlaintext: pair.privateKey,
      PublicKey: pair.publicKey,
      KeyId: pair.keyArn,
      KeyPairSpec: input.KeyPairSpec,
    };
  },
};
