/**
 * The cross-policy half of AWS's evaluation logic, as KMS applies it (IAM User Guide
 * reference_policies_evaluation-logic and -cross-account; kms-reference.md §9.2):
 *
 * 1. An explicit deny in any applicable policy wins.
 * 2. Service control policies, when any apply, must allow: at every level of the organization
 *    (root, each OU, the account) at least one attached SCP must allow.
 * 3. A grant for the caller allows the operation on its own (still bounded by 1, 2 and 6).
 * 4. The key policy is mandatory: it must allow the caller. If it names the caller (or
 *    everyone) that suffices within the key's account; if it names only the caller's account
 *    root, it delegates to IAM and the caller's identity-based policies must allow too.
 * 5. Cross-account: the key policy must allow the external principal or account, and the
 *    caller's identity-based policies must allow as well.
 * 6. Session policies (an assumed-role session created with one) bound everything the
 *    session gets from identity policies, from a key policy naming its role, and from grants;
 *    only a key policy naming the session itself (or everyone) is not bounded.
 * 7. A permissions boundary (an IAM user's or a role's) bounds what identity-based policies
 *    grant: wherever an identity-based allow is needed, the boundary must allow too. A
 *    resource-based policy (or grant) naming an IAM user itself, or a role session itself, is
 *    not bounded by it; one naming a role (reaching its sessions through the role's ARN) is, as
 *    is a grant to a role session. An explicit deny in the boundary always denies
 *    (IAM User Guide, access_policies_boundaries "Evaluating effective permissions with
 *    boundaries"; reference_policies_evaluation-logic_policy-eval-basics).
 * For actions with no key resource (CreateKey, ListKeys, …) there is no resource-based policy
 * and identity-based policies decide. An account's root user has no identity-based policies:
 * its account-wide permissions stand in for them.
 */
import type { CompiledPolicy, PolicyEvaluation, RequestContextForPolicy } from './evaluate';
import type { RequestPrincipal } from './principal';

/** Why a request was denied. */
export type DenyReason =
  | 'explicit-deny-resource'
  | 'explicit-deny-identity'
  | 'explicit-deny-scp'
  | 'explicit-deny-session'
  | 'explicit-deny-boundary'
  | 'no-allow-resource'
  | 'no-allow-identity'
  | 'no-allow-scp'
  | 'no-allow-session'
  | 'no-allow-boundary';

/** The final decision for a request. */
export interface Decision {
  readonly allowed: boolean;
  readonly reason: DenyReason | 'allowed';
  /** The Sid of the statement that explicitly denied, when it has one. */
  readonly sid?: string;
}

/** Per-policy results, by policy type, for `decide`. */
export interface DecisionInput {
  readonly principal: RequestPrincipal;
  /** The account owning the resource; undefined for actions without a resource. */
  readonly resourceAccountId?: string;
  /** The key policy's result; undefined when no resource-based policy applies. */
  readonly resource?: PolicyEvaluation;
  /** The caller's identity-based policies (user, group and role policies). */
  readonly identity: readonly PolicyEvaluation[];
  /** SCP results, one list per level of the organization; undefined or empty when none apply. */
  readonly scpLevels?: readonly (readonly PolicyEvaluation[])[];
  /** Session policy results; undefined or empty when the session has none. */
  readonly session?: readonly PolicyEvaluation[];
  /** The permissions boundary's result(s); undefined when the principal has no boundary. */
  readonly boundary?: readonly PolicyEvaluation[];
  /** Whether a grant on the key allows this principal this operation. */
  readonly grantAllows?: boolean;
}

const ALLOWED: Decision = Object.freeze({ allowed: true, reason: 'allowed' });

function deny(reason: DenyReason, sid?: string): Decision {
  return sid === undefined ? { allowed: false, reason } : { allowed: false, reason, sid };
}

