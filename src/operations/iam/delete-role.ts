/**
 * IAM DeleteRole: only a role without inline or attached policies (DeleteConflict). Sessions
 * already issued keep authenticating until they expire, with no permissions (AWS's behaviour:
 * a session's permissions come from its role).
 */
import type { Operation } from '../operation';
import { structure } from '../shape';
import { authorizedEntity, deleteConflict } from './iam-common';
import { IAM } from './iam-shapes';

interface Input {
  readonly RoleName: string;
}

export const deleteRole: Operation<Input> = {
  name: 'DeleteRole',
  input: structure({ RoleName: IAM.roleName() }),
  readOnly: false,
  async invoke(input, ctx, svc) {
    const role = await authorizedEntity(ctx, svc, 'DeleteRole', 'role', input.RoleName);
    const err = deleteConflict('role', input.RoleName, await svc.store.identity.deleteIamEntity(role.id));
    if (err !== undefined) throw err;
    return undefined;
  },
};
