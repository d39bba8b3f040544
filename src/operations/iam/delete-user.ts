/** IAM DeleteUser: only a user without access keys, policies or group memberships (DeleteConflict). */
import type { Operation } from '../operation';
import { authorizedEntity, deleteConflict, unbindDeletedPrincipal, type IamStore } from './iam-common';
import { IAM_OUTPUTS, type DeleteUserOutput } from '../../model/iam-outputs';
import { IAM_INPUTS } from '../../model/iam-inputs';
import type { KeyPolicyRewriter } from '../../store/store';

interface Input {
  readonly UserName: string;
}

export const deleteUser: Operation<Input, DeleteUserOutput, IamStore & KeyPolicyRewriter> = {
  name: 'DeleteUser',
  output: IAM_OUTPUTS.DeleteUser,
  input: IAM_INPUTS.DeleteUser,
  readOnly: false,
  async invoke(input, ctx, svc) {
    const user = await authorizedEntity(ctx, svc, 'DeleteUser', 'user', input.UserName);
    const err = deleteConflict('user', input.UserName, await svc.store.identity.deleteIamEntity(user.id));
    if (err !== undefined) throw err;
    await unbindDeletedPrincipal(svc, user);
    return undefined;
  },
};
