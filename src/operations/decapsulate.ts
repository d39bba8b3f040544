/**
 * Decapsulate: ML-KEM decapsulation (FIPS 203 ML-KEM.Decaps) of a ciphertext made to an
 * ENCAPSULATE_DECAPSULATE key's public key. A ciphertext of the wrong length for the key spec
 * is InvalidCiphertextException; one of the right length always decapsulates — to the secret, or
 * under FIPS 203's implicit rejection to an unrelated pseudorandom value — as AWS's model
 * implies (its errors name InvalidCiphertext only). The secret is in the response only.
 */
import { ServiceError } from '../errors';
import { KMS_INPUTS } from '../model/kms-inputs';
import { assertKeyUse, resolveAndAuthorize } from './key-use';
import type { Operation } from './operation';
import type { KmsAuthorizationStore } from './authorize';
import { KMS_OUTPUTS, type DecapsulateOutput } from '../model/kms-outputs';
import { dryRunSucceeded } from './symmetric';

interface DecapsulateInput {
  KeyId: string;
  SharedSecretCiphertextBlob: Buffer;
  EncapsulationAlgorithm: string;
  GrantTokens?: string[];
  DryRun?: boolean;
}

export const decapsulate: Operation<DecapsulateInput, DecapsulateOutput, KmsAuthorizationStore> = {
  name: 'Decapsulate',
  output: KMS_OUTPUTS.Decapsulate,
  readOnly: true,
  input: KMS_INPUTS.Decapsulate,
  async invoke(input, ctx, svc) {
    const { key } = await resolveAndAuthorize(
      input.KeyId,
      { action: 'kms:Decapsulate', grantTokens: input.GrantTokens, conditions: { 'kms:EncapsulationAlgorithm': input.EncapsulationAlgorithm } },
      ctx,
      svc,
    );
    assertKeyUse(key, 'ENCAPSULATE_DECAPSULATE', input.EncapsulationAlgorithm);
    if (input.DryRun === true) throw dryRunSucceeded();
    const secret = await svc.backend.decapsulate({ key, version: key.currentVersion }, input.SharedSecretCiphertextBlob);
    if (secret === undefined) {
      throw new ServiceError('InvalidCiphertextException', `The ciphertext is not a valid ${key.keySpec} encapsulation.`);
    }
    // Handed over: the encoder zeroes SharedSecret once written (src/protocol/json-encoder.ts).
    return { KeyId: key.arn, SharedSecret: secret, EncapsulationAlgorithm: input.EncapsulationAlgorithm };
  },
};
