/**
 * The identity resolver: everything about a caller that policy evaluation needs and the Caller
 * itself does not carry, read from the store — the caller's identity-based policies (inline and
 * managed, a user's groups' too), its session policies, principal tags, group memberships, its
 * organization and the service control policies that bound its account
 * (IAM User Guide, reference_policies_evaluation-logic; Organizations User Guide,
 * orgs_manage_policies_scps_evaluation).
 *
 * Results are cached per access key in a cache of the cache layer (src/store/cache.ts) and
 * dropped whenever the store's change feed reports an identity change, by this process (at once)
 * or another (at the next refresh). So a PutUserPolicy is seen by the very next request.
 */
import type { Clock } from '../clock';
import { ServiceError } from '../errors';
import { compilePolicy, type CompiledPolicy, type PolicyKind, type PolicySet, type RequestPrincipal } from '../policy';
import { CacheLayer, type EntityCache } from '../store/cache';
import type { ChangeSource, IamEntityRecord, IdentityRepository, OrganizationRecord } from '../store/store';

/** What resolving a caller's identity policies reads: the identity data and the change feed its cache follows. */
export type IdentityStoreDeps = IdentityRepository & ChangeSource;
import { FULL_AWS_ACCESS_ARN, rootArn } from './arns';
import { AWS_MANAGED_POLICIES } from './aws-managed-policies';
import type { Caller, RequestOrigin } from './caller';

/** One policy document and where it came from. */
export interface PolicySource {
  /**
   * `inline` (embedded in a user, group or role), `managed` (attached by ARN), `session-inline`
   * (AssumeRole Policy), `session-managed` (AssumeRole PolicyArns), `scp`.
   */
  readonly origin: 'inline' | 'managed' | 'session-inline' | 'session-managed' | 'scp';
  /** The policy's name (inline policy name, managed policy name, SCP name). */
  readonly name: string;
  /** Managed policy ARN or SCP ARN; null for inline policies. */
  readonly arn: string | null;
  /** The ARN of the user, group or role it is embedded in or attached to; for SCPs the target id. */
  readonly attachedTo: string;
  /** The policy JSON as stored. */
  readonly document: string;
}

/** The SCPs attached at one level of the organization (the root, then the account). */
export interface ScpLevel {
  /** r-… or the account id. */
  readonly targetId: string;
  readonly policies: readonly PolicySource[];
}

/** A group the caller (an IAM user) belongs to. */
export interface GroupMembership {
  readonly id: string;
  readonly name: string;
  readonly arn: string;
}

/** What the resolver knows about a caller. */
export interface CallerIdentity {
  readonly accountId: string;
  /** The account root: no identity-based policies; full power within its account. */
  readonly isAccountRoot: boolean;
  /** The IAM user, or the role a session was issued for; undefined for the root (or a deleted entity). */
  readonly entity: IamEntityRecord | undefined;
  /** Compile as `identity` policies. Users: own + groups'; role sessions: the role's. */
  readonly identityPolicies: readonly PolicySource[];
  /** Compile as `session` policies; empty unless the session was created with Policy/PolicyArns. */
  readonly sessionPolicies: readonly PolicySource[];
  /** The entity's permissions boundary (a role's bounds its sessions); null when it has none. */
  readonly permissionsBoundary: PolicySource | null;
  /** aws:PrincipalTag: user tags, or role tags overridden by session tags (keys compared case-insensitively). */
  readonly principalTags: Readonly<Record<string, string>>;
  readonly groups: readonly GroupMembership[];
  /** aws:PrincipalOrgID; null outside an organization. */
  readonly organizationId: string | null;
  /** aws:PrincipalOrgPaths, e.g. ["o-a1b2c3d4e5/r-ab12/"]; empty outside an organization. */
  readonly organizationPaths: readonly string[];
  /**
   * SCP levels that bound the caller's account, each of which must allow: empty when the account
   * is in no organization, is the management account, or SCPs are not enabled.
   */
  readonly scpLevels: readonly ScpLevel[];
}

