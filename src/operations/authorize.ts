/**
 * KMS authorization: the one call every KMS operation makes right after it resolves its key(s)
 * and before it changes anything (docs/architecture.md §3 step 4; issue 3, "Key policy enforcement
 * everywhere"). It builds the request context (kms-reference.md §9.1), gathers the applicable
 * policies — the key policy, the caller's identity-based and session policies, the SCPs that
 * bound the caller's account, and grants — and asks src/policy's `authorize` for AWS's decision
 * (§9.2). A denial is AccessDeniedException with AWS's message.
 *
 * - Key-resource actions evaluate the key policy; a key of another account is usable only by
 *   the cross-account actions of §3.1 and only when the key policy and the caller's identity
 *   policies both allow (src/policy/decide.ts).
 * - Actions without a key (CreateKey, ListKeys, GenerateRandom, …) and the alias half of alias
 *   operations are decided by identity-based policies alone, against `*` or the alias ARN.
 * - kms:ViaService: Keyhold has no AWS services calling on a user's behalf. An IAM user or role
 *   tagged `keyhold:ViaService` (e.g. `s3`, or a full `s3.us-east-1.amazonaws.com`) plays that
 *   part: its calls to key-resource actions carry kms:ViaService
 *   `<service>.<region>.amazonaws.com`. The API refuses the `keyhold:` tag namespace to every
 *   caller (only `keyhold principals tag`, run on the data directory, sets it; issue 12 item 2),
 *   and session tags do not count, so a caller cannot claim a service for itself.
 *
 * Caches (all per process, all bounded, all in the keyring's cache layer: src/store/cache.ts,
 * refreshed from the store's change feed, issue 13):
 * - compiled key policies, by key ARN and policy text (a changed policy is a new text, so an
 *   entry is never stale); key tags and aliases for aws:ResourceTag / kms:ResourceAliases,
 *   dropped when the feed reports a change to the key (tags) or to an alias naming it.
 * - per principal (access key + principal ARN): its identity, session and SCP policies,
 *   compiled, its tags, and the request-independent part of its condition keys. Dropped on any
 *   identity change the feed reports (this process's at once, other processes' at their next
 *   request) — so an IAM or Organizations change is seen by the very next request in every
 *   process on the same store — and in any case after PRINCIPAL_TTL_MS, the bound on staleness
 *   if a change notification were ever missed. AWS documents these changes as eventually
 *   consistent; Keyhold's window is at most that TTL.
 */
import type { EncryptionContext } from '../crypto/encryption-context';
import { ServiceError } from '../errors';
import type { Caller } from '../identity/caller';
import {
  compiledPolicySet,
  principalConditionKeys,
  requestPrincipal,
  resolveCallerIdentity,
  type CallerIdentity,
  type IdentityStoreDeps,
} from '../identity/identity-policies';
import { callerGranteeArns, grantAllows, grantOperationOf, grantsForGrantee, validateGrantTokens } from '../keys/grants';
import type { Keyring } from '../keys/keyring';
import type { CacheLayer, EntityCache } from '../store/cache';
import {
  accessDeniedMessage,
  authorize,
  compilePolicy,
  type CompiledPolicy,
  type Decision,
  type PolicySet,
  type RequestPrincipal,
} from '../policy';
import type { GrantConstraintsRecord, GrantRecord, KeyRecord, TagRecord } from '../store/records';
import type { AliasReader, GrantReader, GrantTokenKeyRepository, TagReader } from '../store/store';
import type { RequestContext, Services } from './operation';

/**
 * What a KMS authorization decision reads (issue 13's narrow repositories): the caller's identity
 * policies, the key's tags and aliases (condition keys), its grants and the grant-token key.
 * Every KMS operation depends on at least this.
 */
export type KmsAuthorizationStore = IdentityStoreDeps & TagReader & AliasReader & GrantReader & GrantTokenKeyRepository;

/** How long a principal's compiled policies may be reused (a safety bound; changes drop them at once). */
export const PRINCIPAL_TTL_MS = 5_000;

