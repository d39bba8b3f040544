/** IAM AddUserToGroup: the user gets the group's policies (at most 10 groups per user). */
import { ServiceError } from '../../errors';
import type { Operation } from '../operation';
import { authorizedEntity, requireEntity, type IamStore } from './iam-common';
import { IAM_OUTPUTS, type AddUserToGroupOutput } from '../../model/iam-outputs';
import { IAM_INPUTS } from '../../model/iam-inputs';

interface Input {
  readonly GroupName: string;
  readonly UserName: string;
}

const MAX_GROUPS_PER_USER = 10;

export const addUserToGroup: Operation<Input, AddUserToGroupOutput, IamStore> = {
  name: 'AddUserToGroup',
  output: IAM_OUTPUTS.AddUserToGroup,
  input: IAM_INPUTS.AddUserToGroup,
  readOnly: false,
  async invoke(input, ctx, svc) {
    const group = await authorizedEntity(ctx, svc, 'AddUserToGroup', 'group', input.GroupName);
    const user = await requireEntity(ctx, svc, 'user', input.UserName);
    const groups = await svc.store.identity.listGroupsForUser(user.id);
    if (!groups.some((g) => g.id === group.id) && groups.length >= MAX_GROUPS_PER_USER) {
      throw new ServiceError('LimitExceededException', `Cannot exceed quota for GroupsPerUser: ${MAX_GROUPS_PER_USER}`);
    }
    await svc.store.identity.addUserToGroup(group.id, user.id);
    return undefined;
  },
};
