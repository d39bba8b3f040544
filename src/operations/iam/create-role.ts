/**
 * IAM CreateRole: a role (AROA…) with its trust policy (AssumeRolePolicyDocument: who may call
 * sts:AssumeRole on it), an optional description, MaxSessionDuration (3600-43200 s, default
 * 3600), permissions boundary and tags.
 */
import { ServiceError } from '../../errors';
import { iamEntityArn } from '../../identity/arns';
import { ID_PREFIX, newUniqueId } from '../../identity/ids';
import { validateTrustPolicy } from '../../identity/policy-documents';
import type { IamEntityRecord, IamTag } from '../../store/store';
import type { Operation } from '../operation';
import { authorizeCreate, checkTags, permissionsBoundary, roleOutput, type IamStore } from './iam-common';
import { IAM_OUTPUTS, type CreateRoleOutput } from '../../model/iam-outputs';
import { IAM_INPUTS } from '../../model/iam-inputs';

interface Input {
  readonly Path?: string;
  readonly RoleName: string;
  readonly AssumeRolePolicyDocument: string;
  readonly Description?: string;
  readonly MaxSessionDuration?: number;
  readonly PermissionsBoundary?: string;
  readonly Tags?: IamTag[];
}

export const createRole: Operation<Input, CreateRoleOutput, IamStore> = {
  name: 'CreateRole',
  output: IAM_OUTPUTS.CreateRole,
  input: IAM_INPUTS.CreateRole,
  readOnly: false,
  async invoke(input, ctx, svc) {
    const path = input.Path ?? '/';
    const arn = iamEntityArn(ctx.caller.accountId, 'role', path, input.RoleName);
    const tags = input.Tags ?? [];
    checkTags(tags);
    await authorizeCreate(ctx, svc, 'role', arn, tags, input.PermissionsBoundary);
    validateTrustPolicy(input.AssumeRolePolicyDocument);
    const role: IamEntityRecord = {
      id: newUniqueId(ID_PREFIX.role),
      accountId: ctx.caller.accountId,
      kind: 'role',
      name: input.RoleName,
      path,
      arn,
      createdAt: svc.clock.now(),
      assumeRolePolicy: input.AssumeRolePolicyDocument,
      description: input.Description ?? null,
      maxSessionDuration: input.MaxSessionDuration ?? 3600,
      permissionsBoundary: await permissionsBoundary(ctx, svc, input.PermissionsBoundary),
    };
    if (!(await svc.store.identity.createIamEntity(role, tags))) {
      throw new ServiceError('EntityAlreadyExistsException', `Role with name ${input.RoleName} already exists.`);
    }
    return { Role: roleOutput(role, tags) };
  },
};
