/** IAM GetRole: the role with its trust policy (URL-encoded, as IAM returns it) and tags. */
import type { Operation } from '../operation';
import { authorizedEntity, roleOutput, type IamStore } from './iam-common';
import { IAM_OUTPUTS, type GetRoleOutput } from '../../model/iam-outputs';
import { IAM_INPUTS } from '../../model/iam-inputs';

interface Input {
  readonly RoleName: string;
}

export const getRole: Operation<Input, GetRoleOutput, IamStore> = {
  name: 'GetRole',
  output: IAM_OUTPUTS.GetRole,
  input: IAM_INPUTS.GetRole,
  readOnly: true,
  async invoke(input, ctx, svc) {
    const role = await authorizedEntity(ctx, svc, 'GetRole', 'role', input.RoleName);
    return { Role: roleOutput(role, await svc.store.identity.listIamTags(role.id)) };
  },
};
