/** GetKeyPolicy: a key's policy document; the only policy name is "default" (kms-reference.md §3). */
import { ServiceError } from '../errors';
import { assertKeyState } from '../keys/key-states';
import type { Operation } from './operation';
import { S, structure } from './shape';
import { authorizeKms } from './authorize';

interface GetKeyPolicyInput {
  KeyId: string;
  PolicyName?: string;
}

export const getKeyPolicy: Operation<GetKeyPolicyInput> = {
  name: 'GetKeyPolicy',
  readOnly: true,
  input: structure({ KeyId: S.keyId(), PolicyName: S.policyName() }),
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
