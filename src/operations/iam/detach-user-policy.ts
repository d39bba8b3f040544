/** IAM DetachUserPolicy: detaches a managed policy from a user. */
import { ServiceError } from '../../errors';
import type { Operation } from '../operation';
import { structure } from '../shape';
import { authorizedEntity, policyArnCondition } from './iam-common';
import { IAM } from './iam-shapes';
import { IAM_OUTPUTS, type DetachUserPolicyOutput } from '../../model/iam-outputs';

interface Input {
  readonly UserName: string;
  readonly PolicyArn: string;
}

export const detachUserPolicy: Operation<Input, DetachUserPolicyOutput> = {
  name: 'DetachUserPolicy',
  output: IAM_OUTPUTS.DetachUserPolicy,
  input: structure({ UserName: IAM.userName(), PolicyArn: IAM.arn() }),
  readOnly: false,
  async invoke(input, ctx, svc) {
    const user = await authorizedEntity(ctx, svc, 'DetachUserPolicy', 'user', input.UserName, policyArnCondition(input.PolicyArn));
    if (!(await svc.store.identity.detachPolicy(user.id, input.PolicyArn))) {
      throw new ServiceError('NoSuchEntityException', `Policy ${input.PolicyArn} was not found.`);
    }
    return undefined;
  },
};
