/**
 * What IAM operations share: authorization of the call, entity lookups with AWS's NoSuchEntity
 * messages, the User/Role/Group output structures, tag checks and Marker paging (IAM API
 * Reference, "Common Parameters" and each action's page).
 */
import type { Group, Role, User } from '../../model/iam-outputs';
import { ServiceError } from '../../errors';
import { iamEntityArn, rootArn } from '../../identity/arns';
import { authorizeCall } from '../../identity/authorize-call';
import { AWS_MANAGED_POLICIES } from '../../identity/aws-managed-policies';
import { POLICY_QUOTAS, policySize, validateIdentityPolicy } from '../../identity/policy-documents';
import { replacePrincipal } from '../../policy';
import type { DeleteEntityResult, IamEntityKind, IamEntityRecord, IamTag } from '../../store/store';
import type { RequestContext, Services } from '../operation';
import { decodeMarker, encodeMarker } from '../pagination';
import type { IdentityStoreDeps } from '../../identity/identity-policies';

/** What IAM operations read and write (issue 13): the identity data and the change feed of its caches. */
export type IamStore = IdentityStoreDeps;

const KIND_LABEL: Readonly<Record<IamEntityKind, string>> = Object.freeze({ user: 'user', role: 'role', group: 'group' });

/** Request condition keys of one IAM call, lowercased (e.g. aws:requesttag/team, iam:policyarn). */
export type IamConditions = ReadonlyMap<string, string | readonly string[]>;

/** Throws AccessDenied unless the caller's policies allow `iam:<action>` on `resource`. */
export function authorizeIam(ctx: RequestContext, svc: Services<IamStore>, action: string, resource: string, conditions?: IamConditions): Promise<void> {
  return authorizeCall(
    { store: svc.store, clock: svc.clock, caller: ctx.caller, origin: ctx.origin, region: ctx.region },
    `iam:${action}`,
    resource,
    conditions === undefined ? {} : { conditions },
  );
}

/** The ARN an entity of this name would have (for authorizing calls on entities that do not exist yet). */
export function entityResource(ctx: RequestContext, kind: IamEntityKind, name: string, path = '/'): string {
  return iamEntityArn(ctx.caller.accountId, kind, path, name);
}

/**
 * Actions whose request context carries iam:PermissionsBoundary: the boundary a create sets, or
 * the boundary the entity already has for the policy-changing actions (Service Authorization
 * Reference, IAM, "Condition keys": iam:PermissionsBoundary).
 */
const BOUNDARY_ACTIONS: ReadonlySet<string> = new Set([
  'AttachRolePolicy', 'AttachUserPolicy', 'CreateRole', 'CreateUser', 'DeleteRolePolicy', 'DeleteUserPolicy',
  'DetachRolePolicy', 'DetachUserPolicy', 'PutRolePolicy', 'PutUserPolicy',
]);

/** aws:RequestTag/<key> and aws:TagKeys for the tags a request sets (IAM User Guide, access_iam-tags). */
export function requestTagConditions(tags: readonly IamTag[]): Map<string, string | readonly string[]> {
  const m = new Map<string, string | readonly string[]>();
  if (tags.length === 0) return m;
  for (const t of tags) m.set(`aws:requesttag/${t.Key.toLowerCase()}`, t.Value);
  m.set('aws:tagkeys', tags.map((t) => t.Key));
  return m;
}

/**
 * CreateUser/CreateRole: iam:CreateUser/iam:CreateRole with the request's tags (aws:RequestTag/*,
 * aws:TagKeys) and permissions boundary (iam:PermissionsBoundary) as condition keys, and, when
 * the request carries tags, iam:TagUser/iam:TagRole as well, as AWS requires (IAM User Guide,
 * id_tags_users / id_tags_roles: "you must also have permissions to tag").
 */
export async function authorizeCreate(
  ctx: RequestContext, svc: Services<IamStore>, kind: 'user' | 'role', arn: string, tags: readonly IamTag[], boundary: string | undefined,
): Promise<void> {
  const conditions = requestTagConditions(tags);
  if (boundary !== undefined) conditions.set('iam:permissionsboundary', boundary);
  await authorizeIam(ctx, svc, `Create${ACTION_NOUN[kind]}`, arn, conditions);
  if (tags.length > 0) await authorizeIam(ctx, svc, `Tag${ACTION_NOUN[kind]}`, arn, requestTagConditions(tags));
}

/**
 * Looks the named entity up, then authorizes `iam:<action>` against its stored ARN (its path and
 * its canonical name, whatever case the request used: IAM names match case-insensitively, ARNs in
 * policies do not; issue 12 item 1), with the entity's tags as aws:ResourceTag/* and, for the
 * actions that have it, its permissions boundary as iam:PermissionsBoundary. An entity that does
 * not exist is authorized against the ARN the request names, so a caller who may not act on it
 * learns nothing about whether it exists, then NoSuchEntity.
 */
