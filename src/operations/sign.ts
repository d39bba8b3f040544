/** Sign: a signature by an asymmetric SIGN_VERIFY key over a message or its digest (API_Sign.html). */
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import type { KmsAuthorizationStore } from './authorize';
import { MESSAGE_TYPES, SIGNING_ALGORITHM_ENUM, signingRequest, type SigningInput } from './signing';
import { dryRunSucceeded } from './symmetric';
import { KMS_OUTPUTS, type SignOutput } from '../model/kms-outputs';

export const sign: Operation<SigningInput, SignOutput, KmsAuthorizationStore> = {
  name: 'Sign',
  output: KMS_OUTPUTS.Sign,
  readOnly: true,
  input: KMS_INPUTS.Sign,
  async invoke(input, ctx, svc) {
    try {
      const { key, alg, digest } = await signingRequest(input, 'kms:Sign', ctx, svc);
      if (input.DryRun === true) throw dryRunSucceeded();
      const signature = await svc.backend.sign({ key, version: key.currentVersion }, alg, input.Message, digest);
      return { KeyId: key.arn, Signature: signature, SigningAlgorithm: alg.name };
    } finally {
      input.Message.fill(0);
    }
  },
};
