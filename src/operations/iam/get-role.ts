/** IAM GetRole: the role with its trust policy (URL-encoded, as IAM returns it) and tags. */
import type { Operation } from '../operation';
import { structure } from '../shape';
import { authorizedEntity, roleOutput } from './iam-common';
import { IAM } from './iam-shapes';
import { IAM_OUTPUTS, type GetRoleOutput } from '../../model/iam-outputs';

interface Input {
  readonly RoleName: string;
}

export const getRole: Operation<Input, GetRoleOutput> = {
  name: 'GetRole',
  output: IAM_OUTPUTS.GetRole,
  input: structure({ RoleName: IAM.roleName() }),
  readOnly: true,
  async invoke(input, ctx, svc) {
    const role = await authorizedEntity(ctx, svc, 'GetRole', 'role', input.RoleName);
    return { Role: roleOutput(role, await svc.store.identity.listIamTags(role.id)) };
  },
};
