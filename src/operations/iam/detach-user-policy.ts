/** IAM DetachUserPolicy: detaches a managed policy from a user. */
import { ServiceError } from '../../errors';
import type { Operation } from '../operation';
import { authorizedEntity, policyArnCondition, type IamStore } from './iam-common';
import { IAM_OUTPUTS, type DetachUserPolicyOutput } from '../../model/iam-outputs';
import { IAM_INPUTS } from '../../model/iam-inputs';

interface Input {
  readonly UserName: string;
  readonly PolicyArn: string;
}

export const detachUserPolicy: Operation<Input, DetachUserPolicyOutput, IamStore> = {
  name: 'DetachUserPolicy',
  output: IAM_OUTPUTS.DetachUserPolicy,
  input: IAM_INPUTS.DetachUserPolicy,
  readOnly: false,
  async invoke(input, ctx, svc) {
    const user = await authorizedEntity(ctx, svc, 'DetachUserPolicy', 'user', input.UserName, policyArnCondition(input.PolicyArn));
    if (!(await svc.store.identity.detachPolicy(user.id, input.PolicyArn))) {
      throw new ServiceError('NoSuchEntityException', `Policy ${input.PolicyArn} was not found.`);
    }
    return undefined;
  },
};
