/** IAM DeleteUser: only a user without access keys, policies or group memberships (DeleteConflict). */
import type { Operation } from '../operation';
import { authorizedEntity, deletePrincipal, type IamStore } from './iam-common';
import { IAM_OUTPUTS, type DeleteUserOutput } from '../../model/iam-outputs';
import { IAM_INPUTS } from '../../model/iam-inputs';

interface Input {
  readonly UserName: string;
}

export const deleteUser: Operation<Input, DeleteUserOutput, IamStore> = {
  name: 'DeleteUser',
  output: IAM_OUTPUTS.DeleteUser,
  input: IAM_INPUTS.DeleteUser,
  readOnly: false,
  async invoke(input, ctx, svc) {
    const user = await authorizedEntity(ctx, svc, 'DeleteUser', 'user', input.UserName);
    await deletePrincipal(svc, user, input.UserName);
    return undefined;
  },
};
