/**
 * PutKeyPolicy: replaces a key's policy (name "default" only), after the structural checks of
 * validateKeyPolicy. The policy-lockout safety check that BypassPolicyLockoutSafetyCheck skips
 * arrives with policy enforcement; until then the flag is accepted and has no effect.
 */
import { ServiceError } from '../errors';
import { assertCustomerManaged } from '../keys/aws-managed';
import { assertKeyState } from '../keys/key-states';
import { validateKeyPolicy } from '../policy/key-policy';
import type { Operation } from './operation';
import { S, structure } from './shape';

interface PutKeyPolicyInput {
  KeyId: string;
  PolicyName?: string;
  Policy: string;
  BypassPolicyLockoutSafetyCheck?: boolean;
}

export const putKeyPolicy: Operation<PutKeyPolicyInput> = {
  name: 'PutKeyPolicy',
  readOnly: false,
  input: structure({
    KeyId: S.keyId(),
    PolicyName: S.policyName(),
    Policy: S.policy(true),
    BypassPolicyLockoutSafetyCheck: { type: 'boolean' },
  }),
  async invoke(input, ctx, svc) {
    const { key } = await svc.keyring.resolve(input.KeyId, 'key', ctx.caller, ctx.region, 'kms:PutKeyPolicy');
    assertCustomerManaged(key, 'kms:PutKeyPolicy', ctx.caller);
    assertKeyState(key, 'any');
    const name = input.PolicyName ?? 'default';
    if (name !== 'default') throw new ServiceError('NotFoundException', `Policy ${name} does not exist on key ${key.arn}.`);
    validateKeyPolicy(input.Policy);
    const changed = await svc.store.updateKey(key.arn, { policy: input.Policy });
    svc.keyring.forget(key.arn);
    if (!changed) throw new ServiceError('NotFoundException', `Key '${key.arn}' does not exist`);
    return undefined;
  },
};
