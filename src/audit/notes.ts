/**
 * What an operation tells the audit trail about its request: the mutable `RequestContext.audit`
 * slot. The key-resolving helpers fill it, so a CloudTrail record names the resolved key ARN
 * even when the caller used an alias (kms-reference.md §10, `resources`).
 */

/** Facts an operation reports for its request's audit record. */
export interface AuditNotes {
  /** ARNs of the KMS keys the request resolved, in order. */
  readonly resources: string[];
}

/** A fresh, empty slot. */
export function newAuditNotes(): AuditNotes {
  return { resources: [] };
}

/** Records that the request resolved the key `arn` (no-op without a slot). */
export function noteKey(notes: AuditNotes | undefined, arn: string): void {
  if (notes !== undefined && !notes.resources.includes(arn)) notes.resources.push(arn);
}
