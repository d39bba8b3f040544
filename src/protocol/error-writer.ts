/**
 * The one place errors become wire bodies: `{"__type": name, "message": ...}` (awsJson1_1,
 * kms-reference.md §1). Unknown errors were already turned into KMSInternalException with a
 * constant message by `toServiceError`; their cause is logged, never sent.
 */
import type { ServiceError } from '../errors';

/** The JSON body of an error response. */
export function errorBody(err: ServiceError): string {
  return JSON.stringify({ __type: err.name, message: err.message });
}
