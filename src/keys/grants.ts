/**
 * Grants (kms-reference.md §9.3; AWS KMS Developer Guide "Grants in AWS KMS",
 * create-grant-overview.html, grant-manage.html; API reference CreateGrant, GrantConstraints,
 * RetireGrant). The grant model's rules as functions of plain data — which operations a key type
 * can grant, CreateGrant's validation, constraint matching, the "equally strict or stricter" rule
 * for grants made through a grant, who may retire a grant — and grant tokens.
 *
 * Grant tokens. A token is base64url( 0x01 | grant id (32 bytes) | nonce (16 bytes) |
 * HMAC-SHA256(k, "keyhold/grant-token/v1" 0x00 | the preceding 49 bytes) ), 108 characters. The MAC
 * key k is 32 random bytes made on first use, stored wrapped by the root of trust and shared by
 * every process of a deployment. So every CreateGrant call returns a fresh token (the nonce), all
 * tokens of a grant are interchangeable (they name its id), a token works the moment CreateGrant
 * returns (grants are written before the response; there is no propagation delay to bridge), and
 * nobody without k can make one (the MAC). A token whose MAC fails is InvalidGrantTokenException; a
 * genuine token of a grant since retired or revoked names no grant and so allows nothing.
 *
 * Grants are strongly consistent here: AWS documents a window of up to a few minutes after
 * CreateGrant/RetireGrant/RevokeGrant (grants.html "Eventual consistency"); Keyhold has none, and
 * the grant cache below drops entries on every change.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { CacheLayer, EntityCache } from '../store/cache';
import type { EncryptionContext } from '../crypto/encryption-context';
import { ServiceError } from '../errors';
import type { Caller } from '../identity/caller';
import type { GrantConstraintsRecord, GrantRecord, KeyRecord } from '../store/records';
import type { GrantReader, GrantTokenKeyRepository } from '../store/store';
import type { RootOfTrust } from '../trust/root-of-trust';

/** The GrantOperation enum of the KMS model (npm @aws-sdk/client-kms 3.1164). */
export const GRANT_OPERATIONS: readonly string[] = Object.freeze([
  'CreateGrant', 'Decapsulate', 'Decrypt', 'DeriveSharedSecret', 'DescribeKey', 'Encapsulate', 'Encrypt',
  'GenerateDataKey', 'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext', 'GenerateDataKeyWithoutPlaintext',
  'GenerateMac', 'GetPublicKey', 'ReEncryptFrom', 'ReEncryptTo', 'RetireGrant', 'Sign', 'Verify', 'VerifyMac',
]);

/** Grants per KMS key (kms-reference.md §12.2, customer managed keys). */
export const MAX_GRANTS_PER_KEY = 50_000;
/** Encryption context pairs per constraint, and characters per constraint value (CreateGrant.Constraints). */
export const MAX_CONSTRAINT_PAIRS = 8;
export const MAX_CONSTRAINT_VALUE_LENGTH = 384;

const ANY_KEY = ['CreateGrant', 'DescribeKey', 'RetireGrant'];

/**
 * Operations a grant may allow, by key type: "the operation must be supported on the KMS key"
 * (CreateGrant.Operations) — e.g. no Sign on a symmetric key, no GenerateDataKey on an
 * asymmetric one. Symmetric encryption keys are keyed by spec, the rest by key usage.
 */
const GRANTABLE: Readonly<Record<string, ReadonlySet<string>>> = Object.freeze({
  SYMMETRIC_DEFAULT: new Set([
    ...ANY_KEY, 'Decrypt', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'GenerateDataKeyPair',
    'GenerateDataKeyPairWithoutPlaintext', 'ReEncryptFrom', 'ReEncryptTo',
  ]),
  ENCRYPT_DECRYPT: new Set([...ANY_KEY, 'Decrypt', 'Encrypt', 'ReEncryptFrom', 'ReEncryptTo', 'GetPublicKey']),
  SIGN_VERIFY: new Set([...ANY_KEY, 'Sign', 'Verify', 'GetPublicKey']),
  GENERATE_VERIFY_MAC: new Set([...ANY_KEY, 'GenerateMac', 'VerifyMac']),
  KEY_AGREEMENT: new Set([...ANY_KEY, 'DeriveSharedSecret', 'GetPublicKey']),
  ENCAPSULATE_DECAPSULATE: new Set([...ANY_KEY, 'Encapsulate', 'Decapsulate', 'GetPublicKey']),
});

