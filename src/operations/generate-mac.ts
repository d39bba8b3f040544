/** GenerateMac: an HMAC (RFC 2104) of a message under an HMAC key (API_GenerateMac.html). */
import { MAC_ALGORITHM_ENUM, macRequest, type MacInput } from './mac';
import type { Operation } from './operation';
import { S, structure } from './shape';
import { dryRunSucceeded } from './symmetric';

export const generateMac: Operation<MacInput> = {
  name: 'GenerateMac',
  readOnly: true,
  input: structure({
    Message: S.plaintext(),
    KeyId: S.keyId(),
    MacAlgorithm: { type: 'string', enum: MAC_ALGORITHM_ENUM, required: true },
    GrantTokens: S.grantTokens(),
    DryRun: S.dryRun(),
  }),
  async invoke(input, ctx, svc) {
    try {
      const { key, alg } = await macRequest(input, 'kms:GenerateMac', ctx, svc);
      if (input.DryRun === true) throw dryRunSucceeded();
      const mac = await svc.backend.generateMac({ key, version: key.currentVersion }, alg, input.Message);
      return { Mac: mac.toString('base64'), MacAlgorithm: alg.name, KeyId: key.arn };
    } finally {
      input.Message.fill(0);
    }
  },
};
