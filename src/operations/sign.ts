/** Sign: a signature by an asymmetric SIGN_VERIFY key over a message or its digest (API_Sign.html). */
import type { Operation } from './operation';
import { S, structure } from './shape';
import { MESSAGE_TYPES, SIGNING_ALGORITHM_ENUM, signingRequest, type SigningInput } from './signing';
import { dryRunSucceeded } from './symmetric';

export const sign: Operation<SigningInput> = {
  name: 'Sign',
  readOnly: true,
  input: structure({
    KeyId: S.keyId(),
    Message: S.plaintext(),
    MessageType: { type: 'string', enum: MESSAGE_TYPES },
    GrantTokens: S.grantTokens(),
    SigningAlgorithm: { type: 'string', enum: SIGNING_ALGORITHM_ENUM, required: true },
    DryRun: S.dryRun(),
  }),
  async invoke(input, ctx, svc) {
    try {
      const { key, alg, digest } = await signingRequest(input, 'kms:Sign', ctx, svc);
      if (input.DryRun === true) throw dryRunSucceeded();
      const signature = await svc.backend.sign({ key, version: key.currentVersion }, alg, input.Message, digest);
      return { KeyId: key.arn, Signature: signature.toString('base64'), SigningAlgorithm: alg.name };
    } finally {
      input.Message.fill(0);
    }
  },
};
