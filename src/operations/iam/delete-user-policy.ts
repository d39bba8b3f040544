/** IAM DeleteUserPolicy: removes an inline user policy. */
import { ServiceError } from '../../errors';
import type { Operation } from '../operation';
import { authorizedEntity, type IamStore } from './iam-common';
import { IAM_OUTPUTS, type DeleteUserPolicyOutput } from '../../model/iam-outputs';
import { IAM_INPUTS } from '../../model/iam-inputs';

interface Input {
  readonly UserName: string;
  readonly PolicyName: string;
}

export const deleteUserPolicy: Operation<Input, DeleteUserPolicyOutput, IamStore> = {
  name: 'DeleteUserPolicy',
  output: IAM_OUTPUTS.DeleteUserPolicy,
  input: IAM_INPUTS.DeleteUserPolicy,
  readOnly: false,
  async invoke(input, ctx, svc) {
    const user = await authorizedEntity(ctx, svc, 'DeleteUserPolicy', 'user', input.UserName);
    if (!(await svc.store.identity.deleteInlinePolicy(user.id, input.PolicyName))) {
      throw new ServiceError('NoSuchEntityException', `The user policy with name ${input.PolicyName} cannot be found.`);
    }
    return undefined;
  },
};
