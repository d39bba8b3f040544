/**
 * Input shapes and their validation, following the AWS KMS model (kms-reference.md §6).
 * A shape is declared once per operation; `decodeInput` turns the parsed JSON body into typed
 * input (blobs decoded from base64, timestamps to epoch ms) and collects constraint violations
 * in AWS's message form — naming the member, never its value:
 *   "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must
 *    have length less than or equal to 4096"
 * A wrong JSON type is a SerializationException, as awsJson1_1 servers answer.
 */
import { ServiceError } from '../errors';

interface Base {
  readonly required?: boolean;
}
export interface StringShape extends Base {
  readonly type: 'string';
  readonly min?: number;
  readonly max?: number;
  readonly pattern?: RegExp;
  readonly enum?: readonly string[];
}
export interface BlobShape extends Base {
  readonly type: 'blob';
  readonly min?: number;
  readonly max?: number;
}
export interface IntegerShape extends Base {
  readonly type: 'integer';
  readonly min?: number;
  readonly max?: number;
}
export interface BooleanShape extends Base {
  readonly type: 'boolean';
}
export interface TimestampShape extends Base {
  readonly type: 'timestamp';
}
export interface MapShape extends Base {
  readonly type: 'map';
  /** Most UTF-8 bytes of all keys and values together (a Keyhold limit; docs/compatibility.md). */
  readonly maxBytes?: number;
}
export interface ListShape extends Base {
  readonly type: 'list';
  readonly member: Shape;
  readonly min?: number;
  readonly max?: number;
}
export interface StructureShape extends Base {
  readonly type: 'structure';
  readonly members: Readonly<Record<string, Shape>>;
}
/** One member's declared type and constraints. */
export type Shape =
  | StringShape
  | BlobShape
  | IntegerShape
  | BooleanShape
  | TimestampShape
  | MapShape
  | ListShape
  | StructureShape;

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

function lengthErrors(path: string, len: number, min: number | undefined, max: number | undefined, errors: string[]): void {
  if (min !== undefined && len < min) {
    errors.push(`Value at '${path}' failed to satisfy constraint: Member must have length greater than or equal to ${min}`);
  }
  if (max !== undefined && len > max) {
    errors.push(`Value at '${path}' failed to satisfy constraint: Member must have length less than or equal to ${max}`);
  }
}

function decodeValue(shape: Shape, value: unknown, path: string, errors: string[]): unknown {
  switch (shape.type) {
    case 'string': {
      if (typeof value !== 'string') throw serialization(path);
      lengthErrors(path, value.length, shape.min, shape.max, errors);
      if (shape.pattern !== undefined && !shape.pattern.test(value)) {
        errors.push(`Value at '${path}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${shape.pattern.source}`);
      }
      if (shape.enum !== undefined && !shape.enum.includes(value)) {
        errors.push(`Value at '${path}' failed to satisfy constraint: Member must satisfy enum value set: [${shape.enum.join(', ')}]`);
      }
      return value;
    }
    case 'blob': {
      if (typeof value !== 'string' || value.length % 4 !== 0 || !BASE64.test(value)) throw serialization(path);
      const buf = Buffer.from(value, 'base64');
      lengthErrors(path, buf.length, shape.min, shape.max, errors);
      return buf;
    }
    case 'integer': {
      if (typeof value !== 'number' || !Number.isInteger(value)) throw serialization(path);
      if (shape.min !== undefined && value < shape.min) {
        errors.push(`Value at '${path}' failed to satisfy constraint: Member must have value greater than or equal to ${shape.min}`);
      }
      if (shape.max !== undefined && value > shape.max) {
        errors.push(`Value at '${path}' failed to satisfy constraint: Member must have value less than or equal to ${shape.max}`);
      }
      return value;
    }
    case 'boolean':
      if (typeof value !== 'boolean') throw serialization(path);
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
      lengthErrors(path, value.length, shape.min, shape.max, errors);
      return value.map((v, i) => decodeValue(shape.member, v, `${path}.${i + 1}.member`, errors));
    }
    case 'structure':
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw serialization(path);
      return decodeStructure(shape, value as Record<string, unknown>, path, errors);
  }
}

