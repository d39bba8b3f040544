/** Organizations DescribeOrganization: the caller's organization (member accounts may call it). */
import type { Operation } from '../operation';
import { structure } from '../shape';
import { orgCall, organizationOutput } from './org-common';

export const describeOrganization: Operation<Record<string, never>> = {
  name: 'DescribeOrganization',
  input: structure({}),
  readOnly: true,
  async invoke(_input, ctx, svc) {
    const { org } = await orgCall(ctx, svc, 'DescribeOrganization', false);
    const management = await svc.store.identity.getAccount(org.managementAccountId);
    return { Organization: organizationOutput(org, management?.email ?? null) };
  },
};
