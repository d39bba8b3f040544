/**
 * AWS Signature Version 4 verifier (AWS4-HMAC-SHA256, Authorization-header form).
 *
 * Recomputes the signature of an incoming request the way the client computed it and compares
 * the two in constant time. Algorithm: IAM User Guide, "Create a signed AWS API request"
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html) and
 * kms-reference.md §2. The canonical URI follows the generic (non-S3) rules of the official
 * test suite: dot segments and empty segments removed, then every byte outside RFC 3986
 * "unreserved" percent-encoded (so an already-encoded path is encoded twice). Error names and
 * messages mirror what AWS sends (kms-reference.md §1). No error message ever contains the
 * secret, the signature, the session token or the body.
 *
 * Query-string (presigned URL) authentication is not supported: SDKs do not use it for KMS
 * (kms-reference.md §2), and rejecting it keeps a second signing path out of the attack
 * surface.
 *
 * Hot path: with a cached signing key a verification is two one-shot SHA-256 calls (body,
 * canonical request) plus an HMAC computed from precomputed RFC 2104 pad blocks, i.e. two
 * more one-shot hashes; no Hash/Hmac objects are created (one `createHmac` alone costs about
 * as much as the whole rest of the check).
 *
 * Limits of JavaScript: the secret arrives as a string and `createHmac` copies its key, so
 * neither can be wiped; the derived key buffers this module owns are zeroed when dropped.
 */
