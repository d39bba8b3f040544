/** Organizations AttachPolicy: attaches an SCP to the root or to a member account. */
import { ServiceError } from '../../errors';
import type { Operation } from '../operation';
import { orgCall, requireOrgPolicy, requireTarget, type OrgStore } from './org-common';
import { ORGANIZATIONS_INPUTS } from '../../model/organizations-inputs';
import { ORGANIZATIONS_OUTPUTS, type AttachPolicyOutput } from '../../model/organizations-outputs';

interface Input {
  readonly PolicyId: string;
  readonly TargetId: string;
}

export const attachPolicy: Operation<Input, AttachPolicyOutput, OrgStore> = {
  name: 'AttachPolicy',
  output: ORGANIZATIONS_OUTPUTS.AttachPolicy,
  input: ORGANIZATIONS_INPUTS.AttachPolicy,
  readOnly: false,
  async invoke(input, ctx, svc) {
    const { org } = await orgCall(ctx, svc, 'AttachPolicy');
    const policy = await requireOrgPolicy(svc, org, input.PolicyId);
    if (!org.enabledPolicyTypes.includes(policy.type)) {
      throw new ServiceError('PolicyTypeNotEnabledException', 'This operation can be performed only for enabled policy types.');
    }
    await requireTarget(svc, org, input.TargetId);
    if (!(await svc.store.identity.attachOrgPolicy(org.id, policy.id, input.TargetId))) {
      throw new ServiceError('DuplicatePolicyAttachmentException', 'The selected policy is already attached to the specified target.');
    }
    return undefined;
  },
};
