/**
 * PutKeyPolicy: replaces a key's policy (name "default" only), after the structural checks of
 * src/policy/key-policy.ts, the check that named principals exist and the policy-lockout safety
 * check that BypassPolicyLockoutSafetyCheck skips (src/operations/policy-lockout.ts).
 */
import { ServiceError } from '../errors';
import { assertCustomerManaged } from '../keys/aws-managed';
import { assertKeyState } from '../keys/key-states';
import { authorizeKms } from './authorize';
import type { KmsAuthorizationStore } from './authorize';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import type { KeyWriter } from '../store/store';
import { checkNewKeyPolicy } from './policy-lockout';
import { KMS_OUTPUTS, type PutKeyPolicyOutput } from '../model/kms-outputs';

interface PutKeyPolicyInput {
  KeyId: string;
  PolicyName?: string;
  Policy: string;
  BypassPolicyLockoutSafetyCheck?: boolean;
}

export const putKeyPolicy: Operation<PutKeyPolicyInput, PutKeyPolicyOutput, KmsAuthorizationStore & KeyWriter> = {
  name: 'PutKeyPolicy',
  output: KMS_OUTPUTS.PutKeyPolicy,
  readOnly: false,
  input: KMS_INPUTS.PutKeyPolicy,
  async invoke(input, ctx, svc) {
    const { key } = await svc.keyring.resolve(input.KeyId, 'key', ctx.caller, ctx.region, 'kms:PutKeyPolicy');
    const bypass = input.BypassPolicyLockoutSafetyCheck === true;
    await authorizeKms(ctx, svc, { action: 'kms:PutKeyPolicy', key, conditions: { 'kms:BypassPolicyLockoutSafetyCheck': bypass } });
    assertCustomerManaged(key, 'kms:PutKeyPolicy', ctx.caller);
    assertKeyState(key, 'any');
    const name = input.PolicyName ?? 'default';
    if (name !== 'default') throw new ServiceError('NotFoundException', `Policy ${name} does not exist on key ${key.arn}.`);
    await checkNewKeyPolicy(ctx, svc, { text: input.Policy, key, bypass });
    const changed = await svc.store.updateKey(key.arn, { policy: input.Policy });
    if (!changed) throw new ServiceError('NotFoundException', `Key '${key.arn}' does not exist`);
    return undefined;
  },
};
