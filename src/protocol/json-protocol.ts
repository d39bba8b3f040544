/**
 * awsJson1_1 dispatch: `X-Amz-Target: <TargetPrefix>.<Operation>` (TrentService for KMS), a JSON
 * body decoded against the operation's shape, the operation's output encoded by its generated
 * output shape (kms-reference.md §1). Knows no operation's fields.
 */
import { ServiceError } from '../errors';
import type { Operation, Output, RequestContext, Services } from '../operations/operation';
import { decodeInput } from '../operations/shape';
import { encodeJson } from './json-encoder';

/** The operations of one JSON service and the SigV4 signing name its requests must carry. */
export interface JsonService {
  readonly signingName: string;
  readonly operations: Readonly<Record<string, Operation>>;
  /**
   * Every operation AWS's model of the service defines (src/model/operations.ts): one that is
   * modelled but not implemented answers UnsupportedOperationException naming it, never
   * UnknownOperationException (issue 8; docs/compatibility.md).
   */
  readonly modelled?: ReadonlySet<string>;
}

/**
 * JSON services by X-Amz-Target prefix, e.g. { TrentService: { signingName: 'kms', ... } }. A
 * service reachable under several prefixes (CloudTrail: the JS SDK sends
 * `CloudTrail_20131101.<Op>`, the AWS CLI the fully qualified
 * `com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.<Op>`) is listed under each.
 */
export type JsonServices = Readonly<Record<string, JsonService>>;

/** The only Content-Type of awsJson1_1 (smithy "AWS JSON 1.1 protocol"), parameters aside. */
export const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';

const UNKNOWN_OPERATION = 'The requested operation is not recognized by this service.';

/** The message of UnsupportedOperationException for a modelled operation Keyhold does not implement. */
export function unsupportedMessage(name: string): string {
  return `${name} is not supported by Keyhold. See docs/compatibility.md for the operations it does not implement.`;
}

/** Finds the service and operation an X-Amz-Target names, or throws UnknownOperationException. */
export function findOperation(target: string | undefined, services: JsonServices): { service: JsonService; op: Operation } {
  const dot = target === undefined ? -1 : target.lastIndexOf('.');
  if (target !== undefined && dot > 0) {
    const prefix = target.slice(0, dot);
    const name = target.slice(dot + 1);
    const service = Object.prototype.hasOwnProperty.call(services, prefix) ? services[prefix] : undefined;
    if (service !== undefined && Object.prototype.hasOwnProperty.call(service.operations, name)) {
      return { service, op: service.operations[name] as Operation };
    }
    if (service?.modelled?.has(name) === true) {
      throw new ServiceError('UnsupportedOperationException', unsupportedMessage(name));
    }
  }
  throw new ServiceError('UnknownOperationException', UNKNOWN_OPERATION);
}

/**
 * awsJson1_1 requests are `POST /` with the JSON content type. AWS routes a request by path and
 * content type before it looks at X-Amz-Target, so one that fails either names no operation it
 * knows: UnknownOperationException (observed from Coral JSON services for a wrong Content-Type,
 * e.g. smithy4s issue 167; docs/compatibility.md).
 */
export function checkJsonRequest(url: string | undefined, contentType: string | undefined): void {
  const q = url === undefined ? -1 : url.indexOf('?');
  const path = url === undefined ? '/' : q < 0 ? url : url.slice(0, q);
  if (path !== '/' || !isJsonContentType(contentType)) {
    throw new ServiceError('UnknownOperationException', UNKNOWN_OPERATION);
  }
}

function isJsonContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const semi = contentType.indexOf(';');
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase() === JSON_CONTENT_TYPE;
}

/** Parses a JSON request body; empty means `{}`. JSON.parse never assigns through __proto__. */
export function parseJsonBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ServiceError('SerializationException', 'The request body is not valid JSON.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ServiceError('SerializationException', 'The request body must be a JSON object.');
  }
  return parsed as Record<string, unknown>;
}

/**
 * Decodes, validates and invokes; returns the output encoded by the operation's generated output
 * shape (src/protocol/json-encoder.ts), '' for operations without one.
 */
export async function invokeJson(op: Operation, body: Record<string, unknown>, ctx: RequestContext, svc: Services): Promise<string> {
  const input = decodeInput(op.input, body, op.inputViolations);
  const out = (await op.invoke(input, ctx, svc)) as Output;
  return out === undefined ? '' : encodeJson(op.output, out);
}
