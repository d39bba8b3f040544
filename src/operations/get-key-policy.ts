/** GetKeyPolicy: a key's policy document; the only policy name is "default" (kms-reference.md §3). */
import { ServiceError } from '../errors';
import { assertKeyState } from '../keys/key-states';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import { authorizeKms } from './authorize';
import type { KmsAuthorizationStore } from './authorize';
import { KMS_OUTPUTS, type GetKeyPolicyOutput } from '../model/kms-outputs';

interface GetKeyPolicyInput {
  KeyId: string;
  PolicyName?: string;
}

export const getKeyPolicy: Operation<GetKeyPolicyInput, GetKeyPolicyOutput, KmsAuthorizationStore> = {
  name: 'GetKeyPolicy',
  output: KMS_OUTPUTS.GetKeyPolicy,
  readOnly: true,
  input: KMS_INPUTS.GetKeyPolicy,
  async invoke(input, ctx, svc) {
    const { key } = await svc.keyring.resolve(input.KeyId, 'key', ctx.caller, ctx.region, 'kms:GetKeyPolicy');
    await authorizeKms(ctx, svc, { action: 'kms:GetKeyPolicy', key });
    assertKeyState(key, 'any');
    // Optional since the model made it so; absent means "default" (kms-reference.md §3, note on 1.29).
    const name = input.PolicyName ?? 'default';
    if (name !== 'default') throw new ServiceError('NotFoundException', `Policy ${name} does not exist on key ${key.arn}.`);
    return { Policy: key.policy, PolicyName: name };
  },
};
