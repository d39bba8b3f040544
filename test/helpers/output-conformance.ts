/**
 * Conformance of responses to AWS's generated output shapes (issue 8): an HTTP handler for the
 * AWS SDK v3 clients that keeps every raw response body beside the SDK's own parse, and checks
 * of a value against a shape (required members present, no member the model lacks, types and
 * enums right) in the two forms a test sees: the raw awsJson body, and the SDK's parse of a
 * Query (XML) body.
 */
import { Readable } from 'node:stream';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { HttpRequest, HttpResponse } from '@smithy/protocol-http';
import type { Shape, StructureShape } from '../../src/model/shape-types';

/** One captured exchange: the operation (X-Amz-Target or Action), status and raw body. */
export interface Captured {
  readonly operation: string;
  readonly status: number;
  readonly body: string;
}

/** A NodeHttpHandler that records every response body and hands the SDK an identical copy. */
export class CapturingHandler extends NodeHttpHandler {
  readonly captured: Captured[] = [];

  override async handle(request: HttpRequest, options?: Parameters<NodeHttpHandler['handle']>[1]): Promise<{ response: HttpResponse }> {
    const target = request.headers['x-amz-target'] ?? request.headers['X-Amz-Target'];
    const action = typeof request.body === 'string' ? /(?:^|&)Action=([A-Za-z]+)/.exec(request.body)?.[1] : undefined;
    const operation = (target === undefined ? action : target.slice(target.lastIndexOf('.') + 1)) ?? '?';
    const { response } = await super.handle(request, options);
    const chunks: Buffer[] = [];
    for await (const c of response.body as Readable) chunks.push(Buffer.from(c as Buffer));
    const body = Buffer.concat(chunks);
    this.captured.push({ operation, status: response.statusCode, body: body.toString('utf8') });
    response.body = Readable.from([body]);
    return { response };
  }

  /** The last successful raw body of `operation`. */
  last(operation: string): string | undefined {
    for (let i = this.captured.length - 1; i >= 0; i--) {
      const c = this.captured[i] as Captured;
      if (c.operation === operation && c.status === 200) return c.body;
    }
    return undefined;
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Violations of `shape` by a raw awsJson value: blobs as base64 strings, timestamps as epoch
 * seconds (numbers), no null, no member the model lacks.
 */
export function jsonViolations(shape: Shape, value: unknown, path = '$'): string[] {
  const out: string[] = [];
  const bad = (what: string) => out.push(`${path}: ${what} (got ${JSON.stringify(value)?.slice(0, 80)})`);
  switch (shape.type) {
    case 'string':
      if (typeof value !== 'string') bad('not a string');
      else if (shape.enum !== undefined && !shape.enum.includes(value)) bad(`not one of [${shape.enum.join(', ')}]`);
      break;
    case 'blob':
      if (typeof value !== 'string' || value.length % 4 !== 0 || !BASE64.test(value)) bad('not base64');
      break;
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) bad('not an integer');
      break;
    case 'double':
      if (typeof value !== 'number') bad('not a number');
      break;
    case 'boolean':
      if (typeof value !== 'boolean') bad('not a boolean');
      break;
    case 'timestamp':
      // Epoch seconds, plausibly (after 2001-09-09, before 2286): not milliseconds.
      if (typeof value !== 'number' || !(value > 1e9 && value < 1e10)) bad('not epoch seconds');
      break;
    case 'list':
      if (!Array.isArray(value)) bad('not a list');
      else value.forEach((v, i) => out.push(...jsonViolations(shape.member, v, `${path}[${i}]`)));
      break;
    case 'map':
      if (typeof value !== 'object' || value === null || Array.isArray(value)) bad('not a map');
      else for (const [k, v] of Object.entries(value)) out.push(...jsonViolations(shape.value ?? { type: 'string' }, v, `${path}.${k}`));
      break;
    case 'structure':
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        bad('not a structure');
        break;
      }
      for (const [name, member] of Object.entries(shape.members)) {
        if (member.required === true && !(name in value)) out.push(`${path}.${name}: required member missing`);
      }
      for (const [name, v] of Object.entries(value)) {
        const member = shape.members[name];
        if (member === undefined) out.push(`${path}.${name}: not a member of the model's shape`);
        else out.push(...jsonViolations(member, v, `${path}.${name}`));
      }
      break;
  }
  return out;
}