export async function authorizedEntity(
  ctx: RequestContext, svc: Services<IamStore>, action: string, kind: IamEntityKind, name: string, conditions?: IamConditions,
): Promise<IamEntityRecord> {
  const e = await svc.store.identity.getIamEntity(ctx.caller.accountId, kind, name);
  const m = new Map(conditions ?? []);
  if (e !== undefined) {
    if (kind !== 'group') {
      for (const t of await svc.store.identity.listIamTags(e.id)) {
        m.set(`aws:resourcetag/${t.Key.toLowerCase()}`, t.Value);
        m.set(`iam:resourcetag/${t.Key.toLowerCase()}`, t.Value);
      }
    }
    if (BOUNDARY_ACTIONS.has(action) && e.permissionsBoundary !== null) m.set('iam:permissionsboundary', e.permissionsBoundary);
  }
  await authorizeIam(ctx, svc, action, e?.arn ?? entityResource(ctx, kind, name), m);
  if (e === undefined) throw noSuchEntity(kind, name);
  return e;
}

/** NoSuchEntity in AWS's words. */
export function noSuchEntity(kind: IamEntityKind, name: string): ServiceError {
  return new ServiceError('NoSuchEntityException', `The ${KIND_LABEL[kind]} with name ${name} cannot be found.`);
}

/** The caller's account's entity by name, or NoSuchEntity. */
export async function requireEntity(ctx: RequestContext, svc: Services<IamStore>, kind: IamEntityKind, name: string): Promise<IamEntityRecord> {
  const e = await svc.store.identity.getIamEntity(ctx.caller.accountId, kind, name);
  if (e === undefined) throw noSuchEntity(kind, name);
  return e;
}

/**
 * The user an access-key or GetUser call is about, authorized for `iam:<action>`: the named user
 * (see authorizedEntity), or, without UserName, the calling IAM user. Undefined means the
 * account root acting on itself.
 */
export async function authorizedTargetUser(
  ctx: RequestContext, svc: Services<IamStore>, action: string, userName: string | undefined,
): Promise<IamEntityRecord | undefined> {
  if (userName !== undefined) return authorizedEntity(ctx, svc, action, 'user', userName);
  const c = ctx.caller;
  if (c.principalType === 'Root') {
    await authorizeIam(ctx, svc, action, rootArn(c.accountId));
    return undefined;
  }
  if (c.principalType !== 'IAMUser' || c.uniqueId === undefined) {
    throw new ServiceError('ValidationException', 'Must specify userName when calling with non-User credentials');
  }
  const e = await svc.store.identity.getIamEntityById(c.uniqueId);
  await authorizeIam(ctx, svc, action, e?.arn ?? c.principalArn);
  if (e === undefined) throw noSuchEntity('user', c.userName ?? c.principalId);
  return e;
}

/** Tags as IAM returns them. */
export function tagList(tags: readonly IamTag[]): { Key: string; Value: string }[] {
  return tags.map((t) => ({ Key: t.Key, Value: t.Value }));
}

/** IAM's User structure. */
export function userOutput(e: IamEntityRecord, tags?: readonly IamTag[]): User {
  return {
    Path: e.path,
    UserName: e.name,
    UserId: e.id,
    Arn: e.arn,
    CreateDate: new Date(e.createdAt),
    ...(e.permissionsBoundary === null ? {} : { PermissionsBoundary: { PermissionsBoundaryType: 'PermissionsBoundaryPolicy', PermissionsBoundaryArn: e.permissionsBoundary } }),
    ...(tags === undefined || tags.length === 0 ? {} : { Tags: tagList(tags) }),
  };
}

/** IAM's Role structure (the trust policy URL-encoded, as IAM returns policy documents). */
export function roleOutput(e: IamEntityRecord, tags?: readonly IamTag[]): Role {
  return {
    Path: e.path,
    RoleName: e.name,
    RoleId: e.id,
    Arn: e.arn,
    CreateDate: new Date(e.createdAt),
    AssumeRolePolicyDocument: e.assumeRolePolicy === null ? undefined : urlEncodedPolicy(e.assumeRolePolicy),
    ...(e.description === null ? {} : { Description: e.description }),
    MaxSessionDuration: e.maxSessionDuration ?? 3600,
    ...(e.permissionsBoundary === null ? {} : { PermissionsBoundary: { PermissionsBoundaryType: 'PermissionsBoundaryPolicy', PermissionsBoundaryArn: e.permissionsBoundary } }),
    ...(tags === undefined || tags.length === 0 ? {} : { Tags: tagList(tags) }),
  };
}

