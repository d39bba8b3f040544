/** Organizations ListTargetsForPolicy: the root and accounts a policy is attached to. */
import { orgAccountArn, orgRootArn } from '../../identity/arns';
import type { Operation } from '../operation';
import { orgCall, orgPage, orgPageResult, requireOrgPolicy, type OrgStore } from './org-common';
import { ORGANIZATIONS_INPUTS } from '../../model/organizations-inputs';
import { ORGANIZATIONS_OUTPUTS, type ListTargetsForPolicyOutput } from '../../model/organizations-outputs';

interface Input {
  readonly PolicyId: string;
  readonly NextToken?: string;
  readonly MaxResults?: number;
}

export const listTargetsForPolicy: Operation<Input, ListTargetsForPolicyOutput, OrgStore> = {
  name: 'ListTargetsForPolicy',
  output: ORGANIZATIONS_OUTPUTS.ListTargetsForPolicy,
  input: ORGANIZATIONS_INPUTS.ListTargetsForPolicy,
  readOnly: true,
  async invoke(input, ctx, svc) {
    const { org } = await orgCall(ctx, svc, 'ListTargetsForPolicy');
    const policy = await requireOrgPolicy(svc, org, input.PolicyId);
    const page = orgPage(input.NextToken, input.MaxResults);
    const rows = await svc.store.identity.listOrgPolicyTargets(org.id, policy.id, { after: page.after, limit: page.limit + 1 });
    const { items, ...more } = orgPageResult(rows, page.limit, (t) => t);
    const targets = [];
    for (const targetId of items) {
      if (targetId === org.rootId) {
        targets.push({ TargetId: targetId, Arn: orgRootArn(org.managementAccountId, org.id, targetId), Name: 'Root', Type: 'ROOT' });
      } else {
        const a = await svc.store.identity.getAccount(targetId);
        targets.push({ TargetId: targetId, Arn: orgAccountArn(org.managementAccountId, org.id, targetId), Name: a?.name ?? targetId, Type: 'ACCOUNT' });
      }
    }
    return { Targets: targets, ...more };
  },
};