/** The principal tag that makes an IAM user or role act as an integrated service (kms:ViaService). */
export const VIA_SERVICE_TAG = 'keyhold:ViaService';

const MAX_ENTRIES = 10_000;

/** A request condition value as operations give it. */
export type ConditionValue = string | number | boolean | readonly string[];

/** What an operation asks to be authorized. */
export interface KmsAuthorization {
  /** The action, e.g. `kms:Encrypt`. */
  readonly action: string;
  /** The KMS key the action is on; absent for actions without a key resource. */
  readonly key?: KeyRecord;
  /**
   * The resource of an action without a key: `*` by default, the alias ARN for the alias half
   * of CreateAlias/UpdateAlias/DeleteAlias (identity-based policies only).
   */
  readonly resource?: string;
  /** The alias the request named the key by (kms:RequestAlias), e.g. `alias/app`. */
  readonly requestAlias?: string;
  /** kms:EncryptionContext:* and kms:EncryptionContextKeys. */
  readonly encryptionContext?: EncryptionContext;
  /** kms:EncryptionAlgorithm (cryptographic operations; give the default when omitted). */
  readonly encryptionAlgorithm?: string;
  /** The request's GrantTokens. */
  readonly grantTokens?: readonly string[];
  /** Further request condition keys by their AWS names, e.g. `{ 'kms:RotationPeriodInDays': 90 }`. */
  readonly conditions?: Readonly<Record<string, ConditionValue | undefined>>;
  /** CreateGrant: the grant being created (a grant allowing CreateGrant must cover it). */
  readonly childGrant?: { readonly operations: readonly string[]; readonly constraints: GrantConstraintsRecord | null };
  /**
   * Evaluate identity-based policies only, against the key's ARN, without its key policy
   * (RetireGrant by a principal of the issuing account that the grant does not name).
   */
  readonly identityOnly?: boolean;
}

/** Per key-resource action: usable across accounts (§3.1 "Cross-account"), and allowed by grants. */
interface ActionFacts {
  readonly crossAccount: boolean;
  readonly grantable: boolean;
}

const CROSS_GRANT: ActionFacts = Object.freeze({ crossAccount: true, grantable: true });
const CROSS: ActionFacts = Object.freeze({ crossAccount: true, grantable: false });
const LOCAL: ActionFacts = Object.freeze({ crossAccount: false, grantable: false });

/** kms-reference.md §3.1, lowercased. Key actions not listed are LOCAL. */
const KEY_ACTIONS: Readonly<Record<string, ActionFacts>> = Object.freeze({
  'kms:creategrant': CROSS_GRANT,
  'kms:decapsulate': CROSS_GRANT,
  'kms:decrypt': CROSS_GRANT,
  'kms:derivesharedsecret': CROSS_GRANT,
  'kms:describekey': CROSS_GRANT,
  'kms:encapsulate': CROSS_GRANT,
  'kms:encrypt': CROSS_GRANT,
  'kms:generatedatakey': CROSS_GRANT,
  'kms:generatedatakeypair': CROSS_GRANT,
  'kms:generatedatakeypairwithoutplaintext': CROSS_GRANT,
  'kms:generatedatakeywithoutplaintext': CROSS_GRANT,
  'kms:generatemac': CROSS_GRANT,
  'kms:getpublickey': CROSS_GRANT,
  'kms:reencryptfrom': CROSS_GRANT,
  'kms:reencryptto': CROSS_GRANT,
  'kms:retiregrant': CROSS_GRANT,
  'kms:sign': CROSS_GRANT,
  'kms:verify': CROSS_GRANT,
  'kms:verifymac': CROSS_GRANT,
  'kms:getkeyrotationstatus': CROSS,
  'kms:listgrants': CROSS,
  'kms:revokegrant': CROSS,
});