function decodeStructure(shape: StructureShape, body: Record<string, unknown>, prefix: string, errors: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name in shape.members) {
    const member = shape.members[name] as Shape;
    const path = prefix === '' ? lowerCamel(name) : `${prefix}.${lowerCamel(name)}`;
    const value = Object.prototype.hasOwnProperty.call(body, name) ? body[name] : undefined;
    if (value === undefined || value === null) {
      if (member.required === true) errors.push(`Value at '${path}' failed to satisfy constraint: Member must not be null`);
      continue;
    }
    out[name] = decodeValue(member, value, path, errors);
  }
  return out;
}

/** Validates and decodes an operation's input body; throws ValidationException/SerializationException. */
export function decodeInput<T>(shape: StructureShape, body: Record<string, unknown>): T {
  const errors: string[] = [];
  const out = decodeStructure(shape, body, '', errors);
  if (errors.length > 0) {
    const n = errors.length;
    throw new ServiceError('ValidationException', `${n} validation error${n === 1 ? '' : 's'} detected: ${errors.join('; ')}`);
  }
  return out as T;
}

/** Most UTF-8 bytes of an encryption context's keys and values together (docs/compatibility.md). */
export const MAX_ENCRYPTION_CONTEXT_BYTES = 8192;

/** Common member shapes, from the KMS model (kms-reference.md §6). */
export const S = Object.freeze({
  keyId: (required = true): StringShape => ({ type: 'string', min: 1, max: 2048, required }),
  plaintext: (required = true): BlobShape => ({ type: 'blob', min: 1, max: 4096, required }),
  ciphertext: (required = true): BlobShape => ({ type: 'blob', min: 1, max: 6144, required }),
  // AWS documents no limit; 8 KiB bounds the policy conditions matched against it (issue 12 item 7).
  encryptionContext: (): MapShape => ({ type: 'map', maxBytes: MAX_ENCRYPTION_CONTEXT_BYTES }),
  grantTokens: (): ListShape => ({ type: 'list', min: 0, max: 10, member: { type: 'string', min: 1, max: 8192 } }),
  limit: (): IntegerShape => ({ type: 'integer', min: 1, max: 1000 }),
  marker: (): StringShape => ({ type: 'string', min: 1, max: 1024, pattern: /^[\u0020-\u00FF]*$/ }),
  dryRun: (): BooleanShape => ({ type: 'boolean' }),
  numberOfBytes: (): IntegerShape => ({ type: 'integer', min: 1, max: 1024 }),
  aliasName: (): StringShape => ({ type: 'string', min: 1, max: 256, pattern: /^[a-zA-Z0-9:/_-]+$/, required: true }),
  description: (required = false): StringShape => ({ type: 'string', min: 0, max: 8192, required }),
  policy: (required = false): StringShape => ({
    type: 'string', min: 1, max: 131072, pattern: /^[\u0009\u000A\u000D\u0020-\u00FF]+$/, required,
  }),
  policyName: (): StringShape => ({ type: 'string', min: 1, max: 128, pattern: /^[\w]+$/ }),
  tags: (required = false): ListShape => ({
    type: 'list',
    required,
    member: structure({
      TagKey: { type: 'string', min: 1, max: 128, required: true },
      TagValue: { type: 'string', min: 0, max: 256, required: true },
    }),
  }),
  encryptionAlgorithm: (): StringShape => ({
    type: 'string', enum: ['SYMMETRIC_DEFAULT', 'RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'SM2PKE'],
  }),
  dataKeySpec: (): StringShape => ({ type: 'string', enum: ['AES_256', 'AES_128'] }),
  dryRunModifiers: (): ListShape => ({ type: 'list', member: { type: 'string', enum: ['IGNORE_CIPHERTEXT'] } }),
});
