/**
 * The Organizations operations Keyhold serves (awsJson1_1, X-Amz-Target prefix
 * AWSOrganizationsV20161128), by name. An explicit object literal (STYLE habit 1);
 * docs/identity.md is checked against it.
 */
import type { Operation } from '../operation';
import { attachPolicy } from './attach-policy';
import { createAccount } from './create-account';
import { createOrganization } from './create-organization';
import { createPolicy } from './create-policy';
import { describeCreateAccountStatus } from './describe-create-account-status';
import { describeOrganization } from './describe-organization';
import { detachPolicy } from './detach-policy';
import { enablePolicyType } from './enable-policy-type';
import { listAccounts } from './list-accounts';
import { listPolicies } from './list-policies';
import { listRoots } from './list-roots';
import { listTargetsForPolicy } from './list-targets-for-policy';

/** Organizations operations by their X-Amz-Target suffix. */
export const ORGANIZATIONS_OPERATIONS: Readonly<Record<string, Operation>> = Object.freeze({
  AttachPolicy: attachPolicy,
  CreateAccount: createAccount,
  CreateOrganization: createOrganization,
  CreatePolicy: createPolicy,
  DescribeCreateAccountStatus: describeCreateAccountStatus,
  DescribeOrganization: describeOrganization,
  DetachPolicy: detachPolicy,
  EnablePolicyType: enablePolicyType,
  ListAccounts: listAccounts,
  ListPolicies: listPolicies,
  ListRoots: listRoots,
  ListTargetsForPolicy: listTargetsForPolicy,
});

/** The X-Amz-Target prefix of Organizations. */
export const ORGANIZATIONS_TARGET_PREFIX = 'AWSOrganizationsV20161128';