import { createHash, createHmac, hash, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock';
import { ServiceError } from '../errors';

/** A credential the resolver knows; extra members (principal info) are returned untouched. */
export interface SigningCredential {
  readonly accessKeyId: string;
  /** Secret access key. */
  readonly secret: string;
  /** Present for temporary (STS) credentials; the request must carry it as X-Amz-Security-Token. */
  readonly sessionToken?: string;
  readonly [extra: string]: unknown;
}

/** Looks up a credential by access key id; synchronous, the caller caches. */
export interface CredentialResolver {
  resolve(accessKeyId: string): SigningCredential | undefined;
}

/** The parts of an HTTP request the verifier reads. */
export interface SignedRequest {
  readonly method: string;
  /** Raw request target, e.g. "/" or "/path?x=1" (Node's `req.url`). */
  readonly url: string;
  /** Node's `req.rawHeaders`: name, value, name, value, ... */
  readonly rawHeaders: readonly string[];
  /** The exact body bytes. */
  readonly body: Buffer;
}

/** Verifier configuration. */
export interface SigV4Options {
  /** Signing names accepted in the credential scope, e.g. new Set(['kms']). */
  readonly services: ReadonlySet<string>;
  /** Regions accepted in the credential scope. */
  readonly regions: ReadonlySet<string>;
  /**
   * Global services (IAM, Organizations, STS's global endpoint) that AWS clients sign for
   * us-east-1 whatever Region they use: accepted in us-east-1 too, even if it is not served.
   */
  readonly globalServices?: ReadonlySet<string>;
  readonly clock: Clock;
  /** Allowed clock skew either way; default 5 minutes (kms-reference.md §2). */
  readonly maxSkewMs?: number;
  /** Bound of the signing-key cache; default 1024. */
  readonly cacheSize?: number;
}

/** What a successful verification established. */
export interface VerifiedRequest<C extends SigningCredential = SigningCredential> {
  readonly credential: C;
  readonly region: string;
  readonly service: string;
  /** Request time in ISO-8601 basic format (yyyyMMddTHHmmssZ), as used in the string to sign. */
  readonly amzDate: string;
}

/** Default allowed clock skew: AWS KMS rejects requests more than 5 minutes off. */
export const DEFAULT_MAX_SKEW_MS = 5 * 60_000;
/** Default bound of the signing-key cache. */
export const DEFAULT_SIGNING_KEY_CACHE_SIZE = 1024;

const ALGORITHM = 'AWS4-HMAC-SHA256';
/** Where AWS's global services are signed (the aws partition's global endpoint's credential scope). */
const GLOBAL_SIGNING_REGION = 'us-east-1';
const TERMINATOR = 'aws4_request';
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** SHA-256 block size, the HMAC pad length (RFC 2104 §2). */
const BLOCK = 64;
const SIGNATURE_RE = /^[0-9a-f]{64}$/;
/** Longest client-supplied value (date, region, ...) quoted back in an error message. */
const MAX_ECHO = 64;

const MSG_MISSING_TOKEN = 'Missing Authentication Token';
const MSG_INVALID_TOKEN = 'The security token included in the request is invalid.';
const MSG_MISMATCH =
  'The request signature we calculated does not match the signature you provided. ' +
  'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';
const MSG_DATE_REQUIRED =
  "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.";

/** Verifies SigV4-signed requests against credentials from a resolver. */
export class SigV4Verifier<C extends SigningCredential> {
  readonly #resolver: { resolve(id: string): C | undefined };
  readonly #services: ReadonlySet<string>;
  readonly #regions: ReadonlySet<string>;
  readonly #globalServices: ReadonlySet<string>;
  readonly #clock: Clock;
  readonly #maxSkewMs: number;
  readonly #skewLabel: string;
  readonly #serviceLabel: string;
  readonly #cacheSize: number;
  /** "<akid>/<date>/<region>/<service>/aws4_request" -> derived key pads, with the secret they came from. */
  readonly #keys = new Map<string, CachedKey>();
  /** Scratch for ipad || string-to-sign; verify() is synchronous, so one per verifier suffices. */
  #inner = Buffer.alloc(512);
  /** Scratch for opad || inner digest. */
  readonly #outer = Buffer.alloc(BLOCK + 32);
  /** The signature the client sent, decoded. */
  readonly #provided = Buffer.alloc(32);

  constructor(resolver: { resolve(id: string): C | undefined }, options: SigV4Options) {
    const maxSkewMs = options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
    const cacheSize = options.cacheSize ?? DEFAULT_SIGNING_KEY_CACHE_SIZE;
    if (options.services.size === 0) throw new TypeError('options.services must not be empty');
    if (options.regions.size === 0) throw new TypeError('options.regions must not be empty');
    if (!Number.isFinite(maxSkewMs) || maxSkewMs < 0) {
      throw new TypeError('options.maxSkewMs must be a finite number >= 0');
    }
    if (!Number.isSafeInteger(cacheSize) || cacheSize < 1) {
      throw new TypeError('options.cacheSize must be an integer >= 1');
    }
    this.#resolver = resolver;
    this.#services = new Set(options.services);
    this.#regions = new Set(options.regions);
    this.#globalServices = new Set(options.globalServices ?? []);
    this.#clock = options.clock;
    this.#maxSkewMs = maxSkewMs;
    this.#skewLabel = `${maxSkewMs / 60_000} min.`;
    this.#serviceLabel = [...this.#services].join("' or '");
    this.#cacheSize = cacheSize;
  }

  /** Verifies the request's signature; throws a ServiceError carrying the AWS error name. */
  verify(req: SignedRequest): VerifiedRequest<C> {
    const raw = req.rawHeaders;
    const h = scanHeaders(raw);
    if (h.authorization === undefined) throw missingAuthentication(req.url);

    const auth = parseAuthorization(h.authorization, h.amzDate !== undefined || h.date !== undefined);
    const scope = parseCredential(auth.credential);
    const time = requestTime(h);
    requireSigned(auth.signedHeaders, 'host', "'Host' or ':authority'");
    requireSigned(auth.signedHeaders, time.header, time.header === 'date' ? "'Date'" : "'X-Amz-Date'");
    requireAmzHeadersSigned(raw, auth.signedHeaders);

    this.#checkScope(scope, time.amzDate);
    this.#checkSkew(time);

    const credential = this.#resolver.resolve(scope.accessKeyId);
    if (credential === undefined) throw new ServiceError('UnrecognizedClientException', MSG_INVALID_TOKEN);
    checkSessionToken(credential.sessionToken, h.securityToken);

    // The JS SDK v3 sends X-Amz-Content-Sha256 on KMS calls too (smithy's applyChecksum
    // defaults to true); it must then equal the real body hash. UNSIGNED-PAYLOAD is S3-only.
    const payloadHash = req.body.length === 0 ? EMPTY_SHA256 : sha256Hex(req.body);
    if (h.contentSha256 !== undefined && h.contentSha256 !== payloadHash) {
      throw new ServiceError('InvalidSignatureException', contentSha256Message(h.contentSha256));
    }

    const url = req.url;
    const q = url.indexOf('?');
    const canonicalRequest =
      req.method + '\n' +
      canonicalUri(q < 0 ? url : url.slice(0, q)) + '\n' +
      (q < 0 ? '' : canonicalQuery(url.slice(q + 1))) + '\n' +
      canonicalHeaders(raw, auth.signedHeaders) + '\n' +
      auth.signedHeaders + '\n' +
      payloadHash;
    const stringToSign =
      ALGORITHM + '\n' +
      time.amzDate + '\n' +
      scope.scope + '\n' +
      sha256Hex(canonicalRequest);

    const expected = this.#hmac(this.#signingKey(auth.credential, credential.secret, scope), stringToSign);
    this.#provided.write(auth.signature, 0, 'hex'); // 64 hex digits, checked by parseAuthorization
    const match = timingSafeEqual(expected, this.#provided);
    expected.fill(0);
    if (!match) throw new ServiceError('InvalidSignatureException', MSG_MISMATCH);
    return { credential, region: scope.region, service: scope.service, amzDate: time.amzDate };
  }

  /** Credential scope must name the request's date, a served region and service, and aws4_request. */
  #checkScope(scope: CredentialScope, amzDate: string): void {
    if (!amzDate.startsWith(scope.date) || scope.date.length !== 8) {
      throw new ServiceError(
        'InvalidSignatureException',
        'Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: ' +
          `${quote(scope.date)} != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
      );
    }
    if (!this.#regions.has(scope.region) && !(scope.region === GLOBAL_SIGNING_REGION && this.#globalServices.has(scope.service))) {
      throw new ServiceError(
        'InvalidSignatureException',
        `Credential should be scoped to a valid region, not ${quote(scope.region)}. `,
      );
    }
    if (!this.#services.has(scope.service)) {
      throw new ServiceError(
        'InvalidSignatureException',
        `Credential should be scoped to correct service: '${this.#serviceLabel}'. `,
      );
    }
    if (scope.terminator !== TERMINATOR) {
      throw new ServiceError(
        'InvalidSignatureException',
        `Credential should be scoped with a valid terminator: '${TERMINATOR}', not ${quote(scope.terminator)}. `,
      );
    }
  }

  /** Rejects requests dated more than maxSkewMs before or after the clock (AWS wording). */
  #checkSkew(time: RequestTime): void {
    const now = this.#clock.now();
    if (time.ms < now - this.#maxSkewMs) {
      throw new ServiceError(
        'InvalidSignatureException',
        `Signature expired: ${time.amzDate} is now earlier than ${basicFormat(now - this.#maxSkewMs)} ` +
          `(${basicFormat(now)} - ${this.#skewLabel})`,
      );
    }
    if (time.ms > now + this.#maxSkewMs) {
      throw new ServiceError(
        'InvalidSignatureException',
        `Signature not yet current: ${time.amzDate} is still later than ${basicFormat(now + this.#maxSkewMs)} ` +
          `(${basicFormat(now)} + ${this.#skewLabel})`,
      );
    }
  }

  /**
   * The signing key for (access key, secret, date, region, service), as HMAC pad blocks. Cached
   * by the Credential string, which already spells out everything but the secret; a changed
   * secret misses. Eviction is oldest-first; dropped pads are zeroed.
   */
  #signingKey(credential: string, secret: string, scope: CredentialScope): CachedKey {
    const hit = this.#keys.get(credential);
    if (hit !== undefined) {
      if (hit.secret === secret) return hit;
      this.#keys.delete(credential);
      wipe(hit);
    } else if (this.#keys.size >= this.#cacheSize) {
      const oldest = this.#keys.entries().next().value;
      if (oldest !== undefined) {
        this.#keys.delete(oldest[0]);
        wipe(oldest[1]);
      }
    }
    const key = deriveSigningKey(secret, scope.date, scope.region, scope.service);
    const entry: CachedKey = { secret, ipad: Buffer.alloc(BLOCK, 0x36), opad: Buffer.alloc(BLOCK, 0x5c) };
    for (let i = 0; i < key.length; i++) {
      entry.ipad[i]! ^= key[i]!;
      entry.opad[i]! ^= key[i]!;
    }
    key.fill(0);
    this.#keys.set(credential, entry);
    return entry;
  }

  /** HMAC-SHA256 per RFC 2104 §2: H((K ^ opad) || H((K ^ ipad) || text)), pads precomputed. */
  #hmac(key: CachedKey, text: string): Buffer {
    const length = BLOCK + Buffer.byteLength(text);
    if (this.#inner.length < length) this.#inner = Buffer.alloc(2 * length);
    const inner = this.#inner;
    key.ipad.copy(inner, 0);
    inner.write(text, BLOCK);
    const innerDigest = sha256(inner.subarray(0, length));
    const outer = this.#outer;
    key.opad.copy(outer, 0);
    innerDigest.copy(outer, BLOCK);
    const mac = sha256(outer);
    inner.fill(0, 0, BLOCK);
    outer.fill(0);
    innerDigest.fill(0);
    return mac;
  }
}

/** A cached signing key: the secret it was derived from and its HMAC pad blocks. */
interface CachedKey {
  readonly secret: string;
  readonly ipad: Buffer;
  readonly opad: Buffer;
}

function wipe(key: CachedKey): void {
  key.ipad.fill(0);
  key.opad.fill(0);
}

/** One-shot SHA-256: `crypto.hash` (Node >= 20.12) creates no Hash object; older 20.x falls back. */
const sha256: (data: string | Uint8Array) => Buffer =
  typeof hash === 'function'
    ? (data) => hash('sha256', data, 'buffer')
    : (data) => createHash('sha256').update(data).digest();
const sha256Hex: (data: string | Uint8Array) => string =
  typeof hash === 'function'
    ? (data) => hash('sha256', data, 'hex')
    : (data) => createHash('sha256').update(data).digest('hex');

/** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"). */
export function deriveSigningKey(secret: string, date: string, region: string, service: string): Buffer {
  const kSecret = Buffer.from('AWS4' + secret, 'utf8');
  const kDate = hmac(kSecret, date);
  kSecret.fill(0);
  const kRegion = hmac(kDate, region);
  kDate.fill(0);
  const kService = hmac(kRegion, service);
  kRegion.fill(0);
  const kSigning = hmac(kService, TERMINATOR);
  kService.fill(0);
  return kSigning;
}

function hmac(key: Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

// ---------------------------------------------------------------------------------------------
// Stage 1: find the headers that drive verification.

interface AuthHeaders {
  authorization: string | undefined;
  amzDate: string | undefined;
  date: string | undefined;
  securityToken: string | undefined;
  contentSha256: string | undefined;
}

/** One pass over rawHeaders; each of these headers may appear at most once. */
function scanHeaders(raw: readonly string[]): AuthHeaders {
  // All fields present from the start: one object shape for every request.
  const h: AuthHeaders = {
    authorization: undefined,
    amzDate: undefined,
    date: undefined,
    securityToken: undefined,
    contentSha256: undefined,
  };
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    switch (name.length) {
      case 13:
        if (nameIs(name, 'authorization')) {
          h.authorization = once(h.authorization, raw[i + 1]!, 'Authorization');
        }
        break;
      case 10:
        if (nameIs(name, 'x-amz-date')) h.amzDate = once(h.amzDate, raw[i + 1]!, 'X-Amz-Date');
        break;
      case 4:
        if (nameIs(name, 'date')) h.date = once(h.date, raw[i + 1]!, 'Date');
        break;
      case 20:
        if (nameIs(name, 'x-amz-security-token')) {
          h.securityToken = once(h.securityToken, raw[i + 1]!, 'X-Amz-Security-Token');
        } else if (nameIs(name, 'x-amz-content-sha256')) {
          h.contentSha256 = once(h.contentSha256, raw[i + 1]!, 'X-Amz-Content-Sha256');
        }
        break;
    }
  }
  return h;
}

function once(previous: string | undefined, value: string, label: string): string {
  if (previous !== undefined) {
    throw new ServiceError(
      'IncompleteSignatureException',
      `The request must not repeat the '${label}' header.`,
    );
  }
  return value;
}

/** Case-insensitive match against a lowercase name; lowercases only when length and first letter agree. */
function nameIs(name: string, lower: string): boolean {
  if (name.length !== lower.length) return false;
  if (name === lower) return true;
  return (name.charCodeAt(0) | 0x20) === lower.charCodeAt(0) && name.toLowerCase() === lower;
}

/** No Authorization header: AWS's "Missing Authentication Token", unless a presigned URL was tried. */
function missingAuthentication(url: string): ServiceError {
  const q = url.indexOf('?');
  if (q >= 0) {
    const query = url.slice(q);
    if (/[?&]X-Amz-(?:Algorithm|Credential|Signature)=/.test(query)) {
      return new ServiceError(
        'IncompleteSignatureException',
        'Query-string authentication is not supported by this service; ' +
          'sign the request with the Authorization header.',
      );
    }
  }
  return new ServiceError('MissingAuthenticationTokenException', MSG_MISSING_TOKEN);
}

// ---------------------------------------------------------------------------------------------
// Stage 2: parse the Authorization header and the credential scope.

interface ParsedAuthorization {
  /** "<akid>/<yyyyMMdd>/<region>/<service>/aws4_request" */
  readonly credential: string;
  /** "host;x-amz-date;..." exactly as sent */
  readonly signedHeaders: string;
  /** 64 lowercase hex */
  readonly signature: string;
}

/**
 * `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`. Missing parts are all
 * named in one message, as AWS does, but the header itself is never echoed (it holds the
 * signature, and a non-AWS scheme may carry a bearer secret).
 */
function parseAuthorization(value: string, hasDate: boolean): ParsedAuthorization {
  const sp = value.indexOf(' ');
  if ((sp < 0 ? value.length : sp) !== ALGORITHM.length || !value.startsWith(ALGORITHM)) {
    throw new ServiceError(
      'IncompleteSignatureException',
      `Unsupported Authorization algorithm; this service requires '${ALGORITHM}'.`,
    );
  }
  let credential: string | undefined;
  let signedHeaders: string | undefined;
  let signature: string | undefined;
  const n = value.length;
  let pos = sp < 0 ? n : sp + 1;
  while (pos < n) {
    let end = value.indexOf(',', pos);
    if (end < 0) end = n;
    let s = pos;
    let e = end;
    while (s < e && isSpace(value.charCodeAt(s))) s++;
    while (e > s && isSpace(value.charCodeAt(e - 1))) e--;
    if (s < e) {
      const eq = value.indexOf('=', s);
      if (eq < 0 || eq >= e) {
        throw new ServiceError(
          'IncompleteSignatureException',
          'A component of the Authorization header is not a valid key=value pair (missing equal-sign).',
        );
      }
      if (value.startsWith('Credential=', s)) {
        credential = param(credential, value.slice(eq + 1, e), 'Credential');
      } else if (value.startsWith('SignedHeaders=', s)) {
        signedHeaders = param(signedHeaders, value.slice(eq + 1, e), 'SignedHeaders');
      } else if (value.startsWith('Signature=', s)) {
        signature = param(signature, value.slice(eq + 1, e), 'Signature');
      } else {
        // SigV4 defines exactly three parameters; anything else is a client that signs
        // differently (or a forged header), refused rather than silently ignored (issue 8).
        throw new ServiceError(
          'IncompleteSignatureException',
          `Authorization header has an unsupported parameter ${quote(value.slice(s, eq).trim())}; ` +
            "only 'Credential', 'SignedHeaders' and 'Signature' are allowed.",
        );
      }
    }
    pos = end + 1;
  }
  if (!credential || !signature || !signedHeaders || !hasDate) {
    let msg = '';
    if (!credential) msg += "Authorization header requires 'Credential' parameter. ";
    if (!signature) msg += "Authorization header requires 'Signature' parameter. ";
    if (!signedHeaders) msg += "Authorization header requires 'SignedHeaders' parameter. ";
    if (!hasDate) msg += MSG_DATE_REQUIRED;
    throw new ServiceError('IncompleteSignatureException', msg.trimEnd());
  }
  if (!SIGNATURE_RE.test(signature)) {
    throw new ServiceError(
      'IncompleteSignatureException',
      "The 'Signature' parameter of the Authorization header must be 64 lowercase hexadecimal characters.",
    );
  }
  return { credential, signedHeaders, signature };
}

function param(previous: string | undefined, value: string, label: string): string {
  if (previous !== undefined) {
    throw new ServiceError(
      'IncompleteSignatureException',
      `Authorization header has more than one '${label}' parameter.`,
    );
  }
  return value;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

interface CredentialScope {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly terminator: string;
  /** "<date>/<region>/<service>/<terminator>", the scope line of the string to sign */
  readonly scope: string;
}

/** Exactly five non-empty slash-separated parts; their values are checked later. */
function parseCredential(credential: string): CredentialScope {
  const a = credential.indexOf('/');
  const b = a < 0 ? -1 : credential.indexOf('/', a + 1);
  const c = b < 0 ? -1 : credential.indexOf('/', b + 1);
  const d = c < 0 ? -1 : credential.indexOf('/', c + 1);
  const fiveParts =
    a > 0 && b > a + 1 && c > b + 1 && d > c + 1 && d + 1 < credential.length &&
    credential.indexOf('/', d + 1) < 0;
  if (!fiveParts) {
    throw new ServiceError(
      'IncompleteSignatureException',
      "The 'Credential' parameter of the Authorization header must have the form " +
        '<AccessKeyId>/<yyyyMMdd>/<region>/<service>/aws4_request.',
    );
  }
  return {
    accessKeyId: credential.slice(0, a),
    date: credential.slice(a + 1, b),
    region: credential.slice(b + 1, c),
    service: credential.slice(c + 1, d),
    terminator: credential.slice(d + 1),
    scope: credential.slice(a + 1),
  };
}

// ---------------------------------------------------------------------------------------------
// Stage 3: the request time.

interface RequestTime {
  /** The header that carried it: 'x-amz-date' wins over 'date'. */
  readonly header: 'x-amz-date' | 'date';
  /** yyyyMMddTHHmmssZ */
  readonly amzDate: string;
  readonly ms: number;
}

/**
 * X-Amz-Date in ISO-8601 basic format, else an HTTP Date header (converted for the string to
 * sign). parseAuthorization has already rejected a request with neither.
 */
function requestTime(h: AuthHeaders): RequestTime {
  if (h.amzDate !== undefined) {
    const ms = parseBasicFormat(h.amzDate);
    if (Number.isNaN(ms)) throw badDate(h.amzDate);
    return { header: 'x-amz-date', amzDate: h.amzDate, ms };
  }
  const ms = Date.parse(h.date!);
  if (Number.isNaN(ms)) throw badDate(h.date!);
  const whole = ms - (((ms % 1000) + 1000) % 1000);
  return { header: 'date', amzDate: basicFormat(whole), ms: whole };
}

function badDate(value: string): ServiceError {
  return new ServiceError(
    'IncompleteSignatureException',
    `Date must be in ISO-8601 'basic format'. Got ${quote(value)}. See http://en.wikipedia.org/wiki/ISO_8601`,
  );
}

/** yyyyMMddTHHmmssZ -> epoch ms, NaN when malformed. */
function parseBasicFormat(v: string): number {
  if (v.length !== 16 || v.charCodeAt(8) !== 0x54 /* T */ || v.charCodeAt(15) !== 0x5a /* Z */) {
    return NaN;
  }
  const year = digits(v, 0, 4);
  const month = digits(v, 4, 6);
  const day = digits(v, 6, 8);
  const hour = digits(v, 9, 11);
  const minute = digits(v, 11, 13);
  const second = digits(v, 13, 15);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    return NaN;
  }
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

function digits(v: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = v.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9) return NaN;
    n = n * 10 + c;
  }
  return n;
}

/** Epoch ms -> yyyyMMddTHHmmssZ (AWS's "basic format"). */
function basicFormat(ms: number): string {
  const iso = new Date(ms).toISOString(); // yyyy-MM-ddTHH:mm:ss.sssZ
  return (
    iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 10) + 'T' +
    iso.slice(11, 13) + iso.slice(14, 16) + iso.slice(17, 19) + 'Z'
  );
}