/** Actions whose context carries kms:GrantIsForAWSResource (§9.1). */
const GRANT_RESOURCE_ACTIONS: ReadonlySet<string> = new Set(['kms:creategrant', 'kms:listgrants', 'kms:revokegrant']);

// -------------------------------------------------------------------------------------------------
// Caches

/** A key policy's text and its compiled form. */
export interface CandidateKeyPolicy {
  readonly text: string;
  readonly compiled: CompiledPolicy;
}

interface KeyPolicyEntry extends CandidateKeyPolicy {
  readonly mentionsResourceTag: boolean;
}

interface PrincipalEntry {
  readonly identity: CallerIdentity;
  readonly principal: RequestPrincipal;
  readonly policies: Required<Pick<PolicySet, 'identityPolicies' | 'scpLevels' | 'sessionPolicies'>> & Pick<PolicySet, 'boundaryPolicies'>;
  /** The service name from the VIA_SERVICE_TAG tag, if any. */
  readonly viaService: string | undefined;
  readonly mentionsResourceTag: boolean;
  readonly mentionsResourceAliases: boolean;
  /** The principal's global condition keys for one origin, Region and second (aws:CurrentTime). */
  base?: { readonly key: string; readonly map: ReadonlyMap<string, string | readonly string[]> };
}

interface PrincipalSlot {
  readonly promise: Promise<PrincipalEntry>;
  readonly expiresAt: number;
  entry?: PrincipalEntry;
}

const lower = (s: string): string => s.toLowerCase();

const LOWERED_ACTIONS = new Map<string, string>();
/** `action` lowercased, remembered (operations name a fixed set of actions). */
function lowerAction(action: string): string {
  let l = LOWERED_ACTIONS.get(action);
  if (l === undefined) {
    l = action.toLowerCase();
    if (LOWERED_ACTIONS.size < 1000) LOWERED_ACTIONS.set(action, l);
  }
  return l;
}

/** A stored key policy that no longer parses allows nothing (fail closed). */
const ALLOW_NOTHING = compilePolicy(
  '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}',
  'resource',
);

/** The per-process caches of the authorizer, in the process's cache layer (see the module header). */
class KmsAuthorizer {
  readonly #policies: EntityCache<KeyPolicyEntry>;
  readonly #tags: EntityCache<Promise<readonly TagRecord[]>>;
  readonly #aliases: EntityCache<Promise<readonly string[]>>;
  readonly #principals: EntityCache<PrincipalSlot>;

  constructor(caches: CacheLayer) {
    this.#policies = caches.cache<KeyPolicyEntry>({ entity: 'key', maxEntries: MAX_ENTRIES });
    this.#tags = caches.cache<Promise<readonly TagRecord[]>>({ entity: 'key', maxEntries: MAX_ENTRIES });
    this.#aliases = caches.cache<Promise<readonly string[]>>({ entity: 'key-aliases', maxEntries: MAX_ENTRIES });
    this.#principals = caches.cache<PrincipalSlot>({ entity: 'identity', clearOn: ['identity'], maxEntries: MAX_ENTRIES });
  }

  /** The key's policy, compiled once per (key ARN, policy text). */
  keyPolicy(key: KeyRecord): KeyPolicyEntry {
    const hit = this.#policies.get(key.arn);
    if (hit !== undefined && hit.text === key.policy) return hit;
    const entry = compileKeyPolicyEntry(key.policy);
    this.#policies.set(key.arn, entry);
    return entry;
  }

  tags(svc: Services<KmsAuthorizationStore>, key: KeyRecord): Promise<readonly TagRecord[]> {
    return this.#memo(this.#tags, key.arn, () => svc.store.listTags(key.arn));
  }

