/** IAM AttachUserPolicy: attaches a managed policy (customer managed in this account, or AWS managed) by ARN. */
import type { Operation } from '../operation';
import { attachManagedPolicy, type IamStore } from './iam-common';
import { IAM_OUTPUTS, type AttachUserPolicyOutput } from '../../model/iam-outputs';
import { IAM_INPUTS } from '../../model/iam-inputs';

interface Input {
  readonly UserName: string;
  readonly PolicyArn: string;
}

export const attachUserPolicy: Operation<Input, AttachUserPolicyOutput, IamStore> = {
  name: 'AttachUserPolicy',
  output: IAM_OUTPUTS.AttachUserPolicy,
  input: IAM_INPUTS.AttachUserPolicy,
  readOnly: false,
  async invoke(input, ctx, svc) {
    await attachManagedPolicy(ctx, svc, 'user', input.UserName, input.PolicyArn);
    return undefined;
  },
};
