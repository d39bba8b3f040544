/**
 * `requestParameters` and `responseElements` of a CloudTrail record (kms-reference.md §10):
 * member names in lowerCamelCase, and never a secret. The request side is driven by the
 * operation's declared input shape: only declared members are recorded, every blob member
 * (plaintext, ciphertext, messages, signatures, MACs, wrapped key material, import tokens) is
 * dropped by type, and string members whose names denote secrets (passwords, secret access keys,
 * session tokens) are dropped by name. Encryption context is recorded in clear, as AWS does.
 *
 * The response side is recorded only for successful mutating operations (AWS records `null`
 * for cryptographic and read operations) and drops blob and token members by name, since
 * operations declare no output shapes.
 *
 * Both sides also drop every member AWS's models mark `sensitive`, every member the models type
 * as a blob, and the names of the committed overlay model/overlays/audit-redact.json (issue 8):
 * src/model/redaction.ts, generated from the models, holds them per service, and the names that
 * are redacted whatever the service; a name that is ordinary in some service is redacted through
 * the input shape's `sensitive` flag instead (generated KMS shapes carry it).
 */
import { REDACTED_EVERYWHERE } from '../model/redaction';

/** The part of an operation input shape this module reads (structurally `operations/shape`). */
export interface ShapeLike {
  readonly type: string;
  readonly members?: Readonly<Record<string, ShapeLike>>;
  readonly member?: ShapeLike;
  /** The model's `sensitive` trait. */
  readonly sensitive?: boolean;
}

/** Member names redacted whatever the service (src/model/redaction.ts). */
const REDACTED = REDACTED_EVERYWHERE;

/** Whether a member is never recorded: redacted by the models or the overlay, or a secret by name. */
export function isRedacted(name: string, shape?: ShapeLike): boolean {
  return REDACTED.has(name) || shape?.sensitive === true || SECRET_NAME.test(name);
}

/** String members that carry secrets (CreateCustomKeyStore's KeyStorePassword, RawSecretAccessKey, ...). */
const SECRET_NAME = /secret|password|sessiontoken|privatekey|plaintext/i;
/** Longest string recorded: the model's largest string member (a key policy, 131072 characters). */
const MAX_STRING = 131_072;

/** AWS's lowerCamelCase: only the first letter changes (AWSAccountId -> aWSAccountId). */
export function lowerCamel(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

function project(shape: ShapeLike, value: unknown): unknown {
  switch (shape.type) {
    case 'string':
      return typeof value === 'string' && value.length <= MAX_STRING ? value : undefined;
    case 'integer':
    case 'timestamp':
      return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
    case 'boolean':
      return typeof value === 'boolean' ? value : undefined;
    case 'map': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(value)) if (typeof v === 'string' && v.length <= MAX_STRING) out[k] = v;
      return out;
    }
    case 'list': {
      if (!Array.isArray(value) || shape.member === undefined) return undefined;
      const member = shape.member;
      return value.map((v) => project(member, v) ?? null);
    }
    case 'structure':
      return typeof value === 'object' && value !== null && !Array.isArray(value)
        ? projectStructure(shape, value as Record<string, unknown>)
        : undefined;
    default:
      // blobs and anything not known to be safe
      return undefined;
  }
}

function projectStructure(shape: ShapeLike, body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name in shape.members) {
    const member = shape.members[name] as ShapeLike;
    if (isRedacted(name, member) || !Object.prototype.hasOwnProperty.call(body, name)) continue;
    const v = project(member, body[name]);
    if (v !== undefined) out[lowerCamel(name)] = v;
  }
  return out;
}

/** The request's recordable members, or null when the body is absent. */
export function requestParameters(shape: ShapeLike, body: Record<string, unknown> | undefined): Record<string, unknown> | null {
  if (body === undefined) return null;
  const out = projectStructure(shape, body);
  return Object.keys(out).length === 0 ? null : out;
}

/** Output members never recorded: blobs, tokens, key material (operations have no output shapes). */
const SECRET_OUTPUT = /plaintext|ciphertext|privatekey|publickey|secret|signature|^mac$|token|password|keymaterial$|^random$/i;
/** Output maps whose keys are data (kept verbatim). */
const MAP_OUTPUT = /^EncryptionContext/;
/** Output members holding epoch-seconds dates. */
const DATE_OUTPUT = /Date$|^ValidTo$/;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The date form AWS's KMS records show in responseElements: "Mar 2, 2025, 10:02:51 AM" (UTC). */
export function awsRecordDate(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  const h = d.getUTCHours();
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()}, ${h % 12 === 0 ? 12 : h % 12}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${h < 12 ? 'AM' : 'PM'}`;
}

function response(value: unknown, name: string): unknown {
  if (Array.isArray(value)) return value.map((v) => response(v, name));
  if (typeof value === 'number' && DATE_OUTPUT.test(name)) return awsRecordDate(value);
  if (typeof value !== 'object' || value === null) return value;
  if (MAP_OUTPUT.test(name)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (SECRET_OUTPUT.test(k) || REDACTED.has(k)) continue;
    out[lowerCamel(k)] = response(v, k);
  }
  return out;
}

/** `responseElements` of a successful mutating operation from its wire output ('' = none). */
export function responseElements(output: string): Record<string, unknown> | null {
  if (output === '') return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(output);
  } catch {
    return null;
  }
  const out = response(parsed, '') as Record<string, unknown>;
  return Object.keys(out).length === 0 ? null : out;
}