const MAX_ENTRIES = 10_000;

/** Resolves and caches CallerIdentity per access key. */
export class IdentityResolver {
  readonly #store: IdentityStoreDeps;
  readonly #cache: EntityCache<Promise<CallerIdentity>>;

  /** `caches`: the cache layer the store's change feed refreshes (one is made when absent). */
  constructor(store: IdentityRepository & ChangeSource, caches: CacheLayer = new CacheLayer(store.changes)) {
    this.#store = store;
    this.#cache = caches.cache<Promise<CallerIdentity>>({ entity: 'identity', clearOn: ['identity'], maxEntries: MAX_ENTRIES });
  }

  /** The caller's policies, tags, groups and SCPs. */
  resolve(caller: Caller): Promise<CallerIdentity> {
    this.#store.changes.refresh();
    const key = `${caller.accessKeyId}\0${caller.principalArn}`;
    let hit = this.#cache.get(key);
    if (hit === undefined) {
      const p = resolveCallerIdentity(this.#store, caller);
      hit = p;
      this.#cache.set(key, p);
      p.catch(() => {
        if (this.#cache.get(key) === p) this.#cache.drop(key);
      });
    }
    return hit;
  }

  /** Drops every cached entry. */
  clear(): void {
    this.#cache.clear();
  }
}

const resolvers = new WeakMap<IdentityStoreDeps, IdentityResolver>();

/** The process-wide resolver of a store (one cache per store instance). */
export function identityResolver(store: IdentityStoreDeps): IdentityResolver {
  let r = resolvers.get(store);
  if (r === undefined) {
    r = new IdentityResolver(store);
    resolvers.set(store, r);
  }
  return r;
}

async function managedSource(store: IdentityRepository, arn: string, attachedTo: string, origin: 'managed' | 'session-managed'): Promise<PolicySource | undefined> {
  const aws = AWS_MANAGED_POLICIES.get(arn);
  if (aws !== undefined) return { origin, name: aws.name, arn, attachedTo, document: aws.document };
  const p = await store.identity.getManagedPolicy(arn);
  return p === undefined ? undefined : { origin, name: p.policyName, arn, attachedTo, document: p.document };
}

/** Inline and attached managed policies of one user, group or role. */
async function entityPolicies(store: IdentityRepository, e: IamEntityRecord): Promise<PolicySource[]> {
  const out: PolicySource[] = [];
  for (const p of await store.identity.listInlinePolicies(e.id)) {
    out.push({ origin: 'inline', name: p.policyName, arn: null, attachedTo: e.arn, document: p.document });
  }
  for (const arn of await store.identity.listAttachedPolicyArns(e.id)) {
    const m = await managedSource(store, arn, e.arn, 'managed');
    if (m !== undefined) out.push(m);
  }
  return out;
}

async function scpLevels(store: IdentityRepository, org: OrganizationRecord, accountId: string): Promise<ScpLevel[]> {
  if (org.managementAccountId === accountId || !org.enabledPolicyTypes.includes('SERVICE_CONTROL_POLICY')) return [];
  const levels: ScpLevel[] = [];
  for (const targetId of [org.rootId, accountId]) {
    const policies = await store.identity.listOrgPoliciesForTarget(org.id, targetId, 'SERVICE_CONTROL_POLICY');
    levels.push({
      targetId,
      policies: policies.map((p) => ({
        origin: 'scp' as const,
        name: p.name,
        arn: p.id === 'p-FullAWSAccess' ? FULL_AWS_ACCESS_ARN : p.arn,
        attachedTo: targetId,
        document: p.content,
      })),
    });
  }
  return levels;
}

/** Reads a caller's identity from the store (uncached; prefer IdentityResolver.resolve). */
export async function resolveCallerIdentity(store: IdentityRepository, caller: Caller): Promise<CallerIdentity> {
  const account = await store.identity.getAccount(caller.accountId);
  const org = account?.organizationId ? await store.identity.getOrganization(account.organizationId) : undefined;
  const base = {
    accountId: caller.accountId,
    organizationId: org?.id ?? null,
    organizationPaths: org === undefined ? [] : [`${org.id}/${org.rootId}/`],
    scpLevels: org === undefined ? [] : await scpLevels(store, org, caller.accountId),
  };
  const none = { identityPolicies: [], sessionPolicies: [], permissionsBoundary: null, principalTags: {}, groups: [] };
  if (caller.principalType === 'Root') return { ...base, ...none, isAccountRoot: true, entity: undefined };

  const entityId = caller.session?.issuer.principalId ?? caller.uniqueId ?? caller.principalId;
  const entity = await store.identity.getIamEntityById(entityId);
  // Credentials bind to the unique id of the user or role they were issued for: once it is
  // deleted they authenticate nothing, even if an entity of the same name is created again
  // (issue 12 item 8). Sessions are deleted with their role; this also covers a process whose
  // credential cache has not seen that yet.
  if (entity === undefined || entity.accountId !== caller.accountId) throw principalGone();

  const identityPolicies = await entityPolicies(store, entity);
  const groups: GroupMembership[] = [];
  if (entity.kind === 'user') {
    for (const g of await store.identity.listGroupsForUser(entity.id)) {
      groups.push({ id: g.id, name: g.name, arn: g.arn });
      identityPolicies.push(...(await entityPolicies(store, g)));
    }
  }

  const principalTags: Record<string, string> = {};
  for (const t of await store.identity.listIamTags(entity.id)) principalTags[t.Key] = t.Value;
  const sessionPolicies: PolicySource[] = [];
  const session = caller.session;
  if (session !== undefined) {
    for (const [k, v] of Object.entries(session.sessionTags)) {
      for (const existing of Object.keys(principalTags)) if (existing.toLowerCase() === k.toLowerCase()) delete principalTags[existing];
      principalTags[k] = v;
    }
    if (session.sessionPolicy !== null) {
      sessionPolicies.push({ origin: 'session-inline', name: 'session-policy', arn: null, attachedTo: caller.principalArn, document: session.sessionPolicy });
    }
    for (const arn of session.policyArns) {
      const m = await managedSource(store, arn, caller.principalArn, 'session-managed');
      // A session policy ARN that no longer resolves grants nothing; keep the bound (deny-all).
      sessionPolicies.push(m ?? { origin: 'session-managed', name: arn, arn, attachedTo: caller.principalArn, document: DENY_NOTHING_ALLOWED });
    }
  }
  // A boundary whose policy no longer resolves allows nothing (fail closed).
  const boundary =
    entity.permissionsBoundary === null
      ? null
      : ((await managedSource(store, entity.permissionsBoundary, entity.arn, 'managed')) ??
        { origin: 'managed' as const, name: entity.permissionsBoundary, arn: entity.permissionsBoundary, attachedTo: entity.arn, document: DENY_NOTHING_ALLOWED });
  return {
    ...base,
    isAccountRoot: false,
    entity,
    identityPolicies,
    sessionPolicies,
    permissionsBoundary: boundary,
    principalTags: Object.freeze(principalTags),
    groups,
  };
}

/** What the caller of deleted credentials hears: the answer for credentials that do not exist. */
export function principalGone(): ServiceError {
  return new ServiceError('UnrecognizedClientException', 'The security token included in the request is invalid.');
}

/** A policy that allows nothing (a session policy whose ARN vanished). */
const DENY_NOTHING_ALLOWED = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }] });

