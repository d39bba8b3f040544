/** IAM DeleteUserPolicy: removes an inline user policy. */
import { ServiceError } from '../../errors';
import type { Operation } from '../operation';
import { structure } from '../shape';
import { authorizedEntity } from './iam-common';
import { IAM } from './iam-shapes';
import { IAM_OUTPUTS, type DeleteUserPolicyOutput } from '../../model/iam-outputs';

interface Input {
  readonly UserName: string;
  readonly PolicyName: string;
}

export const deleteUserPolicy: Operation<Input, DeleteUserPolicyOutput> = {
  name: 'DeleteUserPolicy',
  output: IAM_OUTPUTS.DeleteUserPolicy,
  input: structure({ UserName: IAM.existingUserName(), PolicyName: IAM.policyName() }),
  readOnly: false,
  async invoke(input, ctx, svc) {
    const user = await authorizedEntity(ctx, svc, 'DeleteUserPolicy', 'user', input.UserName);
    if (!(await svc.store.identity.deleteInlinePolicy(user.id, input.PolicyName))) {
      throw new ServiceError('NoSuchEntityException', `The user policy with name ${input.PolicyName} cannot be found.`);
    }
    return undefined;
  },
};
