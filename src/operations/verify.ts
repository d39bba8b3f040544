/**
 * Verify: checks a signature with an asymmetric SIGN_VERIFY key. An invalid signature is
 * KMSInvalidSignatureException, never `SignatureValid: false` (API_Verify.html).
 */
import { ServiceError } from '../errors';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import type { KmsAuthorizationStore } from './authorize';
import { MESSAGE_TYPES, SIGNING_ALGORITHM_ENUM, signingRequest, type SigningInput } from './signing';
import { dryRunSucceeded } from './symmetric';
import { KMS_OUTPUTS, type VerifyOutput } from '../model/kms-outputs';

interface VerifyInput extends SigningInput {
  Signature: Buffer;
}

export const verify: Operation<VerifyInput, VerifyOutput, KmsAuthorizationStore> = {
  name: 'Verify',
  output: KMS_OUTPUTS.Verify,
  readOnly: true,
  input: KMS_INPUTS.Verify,
  async invoke(input, ctx, svc) {
    try {
      const { key, alg, digest } = await signingRequest(input, 'kms:Verify', ctx, svc);
      if (input.DryRun === true) throw dryRunSucceeded();
      const valid = await svc.backend.verify({ key, version: key.currentVersion }, alg, input.Message, digest, input.Signature);
      if (!valid) throw new ServiceError('KMSInvalidSignatureException', 'The signature is not valid for the message, key and signing algorithm.');
      return { KeyId: key.arn, SignatureValid: true, SigningAlgorithm: alg.name };
    } finally {
      input.Message.fill(0);
    }
  },
};
