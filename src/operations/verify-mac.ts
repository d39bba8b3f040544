/**
 * VerifyMac: recomputes the HMAC and compares in constant time. A mismatch is
 * KMSInvalidMacException, never `MacValid: false` (API_VerifyMac.html).
 */
import { ServiceError } from '../errors';
import { MAC_ALGORITHM_ENUM, macRequest, type MacInput } from './mac';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import type { KmsAuthorizationStore } from './authorize';
import { dryRunSucceeded } from './symmetric';
import { KMS_OUTPUTS, type VerifyMacOutput } from '../model/kms-outputs';

interface VerifyMacInput extends MacInput {
  Mac: Buffer;
}

export const verifyMac: Operation<VerifyMacInput, VerifyMacOutput, KmsAuthorizationStore> = {
  name: 'VerifyMac',
  output: KMS_OUTPUTS.VerifyMac,
  readOnly: true,
  input: KMS_INPUTS.VerifyMac,
  async invoke(input, ctx, svc) {
    try {
      const { key, alg } = await macRequest(input, 'kms:VerifyMac', ctx, svc);
      if (input.DryRun === true) throw dryRunSucceeded();
      const valid = await svc.backend.verifyMac({ key, version: key.currentVersion }, alg, input.Message, input.Mac);
      if (!valid) throw new ServiceError('KMSInvalidMacException', 'The MAC is not valid for the message, key and MAC algorithm.');
      return { KeyId: key.arn, MacValid: true, MacAlgorithm: alg.name };
    } finally {
      input.Message.fill(0);
    }
  },
};
