/** IAM GetUserPolicy: an inline user policy, its document URL-encoded as IAM returns it. */
import { ServiceError } from '../../errors';
import type { Operation } from '../operation';
import { authorizedEntity, urlEncodedPolicy, type IamStore } from './iam-common';
import { IAM_OUTPUTS, type GetUserPolicyOutput } from '../../model/iam-outputs';
import { IAM_INPUTS } from '../../model/iam-inputs';

interface Input {
  readonly UserName: string;
  readonly PolicyName: string;
}

export const getUserPolicy: Operation<Input, GetUserPolicyOutput, IamStore> = {
  name: 'GetUserPolicy',
  output: IAM_OUTPUTS.GetUserPolicy,
  input: IAM_INPUTS.GetUserPolicy,
  readOnly: true,
  async invoke(input, ctx, svc) {
    const user = await authorizedEntity(ctx, svc, 'GetUserPolicy', 'user', input.UserName);
    const document = await svc.store.identity.getInlinePolicy(user.id, input.PolicyName);
    if (document === undefined) throw new ServiceError('NoSuchEntityException', `The user policy with name ${input.PolicyName} cannot be found.`);
    return { UserName: user.name, PolicyName: input.PolicyName, PolicyDocument: urlEncodedPolicy(document) };
  },
};
