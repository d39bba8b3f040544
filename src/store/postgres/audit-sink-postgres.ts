/**
 * The `AuditSink` of a PostgreSQL deployment (issue 14; the port is src/audit/sink.ts, whose
 * contract this keeps): each process appends to its own stream of the trail in PostgreSQL, and a
 * request's promise resolves only once the transaction holding its record has committed with
 * synchronous_commit on (connection.ts), i.e. the record is in the database's WAL on disk (or on
 * a synchronous standby when the server has one).
 *
 * Group commit, as the SQLite writer does it (src/audit/writer.ts): one commit in flight; records
 * arriving meanwhile gather into the next batch, sent when the commit returns, so each commit —
 * one WAL flush on the server — carries every request that arrived during the previous one. A
 * batch that could leave waits up to `commitDelayMs` while requests already being handled
 * (`expect`/`settle`) have not submitted their first record, unless an intent waits in it.
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
import type { AuditAppend, AuditIntent, ChainLink } from '../audit-log';
import type { PostgresAuditLog } from './audit-log-postgres';
import { DatabaseUnavailableError } from './connection';

/** Requests answered without their own record since the last summary. */
export interface RefusalSummary {
  readonly count: number;
  /** Epoch ms of the first and last such request. */
  readonly first: number;
  readonly last: number;
  /** The first such request's Region. */
  readonly region: string;
}

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
  /** The operator record that summarises refusals (src/audit/event.ts `operatorRecord`, as writer.ts builds it). */
  readonly refusalRecord: (summary: RefusalSummary, now: number) => AuditAppend;
  /** Creates the trail id when the database has none yet. */
  readonly newTrailId: () => string;
  readonly logger: SinkLogger;
  readonly deadlineMs?: number;
  readonly retryMs?: number;
  readonly commitDelayMs?: number;
  /** Records waiting beyond this are refused at once (the database cannot keep up). */
  readonly maxPending?: number;
  readonly now?: () => number;
}

interface Batch {
  readonly events: AuditAppend[];
  readonly intents: AuditIntent[];
  recover: string[];
  readonly promise: Promise<void>;
  settled: boolean;
  deadline: NodeJS.Timeout | undefined;
  resolve(): void;
  reject(e: Error): void;
}

/** The longest a batch may take from its first record to its answer. */
const DEADLINE_MS = 1500;
/** The longest a batch that could leave waits for requests already being handled (PostgreSQL's commit_delay, in spirit). */
const COMMIT_DELAY_MS = 1;

/** Thrown when the sink refuses a record without trying (overload, closed). */
export class AuditSinkUnavailableError extends Error {}

/** A process's audit sink on PostgreSQL; structurally an `AuditSink` (src/audit/sink.ts). */
export class PostgresAuditSink {
  readonly #o: PostgresAuditSinkOptions;
  readonly stream: number;
  readonly trailId: string;
  #current: Batch | undefined;
  #inFlight: Batch | undefined;
  #healthy = true;
  #closed = false;
  #probe: NodeJS.Timeout | undefined;
  #probing = false;
  #orphans: string[] = [];
  #expected = 0;
  #delay: NodeJS.Timeout | undefined;
  #refusals: { count: number; first: number; last: number; region: string } | undefined;
  #summarising = false;
  #commits = 0;
  #records = 0;

  private constructor(o: PostgresAuditSinkOptions, trailId: string) {
    this.#o = o;
    this.stream = o.stream;
    this.trailId = trailId;
  }

  /** Opens the sink: the trail id (created by the first node) and this stream's row. */
  static async open(o: PostgresAuditSinkOptions): Promise<PostgresAuditSink> {
    const trailId = await o.log.initialize(o.newTrailId);
    await o.log.initializeStream(trailId, o.stream, o.genesis(trailId, o.stream));
    return new PostgresAuditSink(o, trailId);
  }

  get healthy(): boolean {
    return this.#healthy && !this.#closed;
  }

