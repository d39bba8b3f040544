/**
 * ARNs of identities (IAM User Guide, reference_identifiers "IAM ARNs"; Organizations API
 * reference for organization, account, root and policy ARNs). IAM ARNs carry the entity's path;
 * an assumed-role session's ARN does not.
 */
import type { IamEntityKind } from '../store/identity-store';

/** arn:aws:iam::A:root */
export function rootArn(accountId: string): string {
  return `arn:aws:iam::${accountId}:root`;
}

/** arn:aws:iam::A:user/path/name (also role/ and group/). */
export function iamEntityArn(accountId: string, kind: IamEntityKind, path: string, name: string): string {
  return `arn:aws:iam::${accountId}:${kind}${path}${name}`;
}

/** arn:aws:iam::A:policy/path/name */
export function managedPolicyArn(accountId: string, path: string, name: string): string {
  return `arn:aws:iam::${accountId}:policy${path}${name}`;
}

/** arn:aws:sts::A:assumed-role/RoleName/SessionName */
export function assumedRoleArn(accountId: string, roleName: string, sessionName: string): string {
  return `arn:aws:sts::${accountId}:assumed-role/${roleName}/${sessionName}`;
}

const ROLE_ARN = /^arn:aws:iam::(\d{12}):role(\/(?:[\u0021-\u007E]*\/)?)([\w+=,.@-]{1,64})$/;
const POLICY_ARN = /^arn:aws:iam::(\d{12}|aws):policy(\/(?:[\u0021-\u007E]*\/)?)([\w+=,.@-]{1,128})$/;

/** Splits a role ARN into account, path and name; undefined when it is not one. */
export function parseRoleArn(arn: string): { accountId: string; path: string; name: string } | undefined {
  const m = ROLE_ARN.exec(arn);
  return m === null ? undefined : { accountId: m[1] as string, path: m[2] as string, name: m[3] as string };
}

/** Splits a managed policy ARN (customer or `aws` managed); undefined when it is not one. */
export function parsePolicyArn(arn: string): { accountId: string; path: string; name: string } | undefined {
  const m = POLICY_ARN.exec(arn);
  return m === null ? undefined : { accountId: m[1] as string, path: m[2] as string, name: m[3] as string };
}

/** arn:aws:organizations::MGMT:organization/o-… */
export function organizationArn(managementAccountId: string, orgId: string): string {
  return `arn:aws:organizations::${managementAccountId}:organization/${orgId}`;
}

/** arn:aws:organizations::MGMT:account/o-…/ACCOUNT */
export function orgAccountArn(managementAccountId: string, orgId: string, accountId: string): string {
  return `arn:aws:organizations::${managementAccountId}:account/${orgId}/${accountId}`;
}

/** arn:aws:organizations::MGMT:root/o-…/r-… */
export function orgRootArn(managementAccountId: string, orgId: string, rootId: string): string {
  return `arn:aws:organizations::${managementAccountId}:root/${orgId}/${rootId}`;
}

/** arn:aws:organizations::MGMT:policy/o-…/service_control_policy/p-… */
export function orgPolicyArn(managementAccountId: string, orgId: string, type: string, policyId: string): string {
  return `arn:aws:organizations::${managementAccountId}:policy/${orgId}/${type.toLowerCase()}/${policyId}`;
}

/** The AWS managed FullAWSAccess SCP's ARN (the same in every organization). */
export const FULL_AWS_ACCESS_ARN = 'arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess';
