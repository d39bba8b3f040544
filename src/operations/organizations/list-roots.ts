/** Organizations ListRoots: the organization's one root, with its enabled policy types. */
import type { Operation } from '../operation';
import { structure } from '../shape';
import { ORG, orgCall, rootOutput } from './org-common';
import { ORGANIZATIONS_OUTPUTS, type ListRootsOutput } from '../../model/organizations-outputs';

interface Input {
  readonly NextToken?: string;
  readonly MaxResults?: number;
}

export const listRoots: Operation<Input, ListRootsOutput> = {
  name: 'ListRoots',
  output: ORGANIZATIONS_OUTPUTS.ListRoots,
  input: structure({ NextToken: ORG.nextToken(), MaxResults: ORG.maxResults() }),
  readOnly: true,
  async invoke(_input, ctx, svc) {
    const { org } = await orgCall(ctx, svc, 'ListRoots');
    return { Roots: [rootOutput(org)] };
  },
};
