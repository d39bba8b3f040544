/**
 * Organizations EnablePolicyType: enables SERVICE_CONTROL_POLICY on the root. As in AWS, the
 * AWS managed FullAWSAccess SCP is then attached to the root and to every account, so nothing
 * is denied until a restricting SCP is attached or FullAWSAccess is detached.
 */
import { ServiceError } from '../../errors';
import { fullAwsAccessPolicy } from '../../identity/accounts';
import type { Operation } from '../operation';
import { orgCall, requireKnownPolicyType, rootOutput, type OrgStore } from './org-common';
import { ORGANIZATIONS_INPUTS } from '../../model/organizations-inputs';
import { ORGANIZATIONS_OUTPUTS, type EnablePolicyTypeOutput } from '../../model/organizations-outputs';

interface Input {
  readonly RootId: string;
  readonly PolicyType: string;
}

export const enablePolicyType: Operation<Input, EnablePolicyTypeOutput, OrgStore> = {
  name: 'EnablePolicyType',
  output: ORGANIZATIONS_OUTPUTS.EnablePolicyType,
  input: ORGANIZATIONS_INPUTS.EnablePolicyType,
  readOnly: false,
  async invoke(input, ctx, svc) {
    requireKnownPolicyType(input.PolicyType, 'policyType');
    const { org } = await orgCall(ctx, svc, 'EnablePolicyType');
    if (input.RootId !== org.rootId) throw new ServiceError('TargetNotFoundException', "We can't find a root with the RootId that you specified.");
    if (input.PolicyType !== 'SERVICE_CONTROL_POLICY') {
      throw new ServiceError('ConstraintViolationException', 'Keyhold supports the SERVICE_CONTROL_POLICY policy type only.');
    }
    if (!(await svc.store.identity.enablePolicyType(org.id, input.PolicyType, fullAwsAccessPolicy(org.id)))) {
      throw new ServiceError('PolicyTypeAlreadyEnabledException', 'The specified policy type is already enabled.');
    }
    return { Root: rootOutput({ ...org, enabledPolicyTypes: [...org.enabledPolicyTypes, input.PolicyType] }) };
  },
};