  aliases(svc: Services<KmsAuthorizationStore>, key: KeyRecord): Promise<readonly string[]> {
    return this.#memo(this.#aliases, key.arn, async () =>
      (await svc.store.listAliases(key.accountId, key.region, key.arn, { limit: 50 })).map((a) => a.aliasName),
    );
  }

  /** Caches the promise at once (a change arriving later drops it), forgetting it if it fails. */
  #memo<T>(cache: EntityCache<Promise<T>>, arn: string, load: () => Promise<T>): Promise<T> {
    let hit = cache.get(arn);
    if (hit === undefined) {
      const p = load();
      hit = p;
      cache.set(arn, p);
      p.catch(() => {
        if (cache.get(arn) === p) cache.drop(arn);
      });
    }
    return hit;
  }

  /** The caller's policies and facts, cached per access key and principal (see the module header). */
  principal(svc: Services<KmsAuthorizationStore>, caller: Caller, now: number): PrincipalEntry | Promise<PrincipalEntry> {
    const cacheKey = `${caller.accessKeyId}\0${caller.principalArn}`;
    const hit = this.#principals.get(cacheKey);
    if (hit !== undefined && now < hit.expiresAt) return hit.entry ?? hit.promise;
    const promise = loadPrincipal(svc, caller);
    const slot: PrincipalSlot = { promise, expiresAt: now + PRINCIPAL_TTL_MS };
    this.#principals.set(cacheKey, slot);
    promise.then(
      (entry) => {
        slot.entry = entry;
      },
      () => {
        if (this.#principals.get(cacheKey) === slot) this.#principals.drop(cacheKey);
      },
    );
    return promise;
  }
}

function compileKeyPolicyEntry(text: string, compiled?: CompiledPolicy): KeyPolicyEntry {
  let c = compiled;
  if (c === undefined) {
    try {
      c = compilePolicy(text, 'resource');
    } catch {
      c = ALLOW_NOTHING;
    }
  }
  return { text, compiled: c, mentionsResourceTag: lower(text).includes('aws:resourcetag') };
}

async function loadPrincipal(svc: Services<KmsAuthorizationStore>, caller: Caller): Promise<PrincipalEntry> {
  const identity = await resolveCallerIdentity(svc.store, caller);
  const policies = compiledPolicySet(identity);
  const boundary = identity.permissionsBoundary === null ? [] : [identity.permissionsBoundary];
  const texts = [...identity.identityPolicies, ...identity.sessionPolicies, ...boundary, ...identity.scpLevels.flatMap((l) => l.policies)]
    .map((p) => lower(p.document))
    .join('\n');
  let viaService: string | undefined;
  if (identity.entity !== undefined && identity.entity.kind !== 'group') {
    const tag = (await svc.store.identity.listIamTags(identity.entity.id)).find((t) => lower(t.Key) === lower(VIA_SERVICE_TAG));
    if (tag !== undefined && tag.Value !== '') viaService = tag.Value;
  }
  return {
    identity,
    principal: requestPrincipal(caller),
    policies,
    viaService,
    mentionsResourceTag: texts.includes('aws:resourcetag'),
    mentionsResourceAliases: texts.includes('kms:resourcealiases'),
  };
}

/** The authorizer of the keyring's cache layer: made once per layer, never a module-level cache. */
function authorizerOf(keyring: Keyring): KmsAuthorizer {
  return keyring.caches.singleton('kms-authorizer', (layer) => new KmsAuthorizer(layer));
}

// -------------------------------------------------------------------------------------------------
// The request context

type ConditionMap = Map<string, string | readonly string[]>;
type ConditionValues = string | readonly string[];

/**
 * A request's condition keys: its own on top of the principal's cached base, without copying
 * the base per request (the evaluator only ever calls `get`; the rest keeps the Map contract).
 */
class LayeredConditions implements ReadonlyMap<string, ConditionValues> {
  readonly #base: ReadonlyMap<string, ConditionValues>;
  readonly own = new Map<string, ConditionValues>();

  constructor(base: ReadonlyMap<string, ConditionValues>) {
    this.#base = base;
  }

  get(key: string): ConditionValues | undefined {
    const v = this.own.get(key);
    return v !== undefined ? v : this.#base.get(key);
  }

  has(key: string): boolean {
    return this.own.has(key) || this.#base.has(key);
  }

