/** Organizations ListAccounts: the organization's accounts (management account included), by id. */
import type { Operation } from '../operation';
import { accountOutput, orgCall, orgPage, orgPageResult, type OrgStore } from './org-common';
import { ORGANIZATIONS_INPUTS } from '../../model/organizations-inputs';
import { ORGANIZATIONS_OUTPUTS, type ListAccountsOutput } from '../../model/organizations-outputs';

interface Input {
  readonly NextToken?: string;
  readonly MaxResults?: number;
}

export const listAccounts: Operation<Input, ListAccountsOutput, OrgStore> = {
  name: 'ListAccounts',
  output: ORGANIZATIONS_OUTPUTS.ListAccounts,
  input: ORGANIZATIONS_INPUTS.ListAccounts,
  readOnly: true,
  async invoke(input, ctx, svc) {
    const { org } = await orgCall(ctx, svc, 'ListAccounts');
    const page = orgPage(input.NextToken, input.MaxResults);
    const rows = await svc.store.identity.listOrganizationAccounts(org.id, { after: page.after, limit: page.limit + 1 });
    const { items, ...more } = orgPageResult(rows, page.limit, (a) => a.accountId);
    return { Accounts: items.map((a) => accountOutput(org, a)), ...more };
  },
};