// ---------------------------------------------------------------------------------------------
// Stage 4: checks that need no secret.

/** `host` and the date header must be signed (kms-reference.md §2). */
function requireSigned(signedHeaders: string, name: string, label: string): void {
  if (!listHas(signedHeaders, name)) {
    throw new ServiceError(
      'IncompleteSignatureException',
      `${label} must be a 'SignedHeader' in the AWS Authorization.`,
    );
  }
}

/**
 * Every `x-amz-*` header the request carries must be signed, as AWS requires: otherwise a
 * captured request could be replayed within the skew window with another X-Amz-Target (say
 * DescribeKey as DisableKey) and the same signature. AWS answers with InvalidSignatureException
 * (SignatureDoesNotMatch over Query) naming the header. `x-amzn-*` (trace ids) is another prefix.
 */
function requireAmzHeadersSigned(raw: readonly string[], signedHeaders: string): void {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length < 7 || (name.charCodeAt(0) | 0x20) !== 0x78 /* x */) continue;
    const lower = name.toLowerCase();
    if (!lower.startsWith('x-amz-') || listHas(signedHeaders, lower)) continue;
    throw new ServiceError('InvalidSignatureException', `${quote(lower)} must be a 'SignedHeader' in the AWS Authorization.`);
  }
}

/** Whether the ';'-separated list contains `name`, without splitting it. */
function listHas(list: string, name: string): boolean {
  let i = list.indexOf(name);
  while (i >= 0) {
    const end = i + name.length;
    const startsItem = i === 0 || list.charCodeAt(i - 1) === 0x3b; // ';'
    const endsItem = end === list.length || list.charCodeAt(end) === 0x3b;
    if (startsItem && endsItem) {
      return true;
    }
    i = list.indexOf(name, i + 1);
  }
  return false;
}

