/**
 * Members AWS's model defines that Keyhold does not implement: a request that sets one gets a
 * clear UnsupportedOperationException naming it, rather than an answer that silently ignores it
 * (issue 8; docs/compatibility.md). Recipient (Nitro Enclaves attestation) would otherwise get
 * the plaintext back instead of CiphertextForRecipient.
 */
import { ServiceError } from '../errors';

/** Throws UnsupportedOperationException when `input` sets any of `members`. */
export function rejectUnsupportedMembers(operation: string, input: object, members: readonly string[]): void {
  for (const m of members) {
    if ((input as Record<string, unknown>)[m] !== undefined) {
      throw new ServiceError('UnsupportedOperationException', `${operation} with ${m} is not supported by Keyhold. See docs/compatibility.md.`);
    }
  }
}
