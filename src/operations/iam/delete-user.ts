/** IAM DeleteUser: only a user without access keys, policies or group memberships (DeleteConflict). */
import type { Operation } from '../operation';
import { structure } from '../shape';
import { authorizeIam, deleteConflict, entityResource, requireEntity } from './iam-common';
import { IAM } from './iam-shapes';

interface Input {
  readonly UserName: string;
}

export const deleteUser: Operation<Input> = {
  name: 'DeleteUser',
  input: structure({ UserName: IAM.existingUserName() }),
  readOnly: false,
  async invoke(input, ctx, svc) {
    await authorizeIam(ctx, svc, 'DeleteUser', entityResource(ctx, 'user', input.UserName));
    const user = await requireEntity(ctx, svc, 'user', input.UserName);
    const err = deleteConflict('user', input.UserName, await svc.store.identity.deleteIamEntity(user.id));
    if (err !== undefined) throw err;
    return undefined;
  },
};
