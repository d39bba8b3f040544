/** IAM ListUsers: users whose path starts with PathPrefix, by name, paged with Marker/MaxItems. */
import type { Operation } from '../operation';
import { authorizeIam, iamPage, iamPageResult, userOutput, type IamStore } from './iam-common';
import { IAM_OUTPUTS, type ListUsersOutput } from '../../model/iam-outputs';
import { IAM_INPUTS } from '../../model/iam-inputs';

interface Input {
  readonly PathPrefix?: string;
  readonly Marker?: string;
  readonly MaxItems?: number;
}

export const listUsers: Operation<Input, ListUsersOutput, IamStore> = {
  name: 'ListUsers',
  output: IAM_OUTPUTS.ListUsers,
  input: IAM_INPUTS.ListUsers,
  readOnly: true,
  async invoke(input, ctx, svc) {
    await authorizeIam(ctx, svc, 'ListUsers', `arn:aws:iam::${ctx.caller.accountId}:user/`);
    const page = iamPage(input.Marker, input.MaxItems);
    const rows = await svc.store.identity.listIamEntities(ctx.caller.accountId, 'user', input.PathPrefix ?? '/', { after: page.after, limit: page.limit + 1 });
    const { items, ...more } = iamPageResult(rows, page, (u) => u.name.toLowerCase());
    return { Users: items.map((u) => userOutput(u)), ...more };
  },
};
