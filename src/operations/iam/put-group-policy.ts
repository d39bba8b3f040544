/** IAM PutGroupPolicy: embeds (or replaces) an inline identity policy; validated, within IAM's size quota. */
import type { Operation } from '../operation';
import { putInlinePolicy, type IamStore } from './iam-common';
import { IAM_OUTPUTS, type PutGroupPolicyOutput } from '../../model/iam-outputs';
import { IAM_INPUTS } from '../../model/iam-inputs';

interface Input {
  readonly GroupName: string;
  readonly PolicyName: string;
  readonly PolicyDocument: string;
}

export const putGroupPolicy: Operation<Input, PutGroupPolicyOutput, IamStore> = {
  name: 'PutGroupPolicy',
  output: IAM_OUTPUTS.PutGroupPolicy,
  input: IAM_INPUTS.PutGroupPolicy,
  readOnly: false,
  async invoke(input, ctx, svc) {
    await putInlinePolicy(ctx, svc, 'group', input.GroupName, input.PolicyName, input.PolicyDocument);
    return undefined;
  },
};