/**
 * Operations that take an encryption context: the only ones encryption context constraints
 * apply to (GrantConstraints: "not applied to operations that do not support an encryption
 * context, such as ... DescribeKey or RetireGrant").
 */
const CONTEXT_OPERATIONS: ReadonlySet<string> = new Set([
  'Decrypt', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'GenerateDataKeyPair',
  'GenerateDataKeyPairWithoutPlaintext', 'ReEncryptFrom', 'ReEncryptTo',
]);

/** The operations a grant on `key` may allow. */
export function grantableOperations(key: Pick<KeyRecord, 'keySpec' | 'keyUsage'>): ReadonlySet<string> {
  return GRANTABLE[key.keySpec === 'SYMMETRIC_DEFAULT' ? 'SYMMETRIC_DEFAULT' : key.keyUsage] ?? new Set(ANY_KEY);
}

/** The GrantOperation an IAM action names ("kms:Decrypt" -> "Decrypt"), or undefined when no grant can allow it. */
export function grantOperationOf(action: string): string | undefined {
  const op = action.startsWith('kms:') ? action.slice(4) : undefined;
  return op !== undefined && GRANT_OPERATIONS.includes(op) ? op : undefined;
}

// ---------------------------------------------------------------------------------------------
// Principals

/** IAM and STS principal ARNs a grant may name (IAM User Guide, reference_identifiers). IAM groups are not principals. */
const PRINCIPAL_ARN = /^arn:aws[a-z-]*:(?:iam::\d{12}:(?:root|user\/.+|role\/.+|federated-user\/.+)|sts::\d{12}:(?:assumed-role\/[^/]+\/.+|federated-user\/.+))$/;
/** AWS service principals, e.g. dynamodb.us-west-2.amazonaws.com (grants.html "grantee principal"). */
const SERVICE_PRINCIPAL = /^[a-z0-9][a-z0-9.-]*\.amazonaws\.com(?:\.cn)?$/;

/** Whether `s` is an IAM or STS principal ARN. */
export function isPrincipalArn(s: string): boolean {
  return PRINCIPAL_ARN.test(s);
}

/** Whether `s` is an AWS service principal name. */
export function isServicePrincipal(s: string): boolean {
  return SERVICE_PRINCIPAL.test(s);
}

/** The account of a principal ARN; undefined when `s` is not one. */
export function principalAccount(s: string): string | undefined {
  return isPrincipalArn(s) ? s.split(':')[4] : undefined;
}

function rootOf(partition: string, accountId: string): string {
  return `arn:${partition}:iam::${accountId}:root`;
}

/**
 * Every ARN a grant may name `caller` by: its own ARN (user, account root or assumed-role
 * session), the role of a session, and its account's root. A grant whose grantee is the account
 * root is the account's, so the authorization engine must also require an identity-policy allow
 * when a non-root caller matched only through it (as a key policy naming the account does).
 */
export function callerGranteeArns(caller: Caller): string[] {
  const out = [caller.principalArn];
  if (caller.session !== undefined) out.push(caller.session.issuer.arn);
  const root = rootOf(caller.principalArn.split(':')[1] ?? 'aws', caller.accountId);
  if (!out.includes(root)) out.push(root);
  return out;
}

// ---------------------------------------------------------------------------------------------
// CreateGrant validation

/** What a CreateGrant request asks for (wire members). */
export interface GrantRequest {
  readonly GranteePrincipal?: string;
  readonly GranteeServicePrincipal?: string;
  readonly RetiringPrincipal?: string;
  readonly RetiringServicePrincipal?: string;
  readonly Operations: readonly string[];
  readonly Constraints?: GrantConstraintsRecord;
  readonly Name?: string;
}

/** A validated CreateGrant request, normalised: operations without duplicates, no empty constraint maps. */
export type ValidGrantRequest = Pick<
  GrantRecord,
  'granteePrincipal' | 'granteeServicePrincipal' | 'retiringPrincipal' | 'retiringServicePrincipal' | 'operations' | 'constraints' | 'name'