  #merged(): Map<string, ConditionValues> {
    const m = new Map(this.#base);
    for (const [k, v] of this.own) m.set(k, v);
    return m;
  }

  get size(): number {
    return this.#merged().size;
  }

  forEach(fn: (value: ConditionValues, key: string, map: ReadonlyMap<string, ConditionValues>) => void): void {
    for (const [k, v] of this.#merged()) fn(v, k, this);
  }

  entries(): MapIterator<[string, ConditionValues]> {
    return this.#merged().entries();
  }

  keys(): MapIterator<string> {
    return this.#merged().keys();
  }

  values(): MapIterator<ConditionValues> {
    return this.#merged().values();
  }

  [Symbol.iterator](): MapIterator<[string, ConditionValues]> {
    return this.entries();
  }

  /** A copy with one more key (kms:ResourceAliases for identity policies only). */
  with(key: string, value: ConditionValues): LayeredConditions {
    const c = new LayeredConditions(this.#base);
    for (const [k, v] of this.own) c.own.set(k, v);
    c.own.set(key, value);
    return c;
  }
}

function setCondition(m: ConditionMap, name: string, value: ConditionValue | undefined): void {
  if (value === undefined) return;
  m.set(lower(name), typeof value === 'string' || Array.isArray(value) ? (value as string | readonly string[]) : String(value));
}

/** kms:ViaService for a service name or endpoint given in the principal tag. */
function viaServiceEndpoint(value: string, region: string): string {
  return value.includes('.') ? value : `${value}.${region}.amazonaws.com`;
}

/** aws:RequestTag/* and aws:TagKeys for CreateKey, ReplicateKey and TagResource. */
export function requestTagConditions(tags: readonly TagRecord[]): Record<string, ConditionValue> {
  const out: Record<string, ConditionValue> = { 'aws:TagKeys': tags.map((t) => t.TagKey) };
  for (const t of tags) out[`aws:RequestTag/${t.TagKey}`] = t.TagValue;
  return out;
}

interface BuiltContext {
  readonly conditions: ReadonlyMap<string, ConditionValues>;
  /** For the key policy: without the IAM-only keys (kms:ResourceAliases). */
  readonly resourceConditions: ReadonlyMap<string, ConditionValues> | undefined;
}

/** The principal's global condition keys (identity-policies.ts), reused within one second. */
function baseConditions(entry: PrincipalEntry, ctx: RequestContext, now: number): ReadonlyMap<string, string | readonly string[]> {
  const o = ctx.origin;
  // aws:CurrentTime and aws:EpochTime have a resolution of one second.
  const k = `${Math.floor(now / 1000)}\0${ctx.region}\0${o.sourceIp}\0${o.secureTransport}\0${o.userAgent}`;
  if (entry.base !== undefined && entry.base.key === k) return entry.base.map;
  const map = principalConditionKeys(ctx.caller, entry.identity, o, ctx.region, { now: () => now });
  entry.base = { key: k, map };
  return map;
}

function buildContext(
  ctx: RequestContext,
  req: KmsAuthorization,
  entry: PrincipalEntry,
  now: number,
  tags: readonly TagRecord[] | undefined,
  aliases: readonly string[] | undefined,
): BuiltContext {
  const layered = new LayeredConditions(baseConditions(entry, ctx, now));
  const m = layered.own;
  const key = req.key;
  if (key !== undefined) {
    m.set('kms:calleraccount', ctx.caller.accountId);
    m.set('kms:keyorigin', key.origin);
    m.set('kms:keyspec', key.keySpec);
    m.set('kms:customermasterkeyspec', key.keySpec);
    m.set('kms:keyusage', key.keyUsage);
    m.set('kms:customermasterkeyusage', key.keyUsage);
    m.set('kms:multiregion', String(key.multiRegion));
    if (key.multiRegionKeyType !== null) m.set('kms:multiregionkeytype', key.multiRegionKeyType);
    if (entry.viaService !== undefined) m.set('kms:viaservice', viaServiceEndpoint(entry.viaService, ctx.region));
    if (GRANT_RESOURCE_ACTIONS.has(lowerAction(req.action))) m.set('kms:grantisforawsresource', String(entry.viaService !== undefined));
    if (tags !== undefined) for (const t of tags) m.set(`aws:resourcetag/${lower(t.TagKey)}`, t.TagValue);
  }
  if (req.requestAlias !== undefined) m.set('kms:requestalias', req.requestAlias);
  if (req.encryptionAlgorithm !== undefined) m.set('kms:encryptionalgorithm', req.encryptionAlgorithm);
  if (req.encryptionContext !== undefined) {
    const keys = Object.keys(req.encryptionContext);
    for (const k of keys) m.set(`kms:encryptioncontext:${lower(k)}`, req.encryptionContext[k] as string);
    if (keys.length > 0) m.set('kms:encryptioncontextkeys', keys);
  }
  if (req.conditions !== undefined) for (const [k, v] of Object.entries(req.conditions)) setCondition(m, k, v);
  if (key !== undefined && aliases !== undefined) {
    return { conditions: layered.with('kms:resourcealiases', aliases), resourceConditions: layered };
  }
  return { conditions: layered, resourceConditions: undefined };
}

// -------------------------------------------------------------------------------------------------
// Grants

/**
 * Whether a grant on `key` allows the call (src/keys/grants.ts: grantee, operation, constraints
 * against the request's encryption context, CreateGrant's "equally strict or stricter" rule):
 * `direct` when it names the caller (or its role), `account` when it names only the caller's
 * account root — which, like a key policy naming the account, still needs an identity-policy
 * allow. Grants named by the request's grant tokens count at once.
 */
async function grantMatch(
  ctx: RequestContext,
  svc: Services<KmsAuthorizationStore>,
  key: KeyRecord,
  req: KmsAuthorization,
  tokenGrants: readonly GrantRecord[],
): Promise<'direct' | 'account' | undefined> {
  const operation = grantOperationOf(req.action);
  if (operation === undefined || operation === 'RetireGrant') return undefined;
  const arns = callerGranteeArns(ctx.caller);
  const stored = await grantsForGrantee(svc.keyring.caches, svc.store, key.arn, arns);
  const grants = tokenGrants.length === 0 ? stored : [...tokenGrants.filter((g) => g.keyArn === key.arn), ...stored];
  if (grants.length === 0) return undefined;
  const check = {
    operation,
    ...(ctx.caller.uniqueId === undefined ? {} : { granteeUniqueId: ctx.caller.uniqueId }),
    ...(req.encryptionContext === undefined ? {} : { encryptionContext: req.encryptionContext }),
    ...(req.childGrant === undefined ? {} : { childGrant: req.childGrant }),
  };
  const root = ctx.caller.principalType === 'Root' ? undefined : arns[arns.length - 1];
  const direct = root === undefined ? arns : arns.filter((a) => a !== root);
  if (grantAllows(grants, { ...check, granteePrincipalArns: direct })) return 'direct';
  if (root !== undefined && grantAllows(grants, { ...check, granteePrincipalArns: [root] })) return 'account';
  return undefined;
}

// -------------------------------------------------------------------------------------------------
// Deciding

/** The resource ARN a request is authorized against (and named in AccessDenied messages). */
function resourceOf(req: KmsAuthorization): string {
  return req.key?.arn ?? req.resource ?? '*';
}

const NO_RESOURCE_ALLOW: Decision = Object.freeze({ allowed: false, reason: 'no-allow-resource' });

/** Options of `decideKms` (the policy-lockout check). */
export interface DecideOptions {
  /** Evaluate this policy instead of the key's own (the policy about to be installed). */
  readonly keyPolicy?: CandidateKeyPolicy;
  /** `false` leaves grants out. */
  readonly withGrants?: boolean;
  /** The key does not exist yet: these are its tags, and it has no aliases. */
  readonly newKeyTags?: readonly TagRecord[];
}

/** Decides a request (see `authorizeKms`). */
export async function decideKms(
  ctx: RequestContext,
  svc: Services<KmsAuthorizationStore>,
  req: KmsAuthorization,
  options: DecideOptions = {},
): Promise<Decision> {
  const a = authorizerOf(svc.keyring);
  const action = lowerAction(req.action);
  const key = req.key;
  const facts = key === undefined ? undefined : (KEY_ACTIONS[action] ?? LOCAL);
  // Key operations that AWS does not offer across accounts fail whatever the policies say.
  if (key !== undefined && facts !== undefined && !facts.crossAccount && key.accountId !== ctx.caller.accountId) return NO_RESOURCE_ALLOW;

  // Every token must be genuine, needed or not (InvalidGrantTokenException).
  const tokenGrants = req.grantTokens === undefined || req.grantTokens.length === 0 ? [] : await validateGrantTokens(req.grantTokens, svc);
  const now = svc.clock.now();
  const cached = a.principal(svc, ctx.caller, now);
  const entry = cached instanceof Promise ? await cached : cached;
  let keyPolicy: KeyPolicyEntry | undefined;
  let tags: readonly TagRecord[] | undefined;
  let aliases: readonly string[] | undefined;
  if (key !== undefined) {
    if (req.identityOnly !== true) {
      keyPolicy = options.keyPolicy !== undefined ? compileKeyPolicyEntry(options.keyPolicy.text, options.keyPolicy.compiled) : a.keyPolicy(key);
    }
    // Looked up only when a policy that applies mentions them.
    if (entry.mentionsResourceTag || keyPolicy?.mentionsResourceTag === true) tags = options.newKeyTags ?? (await a.tags(svc, key));
    if (entry.mentionsResourceAliases) aliases = options.newKeyTags !== undefined ? [] : await a.aliases(svc, key);
  }
  const built = buildContext(ctx, req, entry, now, tags, aliases);
  const request = { action: req.action, resource: resourceOf(req), principal: entry.principal, conditions: built.conditions };
  const p = entry.policies;
  const set: PolicySet =
    keyPolicy === undefined
      ? p
      : {
          identityPolicies: p.identityPolicies,
          scpLevels: p.scpLevels,
          sessionPolicies: p.sessionPolicies,
          ...(p.boundaryPolicies === undefined ? {} : { boundaryPolicies: p.boundaryPolicies }),
          resourcePolicy: keyPolicy.compiled,
          resourceAccountId: (key as KeyRecord).accountId,
          ...(built.resourceConditions === undefined ? {} : { resourceConditions: built.resourceConditions }),
        };
  const d = authorize(request, set);
  // Grants only ever add permission: consult them only when the policies alone do not allow,
  // and never past an explicit deny or an SCP.
  if (d.allowed || key === undefined || facts?.grantable !== true || options.withGrants === false) return d;
  if (d.reason.startsWith('explicit-deny') || d.reason === 'no-allow-scp') return d;
  const match = await grantMatch(ctx, svc, key, req, tokenGrants);
  if (match === undefined) return d;
  // A grant to the account root: the caller's identity-based policies must allow as well;
  // when they do not, the grant adds nothing and the policies' answer stands.
  if (match === 'account') {
    const viaAccount = authorize(request, entry.policies);
    return viaAccount.allowed ? viaAccount : d;
  }
  return authorize(request, { ...set, grantAllows: true });
}

/** Throws AccessDeniedException (AWS's message) unless the caller may do what `req` asks. */
export async function authorizeKms(ctx: RequestContext, svc: Services<KmsAuthorizationStore>, req: KmsAuthorization): Promise<void> {
  const d = await decideKms(ctx, svc, req);
  if (d.allowed || d.reason === 'allowed') return;
  throw new ServiceError('AccessDeniedException', accessDeniedMessage(ctx.caller.principalArn, req.action, resourceOf(req), d.reason));
}

