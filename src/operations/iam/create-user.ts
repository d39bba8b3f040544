/** IAM CreateUser: a user with a unique id (AIDA…), a path and optional tags and permissions boundary. */
import { ServiceError } from '../../errors';
import { iamEntityArn } from '../../identity/arns';
import { ID_PREFIX, newUniqueId } from '../../identity/ids';
import type { IamEntityRecord, IamTag } from '../../store/store';
import type { Operation } from '../operation';
import { authorizeCreate, checkTags, permissionsBoundary, userOutput, type IamStore } from './iam-common';
import { IAM_OUTPUTS, type CreateUserOutput } from '../../model/iam-outputs';
import { IAM_INPUTS } from '../../model/iam-inputs';

interface Input {
  readonly Path?: string;
  readonly UserName: string;
  readonly PermissionsBoundary?: string;
  readonly Tags?: IamTag[];
}

export const createUser: Operation<Input, CreateUserOutput, IamStore> = {
  name: 'CreateUser',
  output: IAM_OUTPUTS.CreateUser,
  input: IAM_INPUTS.CreateUser,
  readOnly: false,
  async invoke(input, ctx, svc) {
    const accountId = ctx.caller.accountId;
    const path = input.Path ?? '/';
    const arn = iamEntityArn(accountId, 'user', path, input.UserName);
    const tags = input.Tags ?? [];
    checkTags(tags);
    await authorizeCreate(ctx, svc, 'user', arn, tags, input.PermissionsBoundary);
    const user: IamEntityRecord = {
      id: newUniqueId(ID_PREFIX.user),
      accountId,
      kind: 'user',
      name: input.UserName,
      path,
      arn,
      createdAt: svc.clock.now(),
      assumeRolePolicy: null,
      description: null,
      maxSessionDuration: null,
      permissionsBoundary: await permissionsBoundary(ctx, svc, input.PermissionsBoundary),
    };
    if (!(await svc.store.identity.createIamEntity(user, tags))) {
      throw new ServiceError('EntityAlreadyExistsException', `User with name ${input.UserName} already exists.`);
    }
    return { User: userOutput(user, tags) };
  },
};