>;

function validation(message: string): ServiceError {
  return new ServiceError('ValidationException', message);
}

function notNull(member: string): ServiceError {
  return validation(`1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`);
}

function checkPrincipal(member: string, value: string, service: boolean): void {
  const ok = service ? isServicePrincipal(value) : isPrincipalArn(value) || isServicePrincipal(value);
  if (!ok) {
    throw new ServiceError(
      'InvalidArnException',
      service ? `${member} must be an AWS service principal.` : `${member} must be the ARN of an AWS principal or an AWS service principal.`,
    );
  }
}

function normaliseContext(member: string, ctx: Readonly<Record<string, string>> | undefined): Record<string, string> | undefined {
  if (ctx === undefined) return undefined;
  const keys = Object.keys(ctx);
  // An empty map is treated as not specified (IAM Access Analyzer, KmsGrantConstraints).
  if (keys.length === 0) return undefined;
  if (keys.length > MAX_CONSTRAINT_PAIRS) {
    throw validation(`The ${member} grant constraint can include up to ${MAX_CONSTRAINT_PAIRS} encryption context pairs.`);
  }
  const out: Record<string, string> = {};
  for (const k of keys.sort()) {
    const v = ctx[k] as string;
    if (v.length > MAX_CONSTRAINT_VALUE_LENGTH) {
      throw validation(`The values in the ${member} grant constraint cannot exceed ${MAX_CONSTRAINT_VALUE_LENGTH} characters.`);
    }
    out[k] = v;
  }
  return out;
}

/**
 * Checks the parts of a CreateGrant request that do not depend on the key (exactly one grantee,
 * at most one retiring principal, principal formats, operations, constraint sizes) and returns
 * them normalised. Throws ValidationException or InvalidArnException.
 */
export function validateGrantRequest(req: GrantRequest): ValidGrantRequest {
  if (req.GranteePrincipal !== undefined && req.GranteeServicePrincipal !== undefined) {
    throw validation('You must specify either GranteePrincipal or GranteeServicePrincipal, but not both.');
  }
  if (req.GranteePrincipal === undefined && req.GranteeServicePrincipal === undefined) throw notNull('granteePrincipal');
  if (req.RetiringPrincipal !== undefined && req.RetiringServicePrincipal !== undefined) {
    throw validation('You can specify either RetiringPrincipal or RetiringServicePrincipal, but not both.');
  }
  if (req.Operations.length === 0) {
    throw validation("1 validation error detected: Value '[]' at 'operations' failed to satisfy constraint: Member must have length greater than or equal to 1");
  }
  const operations = [...new Set(req.Operations)];
  // AWS's own message for a grant of CreateGrant alone.
  if (operations.length === 1 && operations[0] === 'CreateGrant') throw validation('Grants must not contain only the CreateGrant operation.');
  if (req.GranteePrincipal !== undefined) checkPrincipal('GranteePrincipal', req.GranteePrincipal, false);
  if (req.GranteeServicePrincipal !== undefined) checkPrincipal('GranteeServicePrincipal', req.GranteeServicePrincipal, true);
  if (req.RetiringPrincipal !== undefined) checkPrincipal('RetiringPrincipal', req.RetiringPrincipal, false);
  if (req.RetiringServicePrincipal !== undefined) checkPrincipal('RetiringServicePrincipal', req.RetiringServicePrincipal, true);

  const equals = normaliseContext('EncryptionContextEquals', req.Constraints?.EncryptionContextEquals);
  const subset = normaliseContext('EncryptionContextSubset', req.Constraints?.EncryptionContextSubset);
  const sourceArn = req.Constraints?.SourceArn;
  if (sourceArn !== undefined && !/^arn:[a-z-]+:[a-z0-9-]+:[a-z0-9-]*:(?:\d{12})?:.+$/.test(sourceArn)) {
    throw new ServiceError('InvalidArnException', 'The SourceArn grant constraint must be an ARN.');
  }
  // CreateGrant.GranteeServicePrincipal: "you must also specify a SourceArn grant constraint ...
  // [and] either a RetiringPrincipal or a RetiringServicePrincipal".
  if (req.GranteeServicePrincipal !== undefined) {
    if (sourceArn === undefined) throw validation('When you specify a GranteeServicePrincipal, you must also specify a SourceArn grant constraint.');
    if (req.RetiringPrincipal === undefined && req.RetiringServicePrincipal === undefined) {
      throw validation('When you specify a GranteeServicePrincipal, you must also specify a RetiringPrincipal or a RetiringServicePrincipal.');
    }
  }
  const constraints: GrantConstraintsRecord | null =
    equals === undefined && subset === undefined && sourceArn === undefined
      ? null
      : {
          ...(equals !== undefined ? { EncryptionContextEquals: equals } : {}),
          ...(subset !== undefined ? { EncryptionContextSubset: subset } : {}),
          ...(sourceArn !== undefined ? { SourceArn: sourceArn } : {}),
        };
  return {
    granteePrincipal: req.GranteePrincipal ?? null,
    granteeServicePrincipal: req.GranteeServicePrincipal ?? null,
    retiringPrincipal: req.RetiringPrincipal ?? null,
    retiringServicePrincipal: req.RetiringServicePrincipal ?? null,
    operations,
    constraints,
    name: req.Name ?? null,
  };
}

