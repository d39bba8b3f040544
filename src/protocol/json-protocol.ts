/**
 * awsJson1_1 dispatch: `X-Amz-Target: <TargetPrefix>.<Operation>` (TrentService for KMS), a JSON
 * body decoded against the operation's shape, the operation's output serialised back
 * (kms-reference.md §1). Knows no operation's fields.
 */
import { ServiceError } from '../errors';
import type { Operation, Output, RequestContext, Services } from '../operations/operation';
import { decodeInput } from '../operations/shape';

/** The operations of one JSON service and the SigV4 signing name its requests must carry. */
export interface JsonService {
  readonly signingName: string;
  readonly operations: Readonly<Record<string, Operation>>;
}

/** JSON services by X-Amz-Target prefix, e.g. { TrentService: { signingName: 'kms', ... } }. */
export type JsonServices = Readonly<Record<string, JsonService>>;

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
  }
  throw new ServiceError('UnknownOperationException', 'The requested operation is not recognized by this service.');
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

/** Decodes, validates and invokes; returns the serialised output ('' for operations without one). */
export async function invokeJson(op: Operation, body: Record<string, unknown>, ctx: RequestContext, svc: Services): Promise<string> {
  const input = decodeInput(op.input, body);
  const out: Output = await op.invoke(input, ctx, svc);
  return out === undefined ? '' : JSON.stringify(out);
}
