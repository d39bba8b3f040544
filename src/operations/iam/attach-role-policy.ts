/** IAM AttachRolePolicy: attaches a managed policy (customer managed in this account, or AWS managed) by ARN. */
import type { Operation } from '../operation';
import { attachManagedPolicy, type IamStore } from './iam-common';
import { IAM_OUTPUTS, type AttachRolePolicyOutput } from '../../model/iam-outputs';
import { IAM_INPUTS } from '../../model/iam-inputs';

interface Input {
  readonly RoleName: string;
  readonly PolicyArn: string;
}

export const attachRolePolicy: Operation<Input, AttachRolePolicyOutput, IamStore> = {
  name: 'AttachRolePolicy',
  output: IAM_OUTPUTS.AttachRolePolicy,
  input: IAM_INPUTS.AttachRolePolicy,
  readOnly: false,
  async invoke(input, ctx, svc) {
    await attachManagedPolicy(ctx, svc, 'role', input.RoleName, input.PolicyArn);
    return undefined;
  },
};
