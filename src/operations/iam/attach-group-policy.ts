/** IAM AttachGroupPolicy: attaches a managed policy (customer managed in this account, or AWS managed) by ARN. */
import type { Operation } from '../operation';
import { attachManagedPolicy, type IamStore } from './iam-common';
import { IAM_OUTPUTS, type AttachGroupPolicyOutput } from '../../model/iam-outputs';
import { IAM_INPUTS } from '../../model/iam-inputs';

interface Input {
  readonly GroupName: string;
  readonly PolicyArn: string;
}

export const attachGroupPolicy: Operation<Input, AttachGroupPolicyOutput, IamStore> = {
  name: 'AttachGroupPolicy',
  output: IAM_OUTPUTS.AttachGroupPolicy,
  input: IAM_INPUTS.AttachGroupPolicy,
  readOnly: false,
  async invoke(input, ctx, svc) {
    await attachManagedPolicy(ctx, svc, 'group', input.GroupName, input.PolicyArn);
    return undefined;
  },
};
