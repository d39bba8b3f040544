/** GenerateMac: an HMAC (RFC 2104) of a message under an HMAC key (API_GenerateMac.html). */
import { MAC_ALGORITHM_ENUM, macRequest, type MacInput } from './mac';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import type { KmsAuthorizationStore } from './authorize';
import { dryRunSucceeded } from './symmetric';
import { KMS_OUTPUTS, type GenerateMacOutput } from '../model/kms-outputs';

export const generateMac: Operation<MacInput, GenerateMacOutput, KmsAuthorizationStore> = {
  name: 'GenerateMac',
  output: KMS_OUTPUTS.GenerateMac,
  readOnly: true,
  input: KMS_INPUTS.GenerateMac,
  async invoke(input, ctx, svc) {
    try {
      const { key, alg } = await macRequest(input, 'kms:GenerateMac', ctx, svc);
      if (input.DryRun === true) throw dryRunSucceeded();
      const mac = await svc.backend.generateMac({ key, version: key.currentVersion }, alg, input.Message);
      return { Mac: mac, MacAlgorithm: alg.name, KeyId: key.arn };
    } finally {
      input.Message.fill(0);
    }
  },
};