  /** Commits acknowledged so far and the records (events and intents) they carried. */
  stats(): { commits: number; records: number } {
    return { commits: this.#commits, records: this.#records };
  }

  /** Refusals counted so far and not yet summarised. */
  get pendingRefusals(): number {
    return this.#refusals?.count ?? 0;
  }

  expect(): void {
    this.#expected += 1;
  }

  settle(): void {
    if (this.#expected > 0) this.#expected -= 1;
    if (this.#expected === 0 && this.#delay !== undefined) setImmediate(() => this.#flush());
  }

  refused(at: number, region: string): void {
    const r = this.#refusals;
    if (r === undefined) this.#refusals = { count: 1, first: at, last: at, region };
    else {
      r.count += 1;
      r.first = Math.min(r.first, at);
      r.last = Math.max(r.last, at);
    }
  }

  append(record: AuditAppend): Promise<void> {
    let b: Batch;
    try {
      b = this.#admit();
    } catch (e) {
      return Promise.reject(e);
    }
    b.events.push(record);
    return b.promise;
  }

  intend(intent: AuditIntent): Promise<void> {
    let b: Batch;
    try {
      b = this.#admit();
    } catch (e) {
      return Promise.reject(e);
    }
    b.intents.push(intent);
    // A mutating request waits on this intent: a batch held for stragglers leaves now.
    if (this.#delay !== undefined) this.#flush();
    return b.promise;
  }

  #admit(): Batch {
    if (this.#closed) throw new AuditSinkUnavailableError('the audit sink is closed');
    const b = this.#batch();
    if (b.events.length + b.intents.length >= (this.#o.maxPending ?? 100_000)) throw new AuditSinkUnavailableError('the audit trail cannot keep up');
    return b;
  }

  #batch(): Batch {
    if (this.#current !== undefined) return this.#current;
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => undefined); // each awaiting request sees the rejection; the batch's own promise is never unhandled
    const b: Batch = { events: [], intents: [], recover: [], promise, settled: false, deadline: undefined, resolve, reject };
    const ms = this.#o.deadlineMs ?? DEADLINE_MS;
    b.deadline = setTimeout(() => this.#fail(b, new DatabaseUnavailableError(`the audit trail could not be written within ${ms} ms`)), ms);
    this.#current = b;
    if (this.#inFlight === undefined) setImmediate(() => this.#flush());
    return b;
  }

  #flush(): void {
    const b = this.#current;
    if (b === undefined || this.#inFlight !== undefined) return;
    const delay = this.#o.commitDelayMs ?? COMMIT_DELAY_MS;
    if (this.#expected > 0 && b.intents.length === 0 && delay > 0) {
      this.#delay ??= setTimeout(() => this.#send(), delay);
      return;
    }
    this.#send();
  }

  #send(): void {
    if (this.#delay !== undefined) clearTimeout(this.#delay);
    this.#delay = undefined;
    const b = this.#current;
    if (b === undefined || this.#inFlight !== undefined) return;
    this.#current = undefined;
    this.#inFlight = b;
    if (this.#orphans.length > 0) b.recover = this.#orphans.splice(0);
    this.#o.log.commit(this.stream, { events: b.events, intents: b.intents, recover: b.recover }, this.#o.link).then(
      () => this.#succeed(b),
      (e: unknown) => this.#fail(b, e instanceof Error ? e : new Error(String(e))),
    );
  }

  #succeed(b: Batch): void {
    this.#setHealthy(true);
    if (!b.settled) {
      b.settled = true;
      clearTimeout(b.deadline);
      this.#commits += 1;
      this.#records += b.events.length + b.intents.length;
      b.resolve();
    }
    // (A batch settled by its deadline that lands late: its records exist; nothing to undo.)
    if (this.#inFlight === b) this.#inFlight = undefined;
    this.#summariseRefusals();
    this.#flush();
  }

  #fail(b: Batch, e: Error): void {
    if (this.#inFlight === b) this.#inFlight = undefined;
    if (this.#current === b) this.#current = undefined;
    if (b.settled) {
      this.#flush();
      return;
    }
    b.settled = true;
    clearTimeout(b.deadline);
    this.#setHealthy(false);
    this.#o.logger.error({ reason: e.message, records: b.events.length + b.intents.length }, 'audit commit failed: the requests of this batch fail');
    // Their completing records are lost: the intents they complete are recovered with a later commit.
    for (const id of b.recover) this.#orphans.push(id);
    for (const ev of b.events) if (ev.completes !== undefined) this.#orphans.push(ev.completes);
    b.reject(e);
    this.#flush();
  }

  #setHealthy(ok: boolean): void {
    if (ok === this.#healthy) return;
    this.#healthy = ok;
    if (ok) {
      this.#o.logger.warn({}, 'audit trail writable again');
      if (this.#probe !== undefined) clearInterval(this.#probe);
      this.#probe = undefined;
      if (this.#orphans.length > 0) this.#batch(); // carries the orphans' records
      this.#summariseRefusals();
    } else {
      this.#startProbing();
    }
  }

  #startProbing(): void {
    if (this.#probe !== undefined || this.#closed) return;
    this.#probe = setInterval(() => {
      if (this.#probing) return;
      this.#probing = true;
      this.#o.log.touch(this.stream).then(
        () => {
          this.#probing = false;
          this.#setHealthy(true);
        },
        () => {
          this.#probing = false;
        },
      );
    }, this.#o.retryMs ?? 1000);
    this.#probe.unref();
  }

  /** Writing works again: one operator record says how many requests went without their record. */
  #summariseRefusals(): void {
    const r = this.#refusals;
    if (r === undefined || this.#summarising || this.#closed) return;
    this.#refusals = undefined;
    this.#summarising = true;
    const now = (this.#o.now ?? Date.now)();
    this.append(this.#o.refusalRecord({ ...r }, now)).then(
      () => {
        this.#summarising = false;
        this.#o.logger.warn({ refused: r.count }, 'audit: recorded a summary of the requests refused while the trail could not be written');
      },
      () => {
        this.#summarising = false;
        const more = this.#refusals;
        this.#refusals =
          more === undefined ? r : { count: more.count + r.count, first: Math.min(more.first, r.first), last: Math.max(more.last, r.last), region: r.region };
      },
    );
  }

  /** Waits until nothing is queued or in flight. */
  async drain(): Promise<void> {
    for (;;) {
      const pending = this.#inFlight ?? this.#current;
      if (pending === undefined) return;
      await pending.promise.catch(() => undefined);
    }
  }

  /** Commits what is queued, then refuses further records. The pool is the caller's to close. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.drain();
    this.#closed = true;
    if (this.#probe !== undefined) clearInterval(this.#probe);
    this.#probe = undefined;
    if (this.#delay !== undefined) clearTimeout(this.#delay);
  }
}
