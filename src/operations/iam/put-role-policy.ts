/** IAM PutRolePolicy: embeds (or replaces) an inline identity policy; validated, within IAM's size quota. */
import type { Operation } from '../operation';
import { putInlinePolicy, type IamStore } from './iam-common';
import { IAM_OUTPUTS, type PutRolePolicyOutput } from '../../model/iam-outputs';
import { IAM_INPUTS } from '../../model/iam-inputs';

interface Input {
  readonly RoleName: string;
  readonly PolicyName: string;
  readonly PolicyDocument: string;
}

export const putRolePolicy: Operation<Input, PutRolePolicyOutput, IamStore> = {
  name: 'PutRolePolicy',
  output: IAM_OUTPUTS.PutRolePolicy,
  input: IAM_INPUTS.PutRolePolicy,
  readOnly: false,
  async invoke(input, ctx, svc) {
    await putInlinePolicy(ctx, svc, 'role', input.RoleName, input.PolicyName, input.PolicyDocument);
    return undefined;
  },
};
