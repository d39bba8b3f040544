/** IAM AttachGroupPolicy: attaches a managed policy (customer managed in this account, or AWS managed) by ARN. */
import type { Operation } from '../operation';
import { structure } from '../shape';
import { attachManagedPolicy } from './iam-common';
import { IAM } from './iam-shapes';
import { IAM_OUTPUTS, type AttachGroupPolicyOutput } from '../../model/iam-outputs';

interface Input {
  readonly GroupName: string;
  readonly PolicyArn: string;
}

export const attachGroupPolicy: Operation<Input, AttachGroupPolicyOutput> = {
  name: 'AttachGroupPolicy',
  output: IAM_OUTPUTS.AttachGroupPolicy,
  input: structure({ GroupName: IAM.groupName(), PolicyArn: IAM.arn() }),
  readOnly: false,
  async invoke(input, ctx, svc) {
    await attachManagedPolicy(ctx, svc, 'group', input.GroupName, input.PolicyArn);
    return undefined;
  },
};
