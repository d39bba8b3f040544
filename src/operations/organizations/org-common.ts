/**
 * What Organizations operations share: the caller's organization (AWSOrganizationsNotInUse,
 * management-account-only calls), authorization of `organizations:*` actions, NextToken paging
 * and the output structures (Organizations API Reference, data types).
 */
import { ServiceError } from '../../errors';
import { orgAccountArn, organizationArn, orgRootArn } from '../../identity/arns';
import { authorizeCall } from '../../identity/authorize-call';
import type { AccountRecord, OrganizationRecord, OrgPolicyRecord } from '../../store/store';
import type { RequestContext, Services } from '../operation';
import { decodeMarker, encodeMarker } from '../pagination';
import type { IdentityStoreDeps } from '../../identity/identity-policies';

/** What Organizations operations read and write (issue 13): the identity data and the change feed of its caches. */
export type OrgStore = IdentityStoreDeps;

/**
 * The policy types Keyhold knows. The generated input shapes (src/model/organizations-inputs.ts)
 * accept every type AWS models, newer ones (BEDROCK_POLICY, CHATBOT_POLICY, …) included; a type
 * outside these five is refused by the operation with the ValidationException Keyhold gave
 * before the generated shapes (docs/compatibility.md, "Organizations policy types"). Of the five,
 * only SERVICE_CONTROL_POLICY is implemented: the others are a ConstraintViolationException in
 * the operations that take a type.
 */
export const KNOWN_POLICY_TYPES: readonly string[] = Object.freeze([
  'SERVICE_CONTROL_POLICY', 'RESOURCE_CONTROL_POLICY', 'TAG_POLICY', 'BACKUP_POLICY', 'AISERVICES_OPT_OUT_POLICY',
]);

/** Throws ValidationException, in the generated shapes' message form, for a policy type outside KNOWN_POLICY_TYPES. */
export function requireKnownPolicyType(type: string, path: string): void {
  if (KNOWN_POLICY_TYPES.includes(type)) return;
  throw new ServiceError(
    'ValidationException',
    `1 validation error detected: Value '${type}' at '${path}' failed to satisfy constraint: Member must satisfy enum value set: [${KNOWN_POLICY_TYPES.join(', ')}]`,
  );
}

/** The caller's account and organization, after authorizing `organizations:<action>`. */
export interface OrgCall {
  readonly account: AccountRecord;
  readonly org: OrganizationRecord;
}

/**
 * Authorizes the call and finds the caller's organization. `managementOnly` calls from a member
 * account are AccessDenied, as in AWS.
 */
export async function orgCall(ctx: RequestContext, svc: Services<OrgStore>, action: string, managementOnly = true): Promise<OrgCall> {
  await authorizeCall({ store: svc.store, clock: svc.clock, caller: ctx.caller, origin: ctx.origin, region: ctx.region }, `organizations:${action}`, '*');
  const account = await svc.store.identity.getAccount(ctx.caller.accountId);
  const org = account?.organizationId ? await svc.store.identity.getOrganization(account.organizationId) : undefined;
  if (account === undefined || org === undefined) {
    throw new ServiceError('AWSOrganizationsNotInUseException', 'Your account is not a member of an organization.');
  }
  if (managementOnly && org.managementAccountId !== account.accountId) {
    throw new ServiceError('AccessDeniedException', "You don't have permissions to access this resource.");
  }
  return { account, org };
}

/** Decodes NextToken/MaxResults (default 20). */
export function orgPage(nextToken: string | undefined, maxResults: number | undefined): { after: string | undefined; limit: number } {
  try {
    return { after: decodeMarker(nextToken), limit: maxResults ?? 20 };
  } catch {
    throw new ServiceError('InvalidInputException', 'The provided pagination token is invalid.');
  }
}

/** Trims limit+1 rows to a page and adds NextToken. */
export function orgPageResult<T>(rows: readonly T[], limit: number, sortKey: (t: T) => string): { items: T[]; NextToken?: string } {
  if (rows.length <= limit) return { items: [...rows] };
  const items = rows.slice(0, limit);
  return { items, NextToken: encodeMarker(sortKey(items[items.length - 1] as T)) };
}

/** The Organization structure. */
export function organizationOutput(org: OrganizationRecord, managementEmail: string | null): Record<string, unknown> {
  return {
    Id: org.id,
    Arn: organizationArn(org.managementAccountId, org.id),
    FeatureSet: org.featureSet,
    MasterAccountArn: orgAccountArn(org.managementAccountId, org.id, org.managementAccountId),
    MasterAccountId: org.managementAccountId,
    ...(managementEmail === null ? {} : { MasterAccountEmail: managementEmail }),
    AvailablePolicyTypes: [{ Type: 'SERVICE_CONTROL_POLICY', Status: 'ENABLED' }],
  };
}

/** The Account structure. */
export function accountOutput(org: OrganizationRecord, a: AccountRecord): Record<string, unknown> {
  return {
    Id: a.accountId,
    Arn: orgAccountArn(org.managementAccountId, org.id, a.accountId),
    ...(a.email === null ? {} : { Email: a.email }),
    Name: a.name ?? a.accountId,
    Status: 'ACTIVE',
    State: 'ACTIVE',
    JoinedMethod: a.joinedMethod ?? 'CREATED',
    JoinedTimestamp: a.joinedAt ?? a.createdAt,
  };
}

/** The Root structure. */
export function rootOutput(org: OrganizationRecord): Record<string, unknown> {
  return {
    Id: org.rootId,
    Arn: orgRootArn(org.managementAccountId, org.id, org.rootId),
    Name: 'Root',
    PolicyTypes: org.enabledPolicyTypes.map((t) => ({ Type: t, Status: 'ENABLED' })),
  };
}

/** The PolicySummary structure. */
export function policySummary(p: OrgPolicyRecord): Record<string, unknown> {
  return { Id: p.id, Arn: p.arn, Name: p.name, Description: p.description, Type: p.type, AwsManaged: p.awsManaged };
}

/** A policy of the caller's organization, or PolicyNotFoundException. */
export async function requireOrgPolicy(svc: Services<OrgStore>, org: OrganizationRecord, policyId: string): Promise<OrgPolicyRecord> {
  const p = await svc.store.identity.getOrgPolicy(org.id, policyId);
  if (p === undefined) throw new ServiceError('PolicyNotFoundException', "We can't find a policy with the PolicyId that you specified.");
  return p;
}

/** Checks a target is the root or a member account; returns its kind. */
export async function requireTarget(svc: Services<OrgStore>, org: OrganizationRecord, targetId: string): Promise<'ROOT' | 'ACCOUNT'> {
  if (targetId === org.rootId) return 'ROOT';
  if (/^\d{12}$/.test(targetId)) {
    const a = await svc.store.identity.getAccount(targetId);
    if (a?.organizationId === org.id) return 'ACCOUNT';
  }
  throw new ServiceError('TargetNotFoundException', "We can't find a root, OU, account, or policy with the TargetId that you specified.");
}