/**
 * Temporary credentials need their session token in X-Amz-Security-Token; long-term ones must
 * not carry one. Digests are compared so neither content nor length leaks through timing.
 */
function checkSessionToken(expected: string | undefined, sent: string | undefined): void {
  if (expected === undefined && sent === undefined) return;
  if (expected === undefined || sent === undefined || !sameSecretString(expected, sent)) {
    throw new ServiceError('UnrecognizedClientException', MSG_INVALID_TOKEN);
  }
}

function sameSecretString(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

function contentSha256Message(sent: string): string {
  if (sent === 'UNSIGNED-PAYLOAD' || sent.startsWith('STREAMING-')) {
    return (
      "This service requires a signed payload; 'X-Amz-Content-Sha256' must be the SHA-256 " +
      'of the request body.'
    );
  }
  return "The provided 'X-Amz-Content-Sha256' header does not match what was computed.";
}

/** Quotes a client-supplied, non-secret value for an error message, bounded in length. */
function quote(v: string): string {
  return `'${v.length > MAX_ECHO ? v.slice(0, MAX_ECHO) + '...' : v}'`;
}

// ---------------------------------------------------------------------------------------------
// Stage 5: the canonical request.

/** Percent-encoding of each byte: RFC 3986 unreserved bytes stay, the rest become %XX. */
const ENCODED: readonly string[] = Array.from({ length: 256 }, (_, b) =>
  isUnreserved(b) ? String.fromCharCode(b) : '%' + b.toString(16).toUpperCase().padStart(2, '0'),
);

function isUnreserved(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e // - . _ ~
  );
}

