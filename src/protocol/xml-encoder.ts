/**
 * AWS Query output encoding by the generated output shapes (src/model/{iam,sts}-outputs.ts,
 * issue 8): members in model order as elements, lists as `<member>` items, maps as
 * `<entry><key/><value/></entry>`, timestamps ISO 8601 (seconds, `Z`), blobs base64, booleans
 * `true`/`false`, absent and null members left out (smithy "AWS query protocol", response
 * serialization: https://smithy.io/2.0/aws/protocols/aws-query-protocol.html). Every text is
 * escaped. Compiled once per shape into closures, as src/protocol/json-encoder.ts is.
 */
import type { Shape, StructureShape } from '../model/shape-types';

type Encode = (value: unknown, path: string) => string;

const compiled = new WeakMap<object, Encode>();

const XML_ESCAPES: Readonly<Record<string, string>> = Object.freeze({
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\r': '&#xD;',
});

/**
 * Escapes text for XML element content and attribute values. Characters XML 1.0 cannot carry
 * at all (C0 controls other than tab/newline/CR, lone surrogates, U+FFFE/U+FFFF) become U+FFFD.
 */
export function escapeXml(s: string): string {
  return s
    .replace(/[&<>"'\r]/g, (c) => XML_ESCAPES[c] as string)
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** ISO 8601 without fractional seconds, as AWS's Query services write dates (`2024-05-01T12:00:00Z`). */
export function xmlDate(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function wrongType(path: string, expected: string): TypeError {
  return new TypeError(`output member ${path}: not ${expected}`);
}

const encodeString: Encode = (v, path) => {
  if (typeof v !== 'string') throw wrongType(path, 'a string');
  return escapeXml(v);
};

const encodeNumber = (integer: boolean): Encode => (v, path) => {
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) throw wrongType(path, integer ? 'an integer' : 'a number');
  return String(v);
};

const encodeBoolean: Encode = (v, path) => {
  if (typeof v !== 'boolean') throw wrongType(path, 'a boolean');
  return v ? 'true' : 'false';
};

/** Epoch milliseconds or a Date. */
const encodeTimestamp: Encode = (v, path) => {
  const d = typeof v === 'number' ? new Date(v) : v instanceof Date ? v : undefined;
  if (d === undefined || Number.isNaN(d.getTime())) throw wrongType(path, 'a timestamp');
  return xmlDate(d);
};

const encodeBlob = (sensitive: boolean): Encode => (v, path) => {
  if (!Buffer.isBuffer(v)) throw wrongType(path, 'a Buffer');
  const text = v.toString('base64');
  if (sensitive) v.fill(0);
  return text;
};

/** `<Name>text</Name>`, or `<Name/>` for empty text (as before: IAM writes empty elements so). */
function element(name: string, inner: string): string {
  return inner === '' ? `<${name}/>` : `<${name}>${inner}</${name}>`;
}

function encodeList(member: Encode): Encode {
  return (v, path) => {
    if (!Array.isArray(v)) throw wrongType(path, 'a list');
    let out = '';
    for (const x of v) out += `<member>${member(x, path)}</member>`;
    return out;
  };
}

function encodeMap(value: Encode): Encode {
  return (v, path) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw wrongType(path, 'a map');
    let out = '';
    for (const k of Object.keys(v)) {
      const x = (v as Record<string, unknown>)[k];
      if (x === undefined || x === null) continue;
      out += `<entry><key>${escapeXml(k)}</key><value>${value(x, path)}</value></entry>`;
    }
    return out;
  };
}

interface MemberEncoder {
  readonly name: string;
  readonly path: string;
  encode: Encode;
}

function encodeStructure(shape: StructureShape, path: string): Encode {
  const members: MemberEncoder[] = [];
  const encode: Encode = (v, at) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw wrongType(at, 'a structure');
    const o = v as Record<string, unknown>;
    let out = '';
    for (const m of members) {
      const x = o[m.name];
      if (x === undefined || x === null) continue;
      out += element(m.name, m.encode(x, m.path));
    }
    return out;
  };
  compiled.set(shape.members, encode);
  for (const name of Object.keys(shape.members)) {
    members.push({ name, path: path === '' ? name : `${path}.${name}`, encode: compile(shape.members[name] as Shape, name) });
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

/** The members of an operation's result (inside `<OpResult>`), by its output shape. */
export function encodeXml(shape: StructureShape, output: object): string {
  return (compiled.get(shape.members) ?? encodeStructure(shape, ''))(output, '');
}
