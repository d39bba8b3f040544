/** IAM CreateGroup: a group (AGPA…) whose policies apply to its member users. */
import { ServiceError } from '../../errors';
import { iamEntityArn } from '../../identity/arns';
import { ID_PREFIX, newUniqueId } from '../../identity/ids';
import type { IamEntityRecord } from '../../store/store';
import type { Operation } from '../operation';
import { authorizeIam, groupOutput, type IamStore } from './iam-common';
import { IAM_OUTPUTS, type CreateGroupOutput } from '../../model/iam-outputs';
import { IAM_INPUTS } from '../../model/iam-inputs';

interface Input {
  readonly Path?: string;
  readonly GroupName: string;
}

export const createGroup: Operation<Input, CreateGroupOutput, IamStore> = {
  name: 'CreateGroup',
  output: IAM_OUTPUTS.CreateGroup,
  input: IAM_INPUTS.CreateGroup,
  readOnly: false,
  async invoke(input, ctx, svc) {
    const path = input.Path ?? '/';
    const arn = iamEntityArn(ctx.caller.accountId, 'group', path, input.GroupName);
    await authorizeIam(ctx, svc, 'CreateGroup', arn);
    const group: IamEntityRecord = {
      id: newUniqueId(ID_PREFIX.group),
      accountId: ctx.caller.accountId,
      kind: 'group',
      name: input.GroupName,
      path,
      arn,
      createdAt: svc.clock.now(),
      assumeRolePolicy: null,
      description: null,
      maxSessionDuration: null,
      permissionsBoundary: null,
    };
    if (!(await svc.store.identity.createIamEntity(group, []))) {
      throw new ServiceError('EntityAlreadyExistsException', `Group with name ${input.GroupName} already exists.`);
    }
    return { Group: groupOutput(group) };
  },
};
