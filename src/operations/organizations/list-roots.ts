/** Organizations ListRoots: the organization's one root, with its enabled policy types. */
import type { Operation } from '../operation';
import { orgCall, rootOutput, type OrgStore } from './org-common';
import { ORGANIZATIONS_INPUTS } from '../../model/organizations-inputs';
import { ORGANIZATIONS_OUTPUTS, type ListRootsOutput } from '../../model/organizations-outputs';

interface Input {
  readonly NextToken?: string;
  readonly MaxResults?: number;
}

export const listRoots: Operation<Input, ListRootsOutput, OrgStore> = {
  name: 'ListRoots',
  output: ORGANIZATIONS_OUTPUTS.ListRoots,
  input: ORGANIZATIONS_INPUTS.ListRoots,
  readOnly: true,
  async invoke(_input, ctx, svc) {
    const { org } = await orgCall(ctx, svc, 'ListRoots');
    return { Roots: [rootOutput(org)] };
  },
};
