/**
 * Compiles a policy document once and evaluates it against a request: the per-policy half of
 * AWS's evaluation logic (reference_policies_evaluation-logic). A policy yields an explicit
 * deny if any applicable statement denies, else an allow if any applicable statement allows,
 * else no match. A statement applies when its action, resource, principal (resource-based
 * policies only) and every condition match.
 *
 * Compilation builds every matcher (action tables lowercased, wildcard patterns, condition
 * matchers, principal sets); evaluation parses nothing and builds no regex.
 */
import { compileCondition, type CompiledCondition } from './conditions';
import { parsePolicy, type PolicyDocument, type PolicyKind, type PolicyStatement } from './document';
import { compilePattern, type Pattern } from './glob';
import { CompiledPrincipal, type PrincipalMatch, type RequestPrincipal } from './principal';

export type { PrincipalMatch, RequestPrincipal } from './principal';

/** What the evaluator needs to know about a request. */
export interface RequestContextForPolicy {
  /** The action, e.g. `kms:Encrypt` (matched case-insensitively). */
  readonly action: string;
  /** The resource ARN, or `*` for actions without a resource. */
  readonly resource: string;
  readonly principal: RequestPrincipal;
  /** Condition keys, lowercased (`kms:calleraccount`), to a value or a list of values. */
  readonly conditions: ReadonlyMap<string, string | readonly string[]>;
}

/** The outcome of one policy for one request. */
export interface PolicyEvaluation {
  readonly effect: 'Allow' | 'ExplicitDeny' | 'NoMatch';
  /** The Sid of the deciding statement (the deny, or the first allow), when it has one. */
  readonly sid?: string;
  /** Resource-based policies: how the strongest allowing statement named the caller. */
  readonly via?: PrincipalMatch;
}

const NO_MATCH: PolicyEvaluation = Object.freeze({ effect: 'NoMatch' });
const STRENGTH: Readonly<Record<PrincipalMatch, number>> = Object.freeze({ none: 0, account: 1, role: 2, direct: 3 });

/** A set of action patterns: exact names in a set, wildcard patterns in a list. */
class ActionTable {
  readonly #exact: ReadonlySet<string>;
  readonly #patterns: readonly Pattern[];
  readonly #all: boolean;

  constructor(actions: readonly string[]) {
    const exact = new Set<string>();
    const patterns: Pattern[] = [];
    let all = false;
    for (const a of actions) {
      if (a === '*') all = true;
      else if (a.includes('*') || a.includes('?')) patterns.push(compilePattern(a, 'plain', false, true));
      else exact.add(a.toLowerCase());
    }
    this.#exact = exact;
    this.#patterns = patterns;
    this.#all = all;
  }