/** RFC 3986 encoding of the UTF-8 bytes of `s` (SigV4 "UriEncode"). */
function uriEncode(s: string): string {
  let plain = true;
  for (let i = 0; i < s.length; i++) {
    if (!isUnreserved(s.charCodeAt(i))) {
      plain = false;
      break;
    }
  }
  if (plain) return s;
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) out += ENCODED[b];
  return out;
}

/**
 * Canonical URI, generic (non-S3) rules: drop empty and "." segments, resolve "..", keep a
 * trailing slash, then UriEncode each segment (the raw path is encoded again, as every SDK
 * does for non-S3 services).
 */
export function canonicalUri(path: string): string {
  if (isPlainPath(path)) return path;
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(uriEncode(segment));
  }
  const lead = path.startsWith('/') ? '/' : '';
  const trail = segments.length > 0 && path.endsWith('/') ? '/' : '';
  return lead + segments.join('/') + trail;
}

/** A path already in canonical form: "/" then unreserved segments, no "//", no dot segments. */
function isPlainPath(path: string): boolean {
  if (path.length === 0 || path.charCodeAt(0) !== 0x2f) return false;
  let prev = 0x2f;
  for (let i = 1; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 0x2f) {
      if (prev === 0x2f) return false;
    } else if (c === 0x2e) {
      if (prev === 0x2f) return false; // possible dot segment; let the slow path decide
    } else if (!isUnreserved(c)) {
      return false;
    }
    prev = c;
  }
  return true;
}