function firstDeny(results: readonly PolicyEvaluation[]): PolicyEvaluation | undefined {
  for (const r of results) if (r.effect === 'ExplicitDeny') return r;
  return undefined;
}

const anyAllow = (results: readonly PolicyEvaluation[]): boolean => results.some((r) => r.effect === 'Allow');

/** Decides a request from the per-policy results (pure; see the module header for the rules). */
export function decide(input: DecisionInput): Decision {
  const scpLevels = input.scpLevels ?? [];
  const session = input.session ?? [];
  const p = input.principal;

  // 1. Explicit deny anywhere.
  for (const level of scpLevels) {
    const d = firstDeny(level);
    if (d !== undefined) return deny('explicit-deny-scp', d.sid);
  }
  if (input.resource?.effect === 'ExplicitDeny') return deny('explicit-deny-resource', input.resource.sid);
  const identityDeny = firstDeny(input.identity);
  if (identityDeny !== undefined) return deny('explicit-deny-identity', identityDeny.sid);
  const sessionDeny = firstDeny(session);
  if (sessionDeny !== undefined) return deny('explicit-deny-session', sessionDeny.sid);
  const boundary = input.boundary;
  const boundaryDeny = boundary === undefined ? undefined : firstDeny(boundary);
  if (boundaryDeny !== undefined) return deny('explicit-deny-boundary', boundaryDeny.sid);

  // 2. SCPs bound the member account's principals.
  for (const level of scpLevels) if (!anyAllow(level)) return deny('no-allow-scp');

  const sessionBounded = session.length > 0;
  const sessionAllows = !sessionBounded || anyAllow(session);
  const identityAllows = p.type === 'Root' || anyAllow(input.identity);
  // 7. The boundary (absent for the root and for principals without one).
  const boundaryAllows = boundary === undefined || p.type === 'Root' || anyAllow(boundary);
  const roleSession = p.type === 'AssumedRole';

  // 3. Grants.
  if (input.grantAllows === true) {
    if (roleSession && !boundaryAllows) return deny('no-allow-boundary');
    return sessionAllows ? ALLOWED : deny('no-allow-session');
  }

  // IAM-only actions: identity policies decide.
  if (input.resource === undefined) {
    if (!identityAllows) return deny('no-allow-identity');
    if (!boundaryAllows) return deny('no-allow-boundary');
    return sessionAllows ? ALLOWED : deny('no-allow-session');
  }

  // 4, 5. The key policy must allow.
  if (input.resource.effect !== 'Allow') return deny('no-allow-resource');
  const via = input.resource.via ?? 'account';
  if (p.type === 'Service') return via === 'direct' ? ALLOWED : deny('no-allow-resource');
  const crossAccount = input.resourceAccountId !== undefined && input.resourceAccountId !== p.accountId;
  const needsIdentity = crossAccount || via === 'account';
  if (needsIdentity && !identityAllows) return deny('no-allow-identity');
  if ((needsIdentity || via === 'role') && !boundaryAllows) return deny('no-allow-boundary');
  // 6. Session policies bound all but a direct grant to the session.
  if ((needsIdentity || via === 'role') && !sessionAllows) return deny('no-allow-session');
  return ALLOWED;
}

/** The policies that apply to a request, compiled, for `authorize`. */
export interface PolicySet {
  /** The key policy (a `resource` policy); omit for actions without a key resource. */
  readonly resourcePolicy?: CompiledPolicy;
  readonly identityPolicies?: readonly CompiledPolicy[];
  /** Service control policies, one list per organization level (root, OUs, account). */
  readonly scpLevels?: readonly (readonly CompiledPolicy[])[];
  readonly sessionPolicies?: readonly CompiledPolicy[];
  /** The principal's permissions boundary (an `identity` policy); omit when it has none. */
  readonly boundaryPolicies?: readonly CompiledPolicy[];
  readonly grantAllows?: boolean;
  /** The account owning the resource; by default the account field of the resource ARN. */
  readonly resourceAccountId?: string;
  /**
   * Condition keys the resource-based policy sees instead of the request's: KMS keeps some keys
   * (kms:ResourceAliases) out of key policies (kms-reference.md §9.1, "IAM policies only").
   */
  readonly resourceConditions?: RequestContextForPolicy['conditions'];
}