/** IAM's Group structure. */
export function groupOutput(e: IamEntityRecord): Group {
  return { Path: e.path, GroupName: e.name, GroupId: e.id, Arn: e.arn, CreateDate: new Date(e.createdAt) };
}

/**
 * Policy documents in IAM responses are URL-encoded (RFC 3986), e.g. GetUserPolicy's
 * PolicyDocument and a Role's AssumeRolePolicyDocument; SDKs and the CLI decode them.
 */
export function urlEncodedPolicy(document: string): string {
  return encodeURIComponent(document);
}

/**
 * The tag namespace reserved to the Keyhold operator (`keyhold:ViaService` makes a principal act
 * as an AWS service for kms:ViaService). The API refuses it for every caller, administrators
 * included; only `keyhold principals tag`, run with access to the store, sets it (issue 12 item 2).
 */
export const OPERATOR_TAG_PREFIX = 'keyhold:';

/** The refusal of a tag key in a reserved namespace, worded as IAM words the `aws:` one. */
export function reservedTagKey(key: string): ServiceError | undefined {
  const k = key.toLowerCase();
  if (k.startsWith('aws:')) return new ServiceError('InvalidInputException', "Tag keys starting with 'aws:' are reserved for AWS use.");
  if (k.startsWith(OPERATOR_TAG_PREFIX)) {
    return new ServiceError('InvalidInputException', "Tag keys starting with 'keyhold:' are reserved for the Keyhold operator.");
  }
  return undefined;
}

/** Checks tags: no `aws:` or `keyhold:` keys, no duplicate keys (compared case-insensitively, as IAM does). */
export function checkTags(tags: readonly IamTag[]): void {
  const seen = new Set<string>();
  for (const t of tags) {
    const k = t.Key.toLowerCase();
    const reserved = reservedTagKey(t.Key);
    if (reserved !== undefined) throw reserved;
    if (seen.has(k)) throw new ServiceError('InvalidInputException', 'Duplicate tag keys found. Please note that Tag keys are case insensitive.');
    seen.add(k);
  }
}

/** IAM's per-entity tag quota. */
export const MAX_TAGS = 50;

/** A page of an IAM listing: Marker (opaque) and MaxItems (default 100). */
export interface IamPage {
  readonly after: string | undefined;
  readonly limit: number;
}

/** Decodes Marker/MaxItems. */
export function iamPage(marker: string | undefined, maxItems: number | undefined): IamPage {
  return { after: decodeMarker(marker), limit: maxItems ?? 100 };
}

/** Trims a fetch of limit+1 rows to the page and adds IsTruncated/Marker. */
export function iamPageResult<T>(rows: readonly T[], page: IamPage, sortKey: (item: T) => string): { items: T[]; IsTruncated: boolean; Marker?: string } {
  if (rows.length <= page.limit) return { items: [...rows], IsTruncated: false };
  const items = rows.slice(0, page.limit);
  return { items, IsTruncated: true, Marker: encodeMarker(sortKey(items[items.length - 1] as T)) };
}

const INLINE_QUOTA: Readonly<Record<IamEntityKind, number>> = Object.freeze({
  user: POLICY_QUOTAS.userInline,
  group: POLICY_QUOTAS.groupInline,
  role: POLICY_QUOTAS.roleInline,
});

const ACTION_NOUN: Readonly<Record<IamEntityKind, string>> = Object.freeze({ user: 'User', role: 'Role', group: 'Group' });

/** Put{User,Group,Role}Policy: validates the document and the aggregate inline quota, then stores it. */
export async function putInlinePolicy(
  ctx: RequestContext, svc: Services<IamStore>, kind: IamEntityKind, entityName: string, policyName: string, document: string,
): Promise<void> {
  const e = await authorizedEntity(ctx, svc, `Put${ACTION_NOUN[kind]}Policy`, kind, entityName);
  validateIdentityPolicy(document);
  let size = policySize(document);
  for (const p of await svc.store.identity.listInlinePolicies(e.id)) if (p.policyName !== policyName) size += policySize(p.document);
  if (size > INLINE_QUOTA[kind]) {
    throw new ServiceError('LimitExceededException', `Maximum policy size of ${INLINE_QUOTA[kind]} bytes exceeded for ${kind} ${e.name}`);
  }
  await svc.store.identity.putInlinePolicy(e.id, policyName, document);
}

/** The managed policy an ARN names, if it exists and this account may attach it (AWS managed or its own). */
export async function attachablePolicy(ctx: RequestContext, svc: Services<IamStore>, arn: string): Promise<{ arn: string; name: string } | undefined> {
  const aws = AWS_MANAGED_POLICIES.get(arn);
  if (aws !== undefined) return { arn, name: aws.name };
  const p = await svc.store.identity.getManagedPolicy(arn);
  return p !== undefined && p.accountId === ctx.caller.accountId ? { arn, name: p.policyName } : undefined;
}

