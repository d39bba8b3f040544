/**
 * awsJson1_1 dispatch: `X-Amz-Target: TrentService.<Operation>`, a JSON body decoded against the
 * operation's shape, the operation's output serialised back (kms-reference.md §1). Knows no
 * operation's fields.
 */
import { ServiceError } from '../errors';
import type { Operation, Output, RequestContext, Services } from '../operations/operation';
import { decodeInput } from '../operations/shape';

const KMS_PREFIX = 'TrentService.';

/** Finds the operation an X-Amz-Target names, or throws UnknownOperationException. */
export function findOperation(target: string | undefined, registry: Readonly<Record<string, Operation>>): Operation {
  if (target !== undefined && target.startsWith(KMS_PREFIX)) {
    const name = target.slice(KMS_PREFIX.length);
    if (Object.prototype.hasOwnProperty.call(registry, name)) return registry[name] as Operation;
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
