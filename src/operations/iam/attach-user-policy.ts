/** IAM AttachUserPolicy: attaches a managed policy (customer managed in this account, or AWS managed) by ARN. */
import type { Operation } from '../operation';
import { structure } from '../shape';
import { attachManagedPolicy } from './iam-common';
import { IAM } from './iam-shapes';
import { IAM_OUTPUTS, type AttachUserPolicyOutput } from '../../model/iam-outputs';

interface Input {
  readonly UserName: string;
  readonly PolicyArn: string;
}

export const attachUserPolicy: Operation<Input, AttachUserPolicyOutput> = {
  name: 'AttachUserPolicy',
  output: IAM_OUTPUTS.AttachUserPolicy,
  input: structure({ UserName: IAM.userName(), PolicyArn: IAM.arn() }),
  readOnly: false,
  async invoke(input, ctx, svc) {
    await attachManagedPolicy(ctx, svc, 'user', input.UserName, input.PolicyArn);
    return undefined;
  },
};