// -------------------------------------------------------------------------------------------------
// Helpers for evaluation: compiled policies, the principal, and the principal's condition keys.

const compiled = new Map<string, CompiledPolicy>();

/** Compiles a stored policy once per (kind, text); bounded. Stored documents were validated on input. */
export function compileCached(document: string, kind: PolicyKind): CompiledPolicy {
  const key = `${kind}\0${document}`;
  let c = compiled.get(key);
  if (c === undefined) {
    if (compiled.size >= MAX_ENTRIES) compiled.clear();
    c = compilePolicy(document, kind);
    compiled.set(key, c);
  }
  return c;
}

/** The caller's identity-side policies compiled for src/policy's `authorize` (no resource policy). */
export function compiledPolicySet(
  identity: CallerIdentity,
): Required<Pick<PolicySet, 'identityPolicies' | 'scpLevels' | 'sessionPolicies'>> & Pick<PolicySet, 'boundaryPolicies'> {
  const boundary = identity.permissionsBoundary;
  return {
    identityPolicies: identity.identityPolicies.map((p) => compileCached(p.document, 'identity')),
    scpLevels: identity.scpLevels.map((l) => l.policies.map((p) => compileCached(p.document, 'scp'))),
    sessionPolicies: identity.sessionPolicies.map((p) => compileCached(p.document, 'session')),
    ...(boundary === null ? {} : { boundaryPolicies: [compileCached(boundary.document, 'identity')] }),
  };
}

