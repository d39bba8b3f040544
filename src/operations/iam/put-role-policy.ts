/** IAM PutRolePolicy: embeds (or replaces) an inline identity policy; validated, within IAM's size quota. */
import type { Operation } from '../operation';
import { structure } from '../shape';
import { putInlinePolicy } from './iam-common';
import { IAM } from './iam-shapes';

interface Input {
  readonly RoleName: string;
  readonly PolicyName: string;
  readonly PolicyDocument: string;
}

export const putRolePolicy: Operation<Input> = {
  name: 'PutRolePolicy',
  input: structure({ RoleName: IAM.roleName(), PolicyName: IAM.policyName(), PolicyDocument: IAM.policyDocument() }),
  readOnly: false,
  async invoke(input, ctx, svc) {
    await putInlinePolicy(ctx, svc, 'role', input.RoleName, input.PolicyName, input.PolicyDocument);
    return undefined;
  },
};
