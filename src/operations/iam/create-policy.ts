/**
 * IAM CreatePolicy: a customer managed policy (ANPA…, version v1), validated as an
 * identity-based policy, at most 6,144 characters without whitespace.
 */
import { ServiceError } from '../../errors';
import { managedPolicyArn } from '../../identity/arns';
import { ID_PREFIX, newUniqueId } from '../../identity/ids';
import { POLICY_QUOTAS, policySize, validateIdentityPolicy } from '../../identity/policy-documents';
import type { IamManagedPolicyRecord, IamTag } from '../../store/store';
import type { Operation } from '../operation';
import { authorizeIam, type IamStore } from './iam-common';
import { IAM_OUTPUTS, type CreatePolicyOutput } from '../../model/iam-outputs';
import { IAM_INPUTS } from '../../model/iam-inputs';

interface Input {
  readonly PolicyName: string;
  readonly Path?: string;
  readonly PolicyDocument: string;
  readonly Description?: string;
  readonly Tags?: IamTag[];
}

export const createPolicy: Operation<Input, CreatePolicyOutput, IamStore> = {
  name: 'CreatePolicy',
  output: IAM_OUTPUTS.CreatePolicy,
  input: IAM_INPUTS.CreatePolicy,
  readOnly: false,
  async invoke(input, ctx, svc) {
    const path = input.Path ?? '/';
    const arn = managedPolicyArn(ctx.caller.accountId, path, input.PolicyName);
    await authorizeIam(ctx, svc, 'CreatePolicy', arn);
    if ((input.Tags ?? []).length > 0) throw new ServiceError('InvalidInputException', 'Tags on managed policies are not supported.');
    if (policySize(input.PolicyDocument) > POLICY_QUOTAS.managed) {
      throw new ServiceError('LimitExceededException', `Cannot exceed quota for PolicySize: ${POLICY_QUOTAS.managed}`);
    }
    validateIdentityPolicy(input.PolicyDocument);
    const now = svc.clock.now();
    const policy: IamManagedPolicyRecord = {
      arn,
      policyId: newUniqueId(ID_PREFIX.managedPolicy),
      accountId: ctx.caller.accountId,
      policyName: input.PolicyName,
      path,
      document: input.PolicyDocument,
      description: input.Description ?? null,
      createdAt: now,
      updatedAt: now,
    };
    if (!(await svc.store.identity.createManagedPolicy(policy))) {
      throw new ServiceError('EntityAlreadyExistsException', `A policy called ${input.PolicyName} already exists. Duplicate names are not allowed.`);
    }
    return {
      Policy: {
        PolicyName: policy.policyName,
        PolicyId: policy.policyId,
        Arn: arn,
        Path: path,
        DefaultVersionId: 'v1',
        AttachmentCount: 0,
        PermissionsBoundaryUsageCount: 0,
        IsAttachable: true,
        ...(policy.description === null ? {} : { Description: policy.description }),
        CreateDate: new Date(now),
        UpdateDate: new Date(now),
      },
    };
  },
};
