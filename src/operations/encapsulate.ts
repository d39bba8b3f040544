/**
 * Encapsulate: ML-KEM encapsulation (FIPS 203 ML-KEM.Encaps) to the public key of an
 * ENCAPSULATE_DECAPSULATE key: a fresh 32-byte shared secret and its ciphertext, which Decapsulate
 * (or anyone holding the private key) turns back into the secret (API_Encapsulate, @aws-sdk/client-kms
 * 3.1164 model). The secret is in the response only: audit records drop blob members.
 */
import { KMS_INPUTS } from '../model/kms-inputs';
import { assertKeyUse, resolveAndAuthorize } from './key-use';
import type { Operation } from './operation';
import type { KmsAuthorizationStore } from './authorize';
import { KMS_OUTPUTS, type EncapsulateOutput } from '../model/kms-outputs';
import { dryRunSucceeded } from './symmetric';

interface EncapsulateInput {
  KeyId: string;
  EncapsulationAlgorithm: string;
  GrantTokens?: string[];
  DryRun?: boolean;
}

export const encapsulate: Operation<EncapsulateInput, EncapsulateOutput, KmsAuthorizationStore> = {
  name: 'Encapsulate',
  output: KMS_OUTPUTS.Encapsulate,
  readOnly: true,
  input: KMS_INPUTS.Encapsulate,
  async invoke(input, ctx, svc) {
    const { key } = await resolveAndAuthorize(
      input.KeyId,
      { action: 'kms:Encapsulate', grantTokens: input.GrantTokens, conditions: { 'kms:EncapsulationAlgorithm': input.EncapsulationAlgorithm } },
      ctx,
      svc,
    );
    assertKeyUse(key, 'ENCAPSULATE_DECAPSULATE', input.EncapsulationAlgorithm);
    if (input.DryRun === true) throw dryRunSucceeded();
    const { ciphertext, sharedSecret } = await svc.backend.encapsulate({ key, version: key.currentVersion });
    // Handed over: the encoder zeroes SharedSecret once written (src/protocol/json-encoder.ts).
    return {
      KeyId: key.arn,
      SharedSecret: sharedSecret,
      SharedSecretCiphertextBlob: ciphertext,
      EncapsulationAlgorithm: input.EncapsulationAlgorithm,
    };
  },
};
