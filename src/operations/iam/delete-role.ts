/**
 * IAM DeleteRole: only a role without inline or attached policies (DeleteConflict). Its sessions
 * end with it (deleted in the same transaction; credentials of a role that no longer exists are
 * refused everywhere), and key and trust policies naming it name its unique id from then on, so
 * a role created again under the same name inherits neither (issue 12 item 8).
 */
import type { Operation } from '../operation';
import { authorizedEntity, deletePrincipal, type IamStore } from './iam-common';
import { IAM_OUTPUTS, type DeleteRoleOutput } from '../../model/iam-outputs';
import { IAM_INPUTS } from '../../model/iam-inputs';

interface Input {
  readonly RoleName: string;
}

export const deleteRole: Operation<Input, DeleteRoleOutput, IamStore> = {
  name: 'DeleteRole',
  output: IAM_OUTPUTS.DeleteRole,
  input: IAM_INPUTS.DeleteRole,
  readOnly: false,
  async invoke(input, ctx, svc) {
    const role = await authorizedEntity(ctx, svc, 'DeleteRole', 'role', input.RoleName);
    await deletePrincipal(svc, role, input.RoleName);
    return undefined;
  },
};
