/**
 * Input shapes and their validation, following AWS's models. The shapes are generated from the
 * models (src/model/<service>-inputs.ts, issue 8); `decodeInput` turns the parsed JSON body into
 * typed input (blobs decoded from base64, timestamps to epoch ms) and collects every constraint
 * violation in AWS's message form (Coral's): the offending value is quoted for ordinary members
 * and left out for `sensitive` ones, blobs appear as Java's ByteBuffer description (their bytes
 * never), and the errors are counted:
 *   "1 validation error detected: Value 'alias/my-alias!' at 'aliasName' failed to satisfy
 *    constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$"
 *   "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must
 *    have length less than or equal to 4096"
 * A wrong JSON type is a SerializationException, as awsJson1_1 servers answer.
 */
import { ServiceError, type ErrorName } from '../errors';
import type { Shape, StructureShape } from '../model/shape-types';

export type {
  BlobShape, BooleanShape, DoubleShape, IntegerShape, ListShape, MapShape, Shape, StringShape, StructureShape, TimestampShape,
} from '../model/shape-types';

/** Builds a structure shape. */
export function structure(members: Record<string, Shape>, required = false): StructureShape {
  return Object.freeze({ type: 'structure', members: Object.freeze(members), required });
}

function lowerCamel(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function serialization(path: string): ServiceError {
  return new ServiceError('SerializationException', `Unexpected value type for member '${path}'`);
}

/** `Value '<v>' ` as AWS quotes a value, or `Value ` for a sensitive member (`Value at ...`). */
function valuePart(shape: Shape, value: unknown): string {
  if (shape.sensitive === true) return 'Value ';
  if (value === null || value === undefined) return 'Value null ';
  if (Buffer.isBuffer(value)) return `Value 'java.nio.HeapByteBuffer[pos=0 lim=${value.length} cap=${value.length}]' `;
  if (Array.isArray(value)) return `Value '[${value.map((v) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '…')).join(', ')}]' `;
  if (typeof value === 'string' || typeof value === 'number') return `Value '${value}' `;
  return 'Value ';
}

function violation(shape: Shape, value: unknown, path: string, constraint: string): string {
  return `${valuePart(shape, value)}at '${path}' failed to satisfy constraint: Member must ${constraint}`;
}

function lengthErrors(shape: Shape & { min?: number; max?: number }, value: unknown, len: number, path: string, errors: string[]): void {
  if (shape.min !== undefined && len < shape.min) errors.push(violation(shape, value, path, `have length greater than or equal to ${shape.min}`));
  if (shape.max !== undefined && len > shape.max) errors.push(violation(shape, value, path, `have length less than or equal to ${shape.max}`));
}

/**
 * Constraint violations an operation answers with its own exception instead of the generic
 * ValidationException (e.g. CloudTrail's InvalidMaxResultsException), keyed by member path with
 * list indices left out ('lookupAttributes.member.attributeKey'). Checked in the order the
 * violations were found; the first match is thrown.
 */
export type ViolationTable = Readonly<Record<string, readonly [name: ErrorName, message: string]>>;

function decodeValue(shape: Shape, value: unknown, path: string, errors: string[]): unknown {
  switch (shape.type) {
    case 'string': {
      if (typeof value !== 'string') throw serialization(path);
      lengthErrors(shape, value, value.length, path, errors);
      const before = errors.length;
      if (shape.pattern !== undefined && !shape.pattern.test(value)) {
        errors.push(violation(shape, value, path, `satisfy regular expression pattern: ${shape.patternText ?? shape.pattern.source}`));
      }
      if (shape.enum !== undefined && !shape.enum.includes(value)) {
        errors.push(violation(shape, value, path, `satisfy enum value set: [${shape.enum.join(', ')}]`));
      }
      // A Keyhold limit (docs/compatibility.md): PostgreSQL's text type cannot hold U+0000, so a
      // description or tag holding it would be stored on SQLite and fail with a 5xx on
      // PostgreSQL. Refused here, for every store alike, unless the member's pattern or enum has
      // refused the value already; the value is left out of the message. Map keys and values
      // (encryption contexts) keep any character: they are stored only as JSON text, where it is
      // escaped.
      if (errors.length === before && value.includes('\u0000')) {
        errors.push(`Value at '${path}' failed to satisfy constraint: Member must not contain the character U+0000`);
      }
      return value;
    }
    case 'blob': {
      if (typeof value !== 'string' || value.length % 4 !== 0 || !BASE64.test(value)) throw serialization(path);
      const buf = Buffer.from(value, 'base64');
      lengthErrors(shape, buf, buf.length, path, errors);
      return buf;
    }
    case 'integer': {
      if (typeof value !== 'number' || !Number.isInteger(value)) throw serialization(path);
      if (shape.min !== undefined && value < shape.min) errors.push(violation(shape, value, path, `have value greater than or equal to ${shape.min}`));
      if (shape.max !== undefined && value > shape.max) errors.push(violation(shape, value, path, `have value less than or equal to ${shape.max}`));
      return value;
    }
    case 'boolean':
      if (typeof value !== 'boolean') throw serialization(path);
      return value;
    case 'double':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw serialization(path);
      return value;
    case 'timestamp':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw serialization(path);
      return Math.round(value * 1000);
    case 'map': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw serialization(path);
      const out: Record<string, string> = Object.create(null) as Record<string, string>;
      let bytes = 0;
      for (const k of Object.keys(value)) {
        const v = (value as Record<string, unknown>)[k];
        if (typeof v !== 'string') throw serialization(path);
        out[k] = v;
        bytes += Buffer.byteLength(k, 'utf8') + Buffer.byteLength(v, 'utf8');
      }
      // Named by size only: the context is never echoed.
      if (shape.maxBytes !== undefined && bytes > shape.maxBytes) {
        errors.push(`Value at '${path}' failed to satisfy constraint: Member must have keys and values of at most ${shape.maxBytes} UTF-8 bytes in total`);
      }
      return out;
    }
    case 'list': {
      if (!Array.isArray(value)) throw serialization(path);
      lengthErrors(shape, value, value.length, path, errors);
      return value.map((v, i) => decodeValue(shape.member, v, `${path}.${i + 1}.member`, errors));
    }
    case 'structure':
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw serialization(path);
      return decodeStructure(shape, value as Record<string, unknown>, path, errors);
  }
}

