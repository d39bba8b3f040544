/**
 * The `AuditSink` of a PostgreSQL deployment (issue 14; the port is src/audit/sink.ts, whose
 * contract this keeps): each process appends to its own stream of the trail in PostgreSQL, and a
 * request's promise resolves only once the transaction holding its record has committed with
 * synchronous_commit on (connection.ts), i.e. the record is in the database's WAL on disk (or on
 * a synchronous standby when the server has one).
 *
 * Group commit is the front the SQLite writer shares (../audit-group-commit.ts): one commit in
 * flight; records arriving meanwhile gather into the next batch, sent when the commit returns, so
 * each commit — one WAL flush on the server — carries every request that arrived during the
 * previous one. One commit carries at most `maxBatch` records (default MAX_BATCH): one INSERT's
 * bind parameters stay far below PostgreSQL's 65,535, and one slow commit holds few requests.
 *
 * Bounded: every batch is settled within `deadlineMs` of its first record (default 1500 ms, under
 * the 2 s in which a request answers while the database is down): on the deadline it is rejected,
 * whether it was sent or not, and the commit slot is freed. A commit that still lands afterwards
 * is harmless: its records exist for requests whose clients saw a 5xx (never the other way
 * round), and the next commit reads the head from the database under the stream's row lock, so
 * the chain stays continuous (audit-log-postgres.ts).
 *
 * Failure: a failed commit marks the sink unhealthy (mutating requests are then refused up front
 * by the recorder) and a probe — a durable no-op write — runs every `retryMs` until one
 * succeeds; so does any later commit. Requests answered without their record are counted
 * (`refused`) and summarised in one record once writing works again. The records of intents
 * whose completing record was lost are appended with the next commit (outcome unknown).
 *
 * The chain function, the genesis value and the summary record are passed in (the wiring takes
 * them from src/audit/chain.ts and src/audit/event.ts): the store layer does not import the
 * audit layer, and the chain logic exists once.
 */
import { AuditSinkUnavailableError, GroupCommit, type RefusalSummary } from '../audit-group-commit';
import type { AuditAppend, AuditIntent, ChainLink } from '../audit-log';
import type { PostgresAuditLog } from './audit-log-postgres';
import { DatabaseUnavailableError } from './connection';

export { AuditSinkUnavailableError, type RefusalSummary } from '../audit-group-commit';

interface SinkLogger {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** What a PostgreSQL sink needs. */
export interface PostgresAuditSinkOptions {
  readonly log: PostgresAuditLog;
  /** The stream this process appends to (its bookkeeping row is created when missing). */
  readonly stream: number;
  /** src/audit/chain.ts `chainLink`. */
  readonly link: ChainLink;
  /** src/audit/chain.ts `genesisHash`. */
  readonly genesis: (trailId: string, stream: number) => Buffer;
  /** The operator record that summarises refusals (src/audit/writer.ts `auditRefusalRecord`). */
  readonly refusalRecord: (summary: RefusalSummary, now: number) => AuditAppend;
  /** Creates the trail id when the database has none yet. */
  readonly newTrailId: () => string;
  readonly logger: SinkLogger;
  readonly deadlineMs?: number;
  readonly retryMs?: number;
  /** Records waiting beyond this are refused at once (the database cannot keep up). */
  readonly maxPending?: number;
  /** Records in one commit at most (default MAX_BATCH). */
  readonly maxBatch?: number;
  readonly now?: () => number;
}

/** The longest a batch may take from its first record to its answer. */
const DEADLINE_MS = 1500;
/** Records in one commit at most. */
const MAX_BATCH = 1000;

/** A process's audit sink on PostgreSQL; structurally an `AuditSink` (src/audit/sink.ts). */
export class PostgresAuditSink {
  readonly stream: number;
  readonly trailId: string;
  readonly #front: GroupCommit;
  #closed = false;

  private constructor(o: PostgresAuditSinkOptions, trailId: string) {
    this.stream = o.stream;
    this.trailId = trailId;
    this.#front = new GroupCommit({
      commit: (b) => o.log.commit(o.stream, { events: b.events, intents: b.intents, recover: b.recover }, o.link).then(() => undefined),
      probe: () => o.log.touch(o.stream),
      refusalRecord: o.refusalRecord,
      logger: o.logger,
      maxPending: o.maxPending,
      maxBatch: o.maxBatch ?? MAX_BATCH,
      deadlineMs: o.deadlineMs ?? DEADLINE_MS,
      deadlineError: (ms) => new DatabaseUnavailableError(`the audit trail could not be written within ${ms} ms`),
      retryMs: o.retryMs,
      now: o.now,
    });
  }

  /** Opens the sink: the trail id (created by the first node) and this stream's row. */
  static async open(o: PostgresAuditSinkOptions): Promise<PostgresAuditSink> {
    const trailId = await o.log.initialize(o.newTrailId);
    await o.log.initializeStream(trailId, o.stream, o.genesis(trailId, o.stream));
    return new PostgresAuditSink(o, trailId);
  }

  get healthy(): boolean {
    return this.#front.healthy && !this.#closed;
  }

  /** Commits acknowledged so far and the records (events and intents) they carried. */
  stats(): { commits: number; records: number } {
    return this.#front.stats();
  }

  /** Refusals counted so far and not yet summarised. */
  get pendingRefusals(): number {
    return this.#front.pendingRefusals;
  }

  expect(): void {
    this.#front.expect();
  }

  settle(): void {
    this.#front.settle();
  }

  refused(at: number, region: string): void {
    this.#front.refused(at, region);
  }

  append(record: AuditAppend): Promise<void> {
    return this.#front.append(record);
  }

  intend(intent: AuditIntent): Promise<void> {
    return this.#front.intend(intent);
  }

  /** Waits until nothing is queued or in flight. */
  drain(): Promise<void> {
    return this.#front.drain();
  }

  /** Commits what is queued, then refuses further records. The pool is the caller's to close. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#front.close();
    this.#closed = true;
  }
}
