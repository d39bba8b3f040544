/** Organizations DescribeOrganization: the caller's organization (member accounts may call it). */
import type { Operation } from '../operation';
import { orgCall, organizationOutput } from './org-common';
import { ORGANIZATIONS_INPUTS } from '../../model/organizations-inputs';
import { ORGANIZATIONS_OUTPUTS } from '../../model/organizations-outputs';

export const describeOrganization: Operation<Record<string, never>> = {
  name: 'DescribeOrganization',
  output: ORGANIZATIONS_OUTPUTS.DescribeOrganization,
  input: ORGANIZATIONS_INPUTS.DescribeOrganization,
  readOnly: true,
  async invoke(_input, ctx, svc) {
    const { org } = await orgCall(ctx, svc, 'DescribeOrganization', false);
    const management = await svc.store.identity.getAccount(org.managementAccountId);
    return { Organization: organizationOutput(org, management?.email ?? null) };
  },
};