/**
 * Violations of `shape` by the SDK's parse of a response (Query XML or JSON): blobs as
 * Uint8Array, timestamps as valid Dates, numbers, booleans and enums typed. The SDK adds
 * `$metadata` at the top, which is skipped.
 */
export function parsedViolations(shape: Shape, value: unknown, path = '$'): string[] {
  const out: string[] = [];
  const bad = (what: string) => out.push(`${path}: ${what} (got ${String(value).slice(0, 80)})`);
  switch (shape.type) {
    case 'string':
      if (typeof value !== 'string') bad('not a string');
      else if (shape.enum !== undefined && !shape.enum.includes(value)) bad(`not one of [${shape.enum.join(', ')}]`);
      break;
    case 'blob':
      if (!(value instanceof Uint8Array)) bad('not bytes');
      break;
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) bad('not an integer');
      break;
    case 'double':
      if (typeof value !== 'number') bad('not a number');
      break;
    case 'boolean':
      if (typeof value !== 'boolean') bad('not a boolean');
      break;
    case 'timestamp':
      if (!(value instanceof Date) || Number.isNaN(value.getTime()) || value.getUTCFullYear() < 2001) bad('not a date');
      break;
    case 'list':
      if (!Array.isArray(value)) bad('not a list');
      else value.forEach((v, i) => out.push(...parsedViolations(shape.member, v, `${path}[${i}]`)));
      break;
    case 'map':
      if (typeof value !== 'object' || value === null) bad('not a map');
      else for (const [k, v] of Object.entries(value)) out.push(...parsedViolations(shape.value ?? { type: 'string' }, v, `${path}.${k}`));
      break;
    case 'structure':
      if (typeof value !== 'object' || value === null) {
        bad('not a structure');
        break;
      }
      for (const [name, member] of Object.entries(shape.members)) {
        if (member.required === true && (value as Record<string, unknown>)[name] === undefined) out.push(`${path}.${name}: required member missing`);
      }
      for (const [name, v] of Object.entries(value)) {
        if (name === '$metadata' || v === undefined) continue;
        const member = shape.members[name];
        if (member === undefined) out.push(`${path}.${name}: not a member of the model's shape`);
        else out.push(...parsedViolations(member, v, `${path}.${name}`));
      }
      break;
  }
  return out;
}

/**
 * Element names of a Query XML body that the output shape does not know: every element inside
 * `<OpResult>` must be a member of some structure of the shape, or a list/map wrapper.
 */
export function unknownXmlElements(shape: StructureShape, body: string, operation: string): string[] {
  const known = new Set(['member', 'entry', 'key', 'value']);
  const walk = (s: Shape, seen: Set<object>): void => {
    if (s.type === 'structure') {
      if (seen.has(s.members)) return;
      seen.add(s.members);
      for (const [n, m] of Object.entries(s.members)) {
        known.add(n);
        walk(m, seen);
      }
    } else if (s.type === 'list') walk(s.member, seen);
    else if (s.type === 'map' && s.value !== undefined) walk(s.value, seen);
  };
  walk(shape, new Set());
  const open = `<${operation}Result>`;
  const start = body.indexOf(open);
  const end = body.indexOf(`</${operation}Result>`);
  if (start < 0 || end < 0) return [];
  const inner = body.slice(start + open.length, end);
  return [...new Set([...inner.matchAll(/<([A-Za-z][\w]*)[\s/>]/g)].map((m) => m[1] as string))].filter((n) => !known.has(n));
}

/** The timestamps of a Query body as written, for the ISO 8601 check (`2026-01-02T03:04:05Z`). */
export function xmlTimestamps(shape: StructureShape, body: string): string[] {
  const names = new Set<string>();
  const walk = (s: Shape, seen: Set<object>): void => {
    if (s.type === 'structure') {
      if (seen.has(s.members)) return;
      seen.add(s.members);
      for (const [n, m] of Object.entries(s.members)) {
        if (m.type === 'timestamp') names.add(n);
        walk(m, seen);
      }
    } else if (s.type === 'list') walk(s.member, seen);
  };
  walk(shape, new Set());
  return [...names].flatMap((n) => [...body.matchAll(new RegExp(`<${n}>([^<]*)</${n}>`, 'g'))].map((m) => m[1] as string));
}
