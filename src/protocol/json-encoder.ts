/**
 * awsJson1_1 output encoding by the generated output shapes (src/model/*-outputs.ts, issue 8):
 * an operation returns typed values (blobs as Buffer, timestamps as epoch milliseconds) and this
 * writes them as AWS does — members in model order, blobs base64, timestamps epoch seconds,
 * absent and null members left out, members the model lacks never written (smithy "AWS JSON 1.1
 * protocol": https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html).
 *
 * The encoder of a shape is compiled once into closures (cached per shape object) and builds
 * the JSON text by concatenation: no per-request walk of the shape, no intermediate object.
 * A value of the wrong type is a bug in an operation: it throws (a 500 without detail), never
 * writes something a client would misread.
 *
 * Sensitive blobs (Plaintext, PrivateKeyPlaintext, SharedSecret) are the response's own buffers:
 * they are zeroed as soon as they are encoded, so operations hand them over instead of wiping
 * them after a copy (docs/architecture.md §1 promise 3).
 */
import type { Shape, StructureShape } from '../model/shape-types';

/** Encodes one value of a shape as JSON text. */
type Encode = (value: unknown, path: string) => string;

const compiled = new WeakMap<object, Encode>();

function wrongType(path: string, expected: string): TypeError {
  return new TypeError(`output member ${path}: not ${expected}`);
}

const encodeString: Encode = (v, path) => {
  if (typeof v !== 'string') throw wrongType(path, 'a string');
  return JSON.stringify(v);
};

const encodeNumber = (integer: boolean): Encode => (v, path) => {
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) throw wrongType(path, integer ? 'an integer' : 'a number');
  return String(v);
};

const encodeBoolean: Encode = (v, path) => {
  if (typeof v !== 'boolean') throw wrongType(path, 'a boolean');
  return v ? 'true' : 'false';
};

/** Epoch milliseconds (or a Date) as awsJson's epoch seconds, fractional as needed. */
const encodeTimestamp: Encode = (v, path) => {
  const ms = typeof v === 'number' ? v : v instanceof Date ? v.getTime() : NaN;
  if (!Number.isFinite(ms)) throw wrongType(path, 'a timestamp');
  return String(ms / 1000);
};

/** Base64 has no character JSON escapes, so the text needs no JSON.stringify. */
const encodeBlob = (sensitive: boolean): Encode => (v, path) => {
  if (!(v instanceof Uint8Array)) throw wrongType(path, 'a Buffer');
  const b = Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  const text = `"${b.toString('base64')}"`;
  if (sensitive) b.fill(0);
  return text;
};

function encodeList(member: Encode): Encode {
  return (v, path) => {
    if (!Array.isArray(v)) throw wrongType(path, 'a list');
    let out = '[';
    for (let i = 0; i < v.length; i++) out += (i === 0 ? '' : ',') + member(v[i], path);
    return out + ']';
  };
}

function encodeMap(value: Encode): Encode {
  return (v, path) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw wrongType(path, 'a map');
    let out = '{';
    let first = true;
    for (const k of Object.keys(v)) {
      const x = (v as Record<string, unknown>)[k];
      if (x === undefined || x === null) continue;
      out += (first ? '' : ',') + JSON.stringify(k) + ':' + value(x, path);
      first = false;
    }
    return out + '}';
  };
}

interface MemberEncoder {
  readonly name: string;
  /** `"Name":`, built once. */
  readonly key: string;
  readonly path: string;
  encode: Encode;
}

function encodeStructure(shape: StructureShape, path: string): Encode {
  const members: MemberEncoder[] = [];
  const encode: Encode = (v, at) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw wrongType(at, 'a structure');
    const o = v as Record<string, unknown>;
    let out = '{';
    for (let i = 0; i < members.length; i++) {
      const m = members[i] as MemberEncoder;
      const x = o[m.name];
      if (x === undefined || x === null) continue;
      out += (out.length === 1 ? '' : ',') + m.key + m.encode(x, m.path);
    }
    return out + '}';
  };
  // Cached before the members compile, so a recursive structure refers to itself.
  compiled.set(shape.members, encode);
  for (const name of Object.keys(shape.members)) {
    members.push({ name, key: `${JSON.stringify(name)}:`, path: path === '' ? name : `${path}.${name}`, encode: compile(shape.members[name] as Shape, name) });
  }
  return encode;
}

function compile(shape: Shape, path: string): Encode {
  switch (shape.type) {
    case 'string': return encodeString;
    case 'integer': return encodeNumber(true);
    case 'double': return encodeNumber(false);
    case 'boolean': return encodeBoolean;
    case 'timestamp': return encodeTimestamp;
    case 'blob': return encodeBlob(shape.sensitive === true);
    case 'list': return encodeList(compile(shape.member, path));
    case 'map': return encodeMap(shape.value === undefined ? encodeString : compile(shape.value, path));
    case 'structure': return compiled.get(shape.members) ?? encodeStructure(shape, path);
  }
}

/** An operation's output as JSON text, by its output shape (the encoder compiled on first use, then reused). */
export function encodeJson(shape: StructureShape, output: object): string {
  return (compiled.get(shape.members) ?? encodeStructure(shape, ''))(output, '');
}