function expectKind(policy: CompiledPolicy, kinds: readonly string[], role: string): CompiledPolicy {
  if (!kinds.includes(policy.kind)) throw new TypeError(`a ${policy.kind} policy cannot be used as ${role}`);
  return policy;
}

/** The account field of an ARN (`arn:partition:service:region:account:resource`), if any. */
function arnAccount(resource: string): string | undefined {
  if (!resource.startsWith('arn:')) return undefined;
  let at = 3;
  for (let i = 0; i < 3 && at >= 0; i++) at = resource.indexOf(':', at + 1);
  if (at < 0) return undefined;
  const end = resource.indexOf(':', at + 1);
  return end <= at + 1 ? undefined : resource.slice(at + 1, end);
}

/** Evaluates every applicable policy and decides the request. */
export function authorize(req: RequestContextForPolicy, set: PolicySet): Decision {
  const action = req.action.toLowerCase();
  const run = (policy: CompiledPolicy): PolicyEvaluation => policy.evaluateLowered(req, action);
  const input: DecisionInput = {
    principal: req.principal,
    resourceAccountId: set.resourceAccountId ?? arnAccount(req.resource),
    resource:
      set.resourcePolicy === undefined
        ? undefined
        : expectKind(set.resourcePolicy, ['resource'], 'a key policy').evaluateLowered(
            set.resourceConditions === undefined ? req : { ...req, conditions: set.resourceConditions },
            action,
          ),
    identity: (set.identityPolicies ?? []).map((p) => run(expectKind(p, ['identity'], 'an identity-based policy'))),
    scpLevels: (set.scpLevels ?? []).map((level) => level.map((p) => run(expectKind(p, ['scp'], 'a service control policy')))),
    session: (set.sessionPolicies ?? []).map((p) => run(expectKind(p, ['session', 'identity'], 'a session policy'))),
    ...(set.boundaryPolicies === undefined ? {} : { boundary: set.boundaryPolicies.map((p) => run(expectKind(p, ['identity'], 'a permissions boundary'))) }),
    grantAllows: set.grantAllows,
  };
  return decide(input);
}

const EXPLICIT: Readonly<Record<string, string>> = Object.freeze({
  'explicit-deny-resource': 'a resource-based policy',
  'explicit-deny-identity': 'an identity-based policy',
  'explicit-deny-scp': 'a service control policy',
  'explicit-deny-session': 'a session policy',
  'explicit-deny-boundary': 'a permissions boundary',
});

const IMPLICIT: Readonly<Record<string, string>> = Object.freeze({
  'no-allow-resource': 'resource-based policy',
  'no-allow-identity': 'identity-based policy',
  'no-allow-scp': 'service control policy',
  'no-allow-session': 'session policy',
  'no-allow-boundary': 'permissions boundary',
});

/**
 * AWS's AccessDeniedException text, e.g. "User: arn:aws:iam::111122223333:user/alice is not
 * authorized to perform: kms:Encrypt on resource: arn:aws:kms:… because no identity-based policy
 * allows the kms:Encrypt action".
 */
export function accessDeniedMessage(principalArn: string, action: string, resource: string | undefined, reason: DenyReason): string {
  // An action without resource-level permissions (e.g. cloudtrail:LookupEvents) names no resource.
  const on = resource === undefined ? '' : ` on resource: ${resource}`;
  const head = `User: ${principalArn} is not authorized to perform: ${action}${on}`;
  const explicit = EXPLICIT[reason];
  if (explicit !== undefined) return `${head} with an explicit deny in ${explicit}`;
  return `${head} because no ${IMPLICIT[reason] as string} allows the ${action} action`;
}
