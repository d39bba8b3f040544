/** IAM PutGroupPolicy: embeds (or replaces) an inline identity policy; validated, within IAM's size quota. */
import type { Operation } from '../operation';
import { structure } from '../shape';
import { putInlinePolicy } from './iam-common';
import { IAM } from './iam-shapes';
import { IAM_OUTPUTS, type PutGroupPolicyOutput } from '../../model/iam-outputs';

interface Input {
  readonly GroupName: string;
  readonly PolicyName: string;
  readonly PolicyDocument: string;
}

export const putGroupPolicy: Operation<Input, PutGroupPolicyOutput> = {
  name: 'PutGroupPolicy',
  output: IAM_OUTPUTS.PutGroupPolicy,
  input: structure({ GroupName: IAM.groupName(), PolicyName: IAM.policyName(), PolicyDocument: IAM.policyDocument() }),
  readOnly: false,
  async invoke(input, ctx, svc) {
    await putInlinePolicy(ctx, svc, 'group', input.GroupName, input.PolicyName, input.PolicyDocument);
    return undefined;
  },
};
