/**
 * The `AuditSink` port (issue 11): where a request's audit records go. The request path depends
 * only on this interface; the SQLite deployment implements it with a writer thread per process
 * (writer.ts), and a PostgreSQL deployment (issue 14) adds an adapter of its own.
 *
 * Contract an adapter must keep (docs/architecture.md §1 promise 2):
 *  - `append` and `intend` resolve only once the record (or intent) is durable — on disk, or
 *    acknowledged by a synchronous replica — and reject if it could not be made durable. The
 *    request is answered only after its promise settles: success only after it resolved.
 *  - Records handed in by one process keep their order in that process's hash chain; records
 *    of one `append` batch (the copies of a cross-account call) land in the same commit.
 *  - An appended record whose `completes` names an intent removes that intent in the same
 *    commit. Intents whose record never lands are recovered by the trail as outcome-unknown
 *    records (trail.ts).
 *  - `healthy` turns false on the first failed commit and true again on the next durable write;
 *    mutating requests are refused up front while it is false.
 *  - `refused` counts requests answered without their own record (the sink could not write);
 *    the adapter writes one summary record (`auditRefusalRecord`) once writing works again.
 *  - `expect`/`settle` are hints for group commit: a commit may wait a moment for requests that
 *    are being handled. An adapter may ignore them; both adapters do (their shared front,
 *    src/store/audit-group-commit.ts, gathers the next batch while a commit is in flight instead
 *    of holding a ready batch on a timer, which added its delay to each commit cycle; issue 11).
 */
import type { AuditAppend, AuditIntent } from '../store/audit-log';

/** Where records go; the request path depends only on this. */
export interface AuditSink {
  /** Whether the last commit succeeded (mutating requests are refused up front when not). */
  readonly healthy: boolean;
  /** Resolves once `record` is durable; rejects if it could not be written. */
  append(record: AuditAppend): Promise<void>;
  /** Resolves once `intent` is durable. */
  intend(intent: AuditIntent): Promise<void>;
  /** A request is being handled and will submit a record within moments (a commit may wait for it). */
  expect(): void;
  /** That request submitted its first record, or will submit none. */
  settle(): void;
  /**
   * A request that arrived at `at` (epoch ms) in `region` was answered without its record: the
   * sink could not write it. (The summary record names the first such request's Region.)
   */
  refused(at: number, region: string): void;
  /** Commits acknowledged so far and the records (events and intents) they carried (metrics). */
  stats(): { readonly commits: number; readonly records: number };
}
