/** IAM PutUserPolicy: embeds (or replaces) an inline identity policy; validated, within IAM's size quota. */
import type { Operation } from '../operation';
import { putInlinePolicy, type IamStore } from './iam-common';
import { IAM_OUTPUTS, type PutUserPolicyOutput } from '../../model/iam-outputs';
import { IAM_INPUTS } from '../../model/iam-inputs';

interface Input {
  readonly UserName: string;
  readonly PolicyName: string;
  readonly PolicyDocument: string;
}

export const putUserPolicy: Operation<Input, PutUserPolicyOutput, IamStore> = {
  name: 'PutUserPolicy',
  output: IAM_OUTPUTS.PutUserPolicy,
  input: IAM_INPUTS.PutUserPolicy,
  readOnly: false,
  async invoke(input, ctx, svc) {
    await putInlinePolicy(ctx, svc, 'user', input.UserName, input.PolicyName, input.PolicyDocument);
    return undefined;
  },
};
