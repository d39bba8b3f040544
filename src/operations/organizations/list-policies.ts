/** Organizations ListPolicies: the organization's policies of one type (FullAWSAccess included). */
import type { Operation } from '../operation';
import { orgCall, orgPage, orgPageResult, policySummary, requireKnownPolicyType, type OrgStore } from './org-common';
import { ORGANIZATIONS_INPUTS } from '../../model/organizations-inputs';
import { ORGANIZATIONS_OUTPUTS, type ListPoliciesOutput } from '../../model/organizations-outputs';

interface Input {
  readonly Filter: string;
  readonly NextToken?: string;
  readonly MaxResults?: number;
}

export const listPolicies: Operation<Input, ListPoliciesOutput, OrgStore> = {
  name: 'ListPolicies',
  output: ORGANIZATIONS_OUTPUTS.ListPolicies,
  input: ORGANIZATIONS_INPUTS.ListPolicies,
  readOnly: true,
  async invoke(input, ctx, svc) {
    requireKnownPolicyType(input.Filter, 'filter');
    const { org } = await orgCall(ctx, svc, 'ListPolicies');
    const page = orgPage(input.NextToken, input.MaxResults);
    const rows = await svc.store.identity.listOrgPolicies(org.id, input.Filter, { after: page.after, limit: page.limit + 1 });
    const { items, ...more } = orgPageResult(rows, page.limit, (p) => p.id);
    return { Policies: items.map(policySummary), ...more };
  },
};
