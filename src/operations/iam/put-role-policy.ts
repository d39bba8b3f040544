/** IAM PutRolePolicy: embeds (or replaces) an inline identity policy; validated, within IAM's size quota. */
import type { Operation } from '../operation';
import { structure } from '../shape';
import { putInlinePolicy } from './iam-common';
import { IAM } from './iam-shapes';
import { IAM_OUTPUTS, type PutRolePolicyOutput } from '../../model/iam-outputs';

interface Input {
  readonly RoleName: string;
  readonly PolicyName: string;
  readonly PolicyDocument: string;
}

export const putRolePolicy: Operation<Input, PutRolePolicyOutput> = {
  name: 'PutRolePolicy',
  output: IAM_OUTPUTS.PutRolePolicy,
  input: structure({ RoleName: IAM.roleName(), PolicyName: IAM.policyName(), PolicyDocument: IAM.policyDocument() }),
  readOnly: false,
  async invoke(input, ctx, svc) {
    await putInlinePolicy(ctx, svc, 'role', input.RoleName, input.PolicyName, input.PolicyDocument);
    return undefined;
  },
};