/**
 * Canonical query string: each name and value percent-decoded, then UriEncoded, sorted by
 * name then value; a parameter without "=" gets an empty value.
 */
export function canonicalQuery(query: string): string {
  if (query.length === 0) return '';
  const pairs: [string, string][] = [];
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    pairs.push([uriEncode(decode(name)), uriEncode(decode(value))]);
  }
  pairs.sort(comparePairs);
  let out = '';
  for (let i = 0; i < pairs.length; i++) {
    const [name, value] = pairs[i]!;
    out += (i === 0 ? '' : '&') + name + '=' + value;
  }
  return out;
}

function comparePairs(a: [string, string], b: [string, string]): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return 0;
}

/** Percent-decodes; malformed escapes are taken literally (and then re-encoded). */
function decode(s: string): string {
  if (s.indexOf('%') < 0) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * "name:value\n" for each signed header in the order listed; repeated headers are joined with
 * ",", values trimmed with inner runs of whitespace collapsed. A listed header the request
 * lacks contributes an empty value, so the signature simply fails to match.
 */
function canonicalHeaders(raw: readonly string[], signedHeaders: string): string {
  let out = '';
  let start = 0;
  const n = signedHeaders.length;
  while (start <= n) {
    let end = signedHeaders.indexOf(';', start);
    if (end < 0) end = n;
    const name = signedHeaders.slice(start, end);
    let value: string | undefined;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      if (nameIs(raw[i]!, name)) {
        const v = trimAll(raw[i + 1]!);
        value = value === undefined ? v : value + ',' + v;
      }
    }
    out += name + ':' + (value ?? '') + '\n';
    start = end + 1;
  }
  return out;
}

/**
 * SigV4 "Trimall": strip surrounding whitespace and collapse inner runs to one space. Uses the
 * same whitespace class as the JS and Python SDKs (JS `\s`), on a slow path only when needed.
 */
function trimAll(v: string): string {
  const n = v.length;
  if (n === 0) return v;
  let clean = v.charCodeAt(0) !== 0x20 && v.charCodeAt(n - 1) !== 0x20;
  for (let i = 0; clean && i < n; i++) {
    const c = v.charCodeAt(i);
    if (c === 0x20 ? v.charCodeAt(i + 1) === 0x20 : c < 0x20 || c > 0x7e) clean = false;
  }
  return clean ? v : v.trim().replace(/\s+/g, ' ');
}