/** One member of a structure shape with its path segment, as `decodeStructure` walks it. */
interface MemberEntry {
  readonly name: string;
  readonly shape: Shape;
  /** The member's name as AWS's messages spell it (lower camel case). */
  readonly segment: string;
}

/**
 * Member tables per structure shape, built on first use: every request walked the shape's
 * members with for-in and lower-cased each name into a new string, present or not (issue 11,
 * hot path). Keyed, like the output encoders (src/protocol/json-encoder.ts), by the members
 * object: shapes are built once when their module loads and never changed afterwards.
 */
const memberTables = new WeakMap<object, readonly MemberEntry[]>();

function membersOf(shape: StructureShape): readonly MemberEntry[] {
  let table = memberTables.get(shape.members);
  if (table === undefined) {
    table = Object.keys(shape.members).map((name) => ({ name, shape: shape.members[name] as Shape, segment: lowerCamel(name) }));
    memberTables.set(shape.members, table);
  }
  return table;
}

function decodeStructure(shape: StructureShape, body: Record<string, unknown>, prefix: string, errors: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const members = membersOf(shape);
  for (let i = 0; i < members.length; i++) {
    const { name, shape: member, segment } = members[i] as MemberEntry;
    const path = prefix === '' ? segment : `${prefix}.${segment}`;
    const value = Object.prototype.hasOwnProperty.call(body, name) ? body[name] : undefined;
    if (value === undefined || value === null) {
      if (member.required === true) errors.push(violation(member, null, path, 'not be null'));
      continue;
    }
    out[name] = decodeValue(member, value, path, errors);
  }
  return out;
}

/** The member path a violation message names, list indices left out ('a.1.member.b' -> 'a.member.b'). */
function violatedMember(message: string): string | undefined {
  const m = / at '([^']*)' failed to satisfy constraint/.exec(message);
  return m?.[1]?.replace(/\.\d+\.member/g, '.member');
}

/**
 * Validates and decodes an operation's input body; throws ValidationException/SerializationException,
 * or the operation's own exception for a violation its `table` names.
 */
export function decodeInput<T>(shape: StructureShape, body: Record<string, unknown>, table?: ViolationTable): T {
  const errors: string[] = [];
  const out = decodeStructure(shape, body, '', errors);
  if (errors.length > 0 && table !== undefined) {
    for (const e of errors) {
      const member = violatedMember(e);
      const mapped = member === undefined ? undefined : table[member];
      if (mapped !== undefined) throw new ServiceError(mapped[0], mapped[1]);
    }
  }
  if (errors.length > 0) {
    const n = errors.length;
    throw new ServiceError('ValidationException', `${n} validation error${n === 1 ? '' : 's'} detected: ${errors.join('; ')}`);
  }
  return out as T;
}
