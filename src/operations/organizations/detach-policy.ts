/**
 * Organizations DetachPolicy: detaches an SCP from the root or an account; a target must keep at
 * least one SCP (detach FullAWSAccess only after attaching an allow list), as in AWS.
 */
import { ServiceError } from '../../errors';
import type { Operation } from '../operation';
import { orgCall, requireOrgPolicy, requireTarget, type OrgStore } from './org-common';
import { ORGANIZATIONS_INPUTS } from '../../model/organizations-inputs';
import { ORGANIZATIONS_OUTPUTS, type DetachPolicyOutput } from '../../model/organizations-outputs';

interface Input {
  readonly PolicyId: string;
  readonly TargetId: string;
}

export const detachPolicy: Operation<Input, DetachPolicyOutput, OrgStore> = {
  name: 'DetachPolicy',
  output: ORGANIZATIONS_OUTPUTS.DetachPolicy,
  input: ORGANIZATIONS_INPUTS.DetachPolicy,
  readOnly: false,
  async invoke(input, ctx, svc) {
    const { org } = await orgCall(ctx, svc, 'DetachPolicy');
    const policy = await requireOrgPolicy(svc, org, input.PolicyId);
    await requireTarget(svc, org, input.TargetId);
    const attached = await svc.store.identity.listOrgPoliciesForTarget(org.id, input.TargetId, policy.type);
    if (!attached.some((p) => p.id === policy.id)) {
      throw new ServiceError('PolicyNotAttachedException', 'The policy is not attached to the target that you specified.');
    }
    if (attached.length === 1) {
      throw new ServiceError('ConstraintViolationException', 'You attempted to detach a policy from an entity that would leave it with no policy of that type.');
    }
    await svc.store.identity.detachOrgPolicy(org.id, policy.id, input.TargetId);
    return undefined;
  },
};