  /** `action` must be lowercased. */
  has(action: string, ctx: RequestContextForPolicy['conditions']): boolean {
    if (this.#all || this.#exact.has(action)) return true;
    for (const p of this.#patterns) if (p.test(action, ctx)) return true;
    return false;
  }
}

class ResourceList {
  readonly #patterns: readonly Pattern[];
  readonly #all: boolean;

  constructor(resources: readonly string[], variables: boolean) {
    this.#patterns = resources.map((r) => compilePattern(r, 'resource', variables));
    this.#all = this.#patterns.some((p) => p.matchesAll);
  }

  has(resource: string, ctx: RequestContextForPolicy['conditions']): boolean {
    if (this.#all) return true;
    for (const p of this.#patterns) if (p.test(resource, ctx)) return true;
    return false;
  }
}

/** One statement with its matchers built. */
class CompiledStatement {
  readonly sid: string | undefined;
  readonly deny: boolean;
  readonly #actions: ActionTable;
  readonly #actionsNegated: boolean;
  readonly #resources: ResourceList | undefined;
  readonly #resourcesNegated: boolean;
  readonly #principal: CompiledPrincipal | undefined;
  readonly #notPrincipal: CompiledPrincipal | undefined;
  readonly #conditions: readonly CompiledCondition[];

  constructor(s: PolicyStatement, variables: boolean) {
    this.sid = s.sid;
    this.deny = s.effect === 'Deny';
    this.#actions = new ActionTable((s.action ?? s.notAction) as readonly string[]);
    this.#actionsNegated = s.action === undefined;
    const resources = s.resource ?? s.notResource;
    this.#resources = resources === undefined ? undefined : new ResourceList(resources, variables);
    this.#resourcesNegated = s.resource === undefined;
    this.#principal = s.principal === undefined ? undefined : new CompiledPrincipal(s.principal);
    this.#notPrincipal = s.notPrincipal === undefined ? undefined : new CompiledPrincipal(s.notPrincipal);
    this.#conditions = s.conditions.map((c) => compileCondition(c, variables));
  }

  /** How the statement applies to the request: 'none', or the principal match strength. */
  applies(req: RequestContextForPolicy, action: string, kind: PolicyKind): PrincipalMatch {
    const ctx = req.conditions;
    if (this.#actions.has(action, ctx) === this.#actionsNegated) return 'none';
    // A statement without Resource/NotResource (accepted in key policies) matches nothing.
    if (this.#resources === undefined || this.#resources.has(req.resource, ctx) === this.#resourcesNegated) return 'none';
    let via: PrincipalMatch = 'direct';
    if (kind === 'resource') {
      if (this.#principal !== undefined) via = this.#principal.match(req.principal);
      else if (!(this.#notPrincipal as CompiledPrincipal).notPrincipalApplies(req.principal, this.deny ? 'Deny' : 'Allow')) via = 'none';
      if (via === 'none') return 'none';
    }
    for (const c of this.#conditions) if (!c.test(ctx)) return 'none';
    return via;
  }
}

/** A policy compiled once, to be evaluated many times. */
export class CompiledPolicy {
  readonly kind: PolicyKind;
  readonly #statements: readonly CompiledStatement[];

  constructor(doc: PolicyDocument) {
    this.kind = doc.kind;
    const variables = doc.version === '2012-10-17';
    this.#statements = doc.statements.map((s) => new CompiledStatement(s, variables));
  }

  /** Evaluates the policy; `action` must already be lowercased. */
  evaluateLowered(req: RequestContextForPolicy, action: string): PolicyEvaluation {
    let allow: CompiledStatement | undefined;
    let best: PrincipalMatch = 'none';
    for (const s of this.#statements) {
      const via = s.applies(req, action, this.kind);
      if (via === 'none') continue;
      if (s.deny) return s.sid === undefined ? { effect: 'ExplicitDeny' } : { effect: 'ExplicitDeny', sid: s.sid };
      if (STRENGTH[via] > STRENGTH[best]) {
        if (allow === undefined) allow = s;
        best = via;
      }
    }
    if (allow === undefined) return NO_MATCH;
    const result: { effect: 'Allow'; sid?: string; via?: PrincipalMatch } = { effect: 'Allow' };
    if (allow.sid !== undefined) result.sid = allow.sid;
    if (this.kind === 'resource') result.via = best;
    return result;
  }
}

/** Compiles a policy from its JSON text (validating it) or from a parsed document. */
export function compilePolicy(source: string | PolicyDocument, kind?: PolicyKind): CompiledPolicy {
  if (typeof source === 'string') {
    if (kind === undefined) throw new TypeError('compilePolicy needs the policy kind for JSON text');
    return new CompiledPolicy(parsePolicy(source, { kind }));
  }
  if (kind !== undefined && kind !== source.kind) throw new TypeError(`policy document is a ${source.kind} policy, not ${kind}`);
  return new CompiledPolicy(source);
}

/** Evaluates one compiled policy against a request. */
export function evaluatePolicy(policy: CompiledPolicy, req: RequestContextForPolicy): PolicyEvaluation {
  return policy.evaluateLowered(req, req.action.toLowerCase());
}
