/** Shared principals, requests and policy builders for the policy tests. */
import type { RequestContextForPolicy, RequestPrincipal } from '../../src/policy/evaluate';

export const ACCOUNT = '111122223333';
export const OTHER = '444455556666';
export const KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
export const OTHER_KEY_ARN = `arn:aws:kms:us-east-1:${OTHER}:key/0987dcba-09fe-87dc-65ba-ab0987654321`;

export const alice: RequestPrincipal = { arn: `arn:aws:iam::${ACCOUNT}:user/alice`, accountId: ACCOUNT, type: 'IAMUser' };
export const bob: RequestPrincipal = { arn: `arn:aws:iam::${ACCOUNT}:user/bob`, accountId: ACCOUNT, type: 'IAMUser' };
export const root: RequestPrincipal = { arn: `arn:aws:iam::${ACCOUNT}:root`, accountId: ACCOUNT, type: 'Root' };
export const session: RequestPrincipal = {
  arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/alice-session`,
  accountId: ACCOUNT,
  type: 'AssumedRole',
  sessionIssuerArn: `arn:aws:iam::${ACCOUNT}:role/Admin`,
};
export const carol: RequestPrincipal = { arn: `arn:aws:iam::${OTHER}:user/carol`, accountId: OTHER, type: 'IAMUser' };
export const otherRoot: RequestPrincipal = { arn: `arn:aws:iam::${OTHER}:root`, accountId: OTHER, type: 'Root' };
export const ec2: RequestPrincipal = { arn: 'ec2.amazonaws.com', accountId: '', type: 'Service', service: 'ec2.amazonaws.com' };

/** A condition context with lowercased keys, as the request layer builds it. */
export function ctx(values: Readonly<Record<string, string | readonly string[]>> = {}): Map<string, string | readonly string[]> {
  return new Map(Object.entries(values).map(([k, v]) => [k.toLowerCase(), v]));
}

/** A request for `action` on `resource` by `principal`. */
export function request(
  principal: RequestPrincipal,
  action = 'kms:Encrypt',
  resource = KEY_ARN,
  conditions: Readonly<Record<string, string | readonly string[]>> = {},
): RequestContextForPolicy {
  return { action, resource, principal, conditions: ctx(conditions) };
}

/** A policy document's JSON from its statements; a null version leaves Version out. */
export function policy(statements: readonly object[], version: string | null = '2012-10-17'): string {
  return JSON.stringify(version === null ? { Statement: statements } : { Version: version, Statement: statements });
}

/** An identity-policy statement allowing `action` on `resource`. */
export function allow(action: string | string[] = 'kms:*', resource: string | string[] = '*', extra: object = {}): object {
  return { Effect: 'Allow', Action: action, Resource: resource, ...extra };
}

/** An identity-policy statement denying `action` on `resource`. */
export function denyStatement(action: string | string[] = 'kms:*', resource: string | string[] = '*', extra: object = {}): object {
  return { Effect: 'Deny', Action: action, Resource: resource, ...extra };
}