/** NoSuchEntity for a policy ARN that does not resolve. */
export function notAttachable(arn: string): ServiceError {
  return new ServiceError('NoSuchEntityException', `Policy ${arn} does not exist or is not attachable.`);
}

/** IAM's quota of managed policies attached to one user, group or role. */
export const MAX_ATTACHED_POLICIES = 10;

/** Attach{User,Group,Role}Policy. */
export async function attachManagedPolicy(ctx: RequestContext, svc: Services<IamStore>, kind: IamEntityKind, entityName: string, policyArn: string): Promise<void> {
  const e = await authorizedEntity(ctx, svc, `Attach${ACTION_NOUN[kind]}Policy`, kind, entityName, policyArnCondition(policyArn));
  if ((await attachablePolicy(ctx, svc, policyArn)) === undefined) throw notAttachable(policyArn);
  const attached = await svc.store.identity.listAttachedPolicyArns(e.id);
  if (!attached.includes(policyArn) && attached.length >= MAX_ATTACHED_POLICIES) {
    throw new ServiceError('LimitExceededException', `Cannot exceed quota for PoliciesPer${ACTION_NOUN[kind]}: ${MAX_ATTACHED_POLICIES}`);
  }
  await svc.store.identity.attachPolicy(e.id, policyArn);
}

/** iam:PolicyARN for Attach/Detach{User,Group,Role}Policy. */
export function policyArnCondition(policyArn: string): Map<string, string> {
  return new Map([['iam:policyarn', policyArn]]);
}

/** Checks a PermissionsBoundary ARN names an attachable policy; returns it (or null). */
export async function permissionsBoundary(ctx: RequestContext, svc: Services<IamStore>, arn: string | undefined): Promise<string | null> {
  if (arn === undefined) return null;
  if ((await attachablePolicy(ctx, svc, arn)) === undefined) {
    throw new ServiceError('NoSuchEntityException', `Scope ARN: ${arn} does not exist or is not attachable.`);
  }
  return arn;
}

/** DeleteConflict messages (and NoSuchEntity) for a refused delete. */
export function deleteConflict(kind: IamEntityKind, name: string, result: DeleteEntityResult): ServiceError | undefined {
  switch (result) {
    case 'deleted':
      return undefined;
    case 'not-found':
      return noSuchEntity(kind, name);
    case 'has-access-keys':
      return new ServiceError('DeleteConflictException', 'Cannot delete entity, must delete access keys first.');
    case 'has-inline-policies':
      return new ServiceError('DeleteConflictException', 'Cannot delete entity, must delete policies first.');
    case 'has-attached-policies':
      return new ServiceError('DeleteConflictException', 'Cannot delete entity, must detach all policies first.');
    case 'has-group-memberships':
      return new ServiceError('DeleteConflictException', 'Cannot delete entity, must remove user from all groups first.');
    case 'has-members':
      return new ServiceError('DeleteConflictException', 'Cannot delete entity, must remove users from group first.');
  }
}

/**
 * Deletes a user or role (DeleteUser, DeleteRole) and, in the same transaction, makes every key
 * policy and role trust policy that named its ARN name its unique id instead, as AWS shows it, so
 * a user or role created again under the same name is not named by them (issue 12 item 8;
 * docs/compatibility.md). Throws DeleteConflict or NoSuchEntity as AWS words them.
 */
export async function deletePrincipal(svc: Services<IamStore>, e: IamEntityRecord, requestedName: string): Promise<void> {
  const result = await svc.store.identity.deleteIamEntity(e.id, { needle: e.arn, rewrite: (policy) => replacePrincipal(policy, e.arn, e.id) });
  const err = deleteConflict(e.kind, requestedName, result);
  if (err !== undefined) throw err;
}

/** The principal whose access keys a call manages: an IAM user, or the account root. */
export interface KeyOwner {
  readonly principalId: string;
  readonly principalArn: string;
  readonly user: IamEntityRecord | undefined;
}

/** The owner of the access keys a call with this UserName is about, authorized for `iam:<action>` (see authorizedTargetUser). */
export async function authorizedKeyOwner(ctx: RequestContext, svc: Services<IamStore>, action: string, userName: string | undefined): Promise<KeyOwner> {
  const user = await authorizedTargetUser(ctx, svc, action, userName);
  return user === undefined
    ? { principalId: ctx.caller.accountId, principalArn: rootArn(ctx.caller.accountId), user: undefined }
    : { principalId: user.id, principalArn: user.arn, user };
}

/** NoSuchEntity for an access key id the owner does not have. */
export function noSuchAccessKey(accessKeyId: string): ServiceError {
  return new ServiceError('NoSuchEntityException', `The Access Key with id ${accessKeyId} cannot be found.`);
}
