/**
 * Organizations CreatePolicy: a service control policy, validated as an SCP (no Principal;
 * Resource required) and within the 5,120-character quota (whitespace not counted).
 */
import { ServiceError } from '../../errors';
import { orgPolicyArn } from '../../identity/arns';
import { newOrgPolicyId } from '../../identity/ids';
import { POLICY_QUOTAS, policySize, validateIdentityPolicy } from '../../identity/policy-documents';
import type { OrgPolicyRecord } from '../../store/store';
import type { Operation } from '../operation';
import { orgCall, policySummary, requireKnownPolicyType, type OrgStore } from './org-common';
import { ORGANIZATIONS_INPUTS } from '../../model/organizations-inputs';
import { ORGANIZATIONS_OUTPUTS, type CreatePolicyOutput } from '../../model/organizations-outputs';

interface Input {
  readonly Content: string;
  readonly Description: string;
  readonly Name: string;
  readonly Type: string;
  readonly Tags?: { Key: string; Value: string }[];
}

export const createPolicy: Operation<Input, CreatePolicyOutput, OrgStore> = {
  name: 'CreatePolicy',
  output: ORGANIZATIONS_OUTPUTS.CreatePolicy,
  input: ORGANIZATIONS_INPUTS.CreatePolicy,
  readOnly: false,
  async invoke(input, ctx, svc) {
    requireKnownPolicyType(input.Type, 'type');
    const { org } = await orgCall(ctx, svc, 'CreatePolicy');
    if (input.Type !== 'SERVICE_CONTROL_POLICY') {
      throw new ServiceError('ConstraintViolationException', 'Keyhold supports the SERVICE_CONTROL_POLICY policy type only.');
    }
    if ((input.Tags ?? []).length > 0) throw new ServiceError('InvalidInputException', 'Tags on policies are not supported.');
    if (policySize(input.Content) > POLICY_QUOTAS.scp) {
      throw new ServiceError('ConstraintViolationException', `You attempted to create a policy larger than the maximum size of ${POLICY_QUOTAS.scp} characters.`);
    }
    validateIdentityPolicy(input.Content, 'scp');
    const id = newOrgPolicyId();
    const policy: OrgPolicyRecord = {
      organizationId: org.id,
      id,
      arn: orgPolicyArn(org.managementAccountId, org.id, input.Type, id),
      name: input.Name,
      description: input.Description,
      type: input.Type,
      content: input.Content,
      awsManaged: false,
    };
    if (!(await svc.store.identity.createOrgPolicy(policy))) {
      throw new ServiceError('DuplicatePolicyException', 'A policy with the same name already exists.');
    }
    return { Policy: { PolicySummary: policySummary(policy), Content: policy.content } };
  },
};