/**
 * Checks a validated request against the key it is for: every operation supported by the key
 * type, and encryption context constraints only on symmetric encryption keys ("You cannot use an
 * encryption context grant constraint for cryptographic operations with asymmetric KMS keys or
 * HMAC KMS keys"). Throws ValidationException.
 */
export function validateGrantForKey(req: ValidGrantRequest, key: Pick<KeyRecord, 'arn' | 'keySpec' | 'keyUsage'>): void {
  const allowed = grantableOperations(key);
  const refused = req.operations.filter((op) => !allowed.has(op));
  if (refused.length > 0) {
    throw validation(
      `The operation${refused.length === 1 ? '' : 's'} ${refused.join(', ')} cannot be granted on ${key.arn}: ` +
        `its KeySpec ${key.keySpec} and KeyUsage ${key.keyUsage} do not support ${refused.length === 1 ? 'it' : 'them'}.`,
    );
  }
  const c = req.constraints;
  if (c !== null && (c.EncryptionContextEquals !== undefined || c.EncryptionContextSubset !== undefined) && key.keySpec !== 'SYMMETRIC_DEFAULT') {
    throw validation(`Encryption context grant constraints are not supported on ${key.arn}: its operations do not take an encryption context.`);
  }
}

/** A new grant id: 64 lowercase hex digits, as AWS's. */
export function newGrantId(): string {
  return randomBytes(32).toString('hex');
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) out[k] = canonical((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

/**
 * The idempotency key of a named grant: a digest of everything that makes two grants "the
 * same" — key, issuing account, name, principals, the set of operations and the constraints
 * (create-grant-overview.html: a request "for a grant with the same properties as an existing
 * grant, including the name" is a retry). Null for unnamed grants, which are never retries.
 */
export function grantIdempotencyKey(keyArn: string, issuingAccount: string, req: ValidGrantRequest): string | null {
  if (req.name === null) return null;
  const fields = {
    keyArn,
    issuingAccount,
    name: req.name,
    granteePrincipal: req.granteePrincipal,
    granteeServicePrincipal: req.granteeServicePrincipal,
    retiringPrincipal: req.retiringPrincipal,
    retiringServicePrincipal: req.retiringServicePrincipal,
    operations: [...req.operations].sort(),
    constraints: req.constraints,
  };
  return createHash('sha256').update(JSON.stringify(canonical(fields))).digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Does a grant allow this call?

/**
 * Whether `context` satisfies `constraints`' encryption context constraints. Per GrantConstraints,
 * "in a grant constraint, the key in each key-value pair is not case sensitive, but the value is
 * case sensitive". Equals: the request's pairs are exactly the constraint's. Subset: every
 * constraint pair is among the request's. Both present: both must hold.
 */
export function encryptionContextSatisfies(constraints: GrantConstraintsRecord | null, context: EncryptionContext | undefined): boolean {
  if (constraints === null) return true;
  const ctx = context ?? {};
  const { EncryptionContextEquals: equals, EncryptionContextSubset: subset } = constraints;
  if (subset !== undefined && !pairsIncluded(subset, ctx)) return false;
  if (equals !== undefined && !(pairsIncluded(equals, ctx) && pairsIncluded(ctx, equals))) return false;
  return true;
}

/** Whether every pair of `inner` is in `outer`, keys compared case-insensitively, values exactly. */
function pairsIncluded(inner: Readonly<Record<string, string>>, outer: Readonly<Record<string, string>>): boolean {
  const byKey = new Map<string, string[]>();
  for (const k of Object.keys(outer)) {
    const lk = k.toLowerCase();
    const vs = byKey.get(lk);
    if (vs === undefined) byKey.set(lk, [outer[k] as string]);
    else vs.push(outer[k] as string);
  }
  for (const k of Object.keys(inner)) {
    if (!(byKey.get(k.toLowerCase()) ?? []).includes(inner[k] as string)) return false;
  }
  return true;
}

/**
 * Whether `child` constraints are at least as strict as `parent`'s (create-grant-overview.html,
 * "Granting CreateGrant permission"): a child may add pairs to an EncryptionContextSubset or turn it
 * into an EncryptionContextEquals that includes its pairs, but never remove pairs or loosen an
 * EncryptionContextEquals; a SourceArn constraint must be kept.
 */
export function constraintsAtLeastAsStrict(child: GrantConstraintsRecord | null | undefined, parent: GrantConstraintsRecord | null): boolean {
  if (parent === null) return true;
  const c = child ?? {};
  if (parent.EncryptionContextEquals !== undefined) {
    const e = c.EncryptionContextEquals;
    if (e === undefined || !pairsIncluded(parent.EncryptionContextEquals, e) || !pairsIncluded(e, parent.EncryptionContextEquals)) return false;
  }
  if (parent.EncryptionContextSubset !== undefined) {
    const s = parent.EncryptionContextSubset;
    const viaSubset = c.EncryptionContextSubset !== undefined && pairsIncluded(s, c.EncryptionContextSubset);
    const viaEquals = c.EncryptionContextEquals !== undefined && pairsIncluded(s, c.EncryptionContextEquals);
    if (!viaSubset && !viaEquals) return false;
  }
  if (parent.SourceArn !== undefined && c.SourceArn !== parent.SourceArn) return false;
  return true;
}

/** What a request asks of the grants on its key. */
export interface GrantCheck {
  /**
   * The GrantOperation the request needs (see `grantOperationOf`): "Decrypt", "ReEncryptFrom" on
   * ReEncrypt's source key and "ReEncryptTo" on its destination, "CreateGrant", "DescribeKey"...
   * RetireGrant is decided by `mayRetireGrant`, never here.
   */
  readonly operation: string;
  /** Every ARN the caller may be named by (`callerGranteeArns`). */
  readonly granteePrincipalArns: readonly string[];
  /**
   * The caller's unique id: its user's (AIDA…) or, for a role session, its role's (AROA…). A
   * grant bound to another id (an earlier user or role of the same name) does not apply.
   */
  readonly granteeUniqueId?: string;
  /** The request's encryption context (ReEncryptFrom: the source context; ReEncryptTo: the destination context). */
  readonly encryptionContext?: EncryptionContext;
  /** CreateGrant through a grant: the grant being created. */
  readonly childGrant?: { readonly operations: readonly string[]; readonly constraints: GrantConstraintsRecord | null };
  /** The request's aws:SourceArn, when a service calls on behalf of a resource. */
  readonly sourceArn?: string;
}

/** Whether one grant allows the call. */
function allows(g: GrantRecord, check: GrantCheck): boolean {
  if (g.granteePrincipal === null || !check.granteePrincipalArns.includes(g.granteePrincipal)) return false;
  if (!boundTo(g, check.granteeUniqueId)) return false;
  const op = check.operation;
  if (op === 'RetireGrant' || !g.operations.includes(op)) return false;
  const c = g.constraints;
  if (op === 'CreateGrant') {
    const child = check.childGrant;
    if (child === undefined || !child.operations.every((o) => g.operations.includes(o))) return false;
    return constraintsAtLeastAsStrict(child.constraints, c);
  }
  if (c === null) return true;
  if (CONTEXT_OPERATIONS.has(op) && !encryptionContextSatisfies(c, check.encryptionContext)) return false;
  if (c.SourceArn !== undefined) {
    // SourceArn "can also be applied to the DescribeKey operation when specified in the request".
    if (op === 'DescribeKey') return check.sourceArn === undefined || check.sourceArn === c.SourceArn;
    return check.sourceArn === c.SourceArn;
  }
  return true;
}

/**
 * The first of `grants` that allows the call, or undefined. Grants only allow; a grant that does
 * not match simply adds nothing (grants.html: "You can use them to allow access, but not deny it").
 */
export function findAllowingGrant(grants: readonly GrantRecord[], check: GrantCheck): GrantRecord | undefined {
  return grants.find((g) => allows(g, check));
}

/** Whether a grant bound to a grantee's unique id is bound to `uniqueId` (unbound grants: yes). */
function boundTo(g: GrantRecord, uniqueId: string | undefined): boolean {
  return g.granteePrincipalId == null || g.granteePrincipalId === uniqueId;
}

/** Whether any of `grants` allows the call (see `GrantCheck`). */
export function grantAllows(grants: readonly GrantRecord[], check: GrantCheck): boolean {
  return findAllowingGrant(grants, check) !== undefined;
}

/** Why a caller may retire a grant (RetireGrant API reference; grant-manage.html "Retiring and revoking grants"). */
export type RetireRight = 'retiring-principal' | 'grantee' | 'issuing-account';

/**
 * Whether the grant itself lets the caller retire it: its retiring principal, its grantee when
 * it allows RetireGrant, or the root of the account it was created in. Other principals of that
 * account may retire it when their identity policies allow kms:RetireGrant (the authorization
 * engine's part). Encryption context constraints do not apply to RetireGrant.
 */
export function mayRetireGrant(grant: GrantRecord, principalArns: readonly string[], uniqueId?: string): RetireRight | undefined {
  if (grant.retiringPrincipal !== null && principalArns.includes(grant.retiringPrincipal)) return 'retiring-principal';
  if (
    grant.granteePrincipal !== null && grant.operations.includes('RetireGrant') && principalArns.includes(grant.granteePrincipal) &&
    boundTo(grant, uniqueId)
  ) {
    return 'grantee';
  }
  const partition = grant.keyArn.split(':')[1] ?? 'aws';
  if (principalArns.includes(rootOf(partition, grant.issuingAccount))) return 'issuing-account';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Grant tokens

const TOKEN_VERSION = 1;
const ID_BYTES = 32;
const NONCE_BYTES = 16;
const TAG_BYTES = 32;
const TOKEN_BYTES = 1 + ID_BYTES + NONCE_BYTES + TAG_BYTES;
/** Characters in a grant token (base64url, no padding). */
export const GRANT_TOKEN_LENGTH = Math.ceil((TOKEN_BYTES * 4) / 3);
const TOKEN_DOMAIN = Buffer.from('keyhold/grant-token/v1\0');
const KEY_AAD = Buffer.from('keyhold/grant-token-key/v1');
/** The message of every InvalidGrantTokenException (the model's description of the error). */
export const INVALID_GRANT_TOKEN = 'The request was rejected because the specified grant token is not valid.';

function tag(macKey: Buffer, body: Buffer): Buffer {
  return createHmac('sha256', macKey).update(TOKEN_DOMAIN).update(body).digest();
}

/** Makes a token for `grantId` (64 hex digits) under `macKey`; a fresh nonce makes each token unique. */
export function encodeGrantToken(grantId: string, macKey: Buffer, nonce: Buffer = randomBytes(NONCE_BYTES)): string {
  if (!/^[0-9a-f]{64}$/.test(grantId) || nonce.length !== NONCE_BYTES) throw new Error('grant token: bad grant id or nonce');
  const body = Buffer.concat([Buffer.from([TOKEN_VERSION]), Buffer.from(grantId, 'hex'), nonce]);
  return Buffer.concat([body, tag(macKey, body)]).toString('base64url');
}

/** The grant id a token names, or undefined when it is not a token made under `macKey`. */
export function decodeGrantToken(token: string, macKey: Buffer): string | undefined {
  if (token.length !== GRANT_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  const raw = Buffer.from(token, 'base64url');
  // Only the canonical encoding: no two strings name one token.
  if (raw.length !== TOKEN_BYTES || raw.toString('base64url') !== token || raw[0] !== TOKEN_VERSION) return undefined;
  const body = raw.subarray(0, TOKEN_BYTES - TAG_BYTES);
  if (!timingSafeEqual(raw.subarray(TOKEN_BYTES - TAG_BYTES), tag(macKey, body))) return undefined;
  return body.subarray(1, 1 + ID_BYTES).toString('hex');
}

/** What grant tokens and the grant cache need. */
export interface GrantDeps {
  readonly store: Pick<GrantReader, 'getGrant'> & GrantTokenKeyRepository;
  readonly trust: RootOfTrust;
}

const macKeys = new WeakMap<GrantTokenKeyRepository, Promise<Buffer>>();

async function loadMacKey(deps: GrantDeps): Promise<Buffer> {
  const fresh = randomBytes(32);
  let stored: Buffer;
  try {
    stored = await deps.store.ensureGrantTokenKey(await deps.trust.wrap(fresh, KEY_AAD));
  } finally {
    fresh.fill(0);
  }
  return deps.trust.unwrap(stored, KEY_AAD);
}

/** The deployment's grant-token MAC key, made and stored on first use, then cached per store. */
export function grantTokenKey(deps: GrantDeps): Promise<Buffer> {
  let p = macKeys.get(deps.store);
  if (p === undefined) {
    p = loadMacKey(deps);
    macKeys.set(deps.store, p);
    p.catch(() => macKeys.delete(deps.store));
  }
  return p;
}

/** A new token for a grant (CreateGrant's GrantToken). */
export async function issueGrantToken(deps: GrantDeps, grantId: string): Promise<string> {
  return encodeGrantToken(grantId, await grantTokenKey(deps));
}

/** The grant id a token names; InvalidGrantTokenException when it is not a token Keyhold made. */
export async function grantIdOfToken(deps: GrantDeps, token: string): Promise<string> {
  const id = decodeGrantToken(token, await grantTokenKey(deps));
  if (id === undefined) throw new ServiceError('InvalidGrantTokenException', INVALID_GRANT_TOKEN);
  return id;
}

/**
 * Checks a request's GrantTokens and returns the grants they name. Any token Keyhold did not make
 * fails the request with InvalidGrantTokenException, needed or not (AWS answers an invalid token
 * with that error on every operation that takes GrantTokens). A genuine token of a grant that has
 * since been retired or revoked names nothing and is skipped.
 */
export async function validateGrantTokens(tokens: readonly string[] | undefined, deps: GrantDeps): Promise<GrantRecord[]> {
  if (tokens === undefined || tokens.length === 0) return [];
  const ids = new Set<string>();
  for (const t of tokens) ids.add(await grantIdOfToken(deps, t));
  const out: GrantRecord[] = [];
  for (const id of ids) {
    const g = await deps.store.getGrant(id);
    if (g !== undefined) out.push(g);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The grant cache for authorization

/** Cached grant lists per (key ARN, grantee principals): a cache of the layer, dropped on any change to the key's grants. */
function grantCache(caches: CacheLayer): EntityCache<readonly GrantRecord[]> {
  return caches.singleton('grants-for-grantee', (layer) => layer.cache<readonly GrantRecord[]>({ entity: 'grant' }));
}

/**
 * The grants of a key naming one of `granteePrincipalArns` as grantee, cached in the process's
 * cache layer until the change feed reports a change to the key's grants (src/store/cache.ts).
 * Keys without grants cost one lookup until the next change.
 */
export function grantsForGrantee(
  caches: CacheLayer,
  store: Pick<GrantReader, 'listGrantsForGrantee'>,
  keyArn: string,
  granteePrincipalArns: readonly string[],
): Promise<readonly GrantRecord[]> {
  return grantCache(caches).load(
    keyArn,
    async () => Object.freeze(await store.listGrantsForGrantee(keyArn, granteePrincipalArns)),
    granteePrincipalArns.join('\0'),
  );
}