/** The caller as src/policy's evaluator sees it. */
export function requestPrincipal(caller: Caller): RequestPrincipal {
  return caller.session === undefined
    ? { arn: caller.principalArn, accountId: caller.accountId, type: caller.principalType }
    : { arn: caller.principalArn, accountId: caller.accountId, type: 'AssumedRole', sessionIssuerArn: caller.session.issuer.arn };
}

/**
 * The global condition keys that describe the principal and the request's origin, lowercased
 * (IAM User Guide, reference_policies_condition-keys). aws:PrincipalArn of a role session is
 * the role's ARN; aws:username exists for IAM users only.
 */
export function principalConditionKeys(
  caller: Caller, identity: CallerIdentity, origin: RequestOrigin | undefined, region: string | undefined, clock: Clock,
): Map<string, string | readonly string[]> {
  const m = new Map<string, string | readonly string[]>();
  const now = clock.now();
  m.set('aws:currenttime', new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'));
  m.set('aws:epochtime', String(Math.floor(now / 1000)));
  if (origin !== undefined) {
    if (origin.sourceIp !== '') m.set('aws:sourceip', origin.sourceIp.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1'));
    m.set('aws:securetransport', String(origin.secureTransport));
    if (origin.userAgent !== '') m.set('aws:useragent', origin.userAgent);
  }
  if (region !== undefined) m.set('aws:requestedregion', region);
  m.set('aws:principalaccount', caller.accountId);
  m.set('aws:principalisawsservice', 'false');
  m.set('aws:userid', caller.principalId);
  switch (caller.principalType) {
    case 'Root':
      m.set('aws:principalarn', rootArn(caller.accountId));
      m.set('aws:principaltype', 'Account');
      break;
    case 'IAMUser':
      m.set('aws:principalarn', caller.principalArn);
      m.set('aws:principaltype', 'User');
      if (caller.userName !== null) m.set('aws:username', caller.userName);
      break;
    case 'AssumedRole':
      m.set('aws:principalarn', caller.session?.issuer.arn ?? caller.principalArn);
      m.set('aws:principaltype', 'AssumedRole');
      break;
  }
  if (caller.session !== undefined) {
    m.set('aws:tokenissuetime', new Date(caller.session.creationDate).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    m.set('aws:multifactorauthpresent', 'false');
    if (caller.session.sourceIdentity !== null) m.set('aws:sourceidentity', caller.session.sourceIdentity);
  }
  if (identity.organizationId !== null) {
    m.set('aws:principalorgid', identity.organizationId);
    m.set('aws:principalorgpaths', identity.organizationPaths);
  }
  const tagKeys = Object.keys(identity.principalTags);
  for (const k of tagKeys) m.set(`aws:principaltag/${k.toLowerCase()}`, identity.principalTags[k] as string);
  return m;
}
