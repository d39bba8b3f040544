/**
 * Group commit for an audit sink (the `AuditSink` port, src/audit/sink.ts; issue 11): the front
 * that every adapter shares — the SQLite writer (src/audit/writer.ts, whose writer thread
 * commits a batch as one fdatasync'd journal frame) and the PostgreSQL sink
 * (postgres/audit-sink-postgres.ts, one transaction). An adapter supplies `commit(batch)` and
 * `probe()`; this decides what goes into which commit, when it leaves, and what a failure means.
 * It lives in the store layer so that both adapters can use it (DESIGN §2: the store does not
 * import the audit layer; the summary record is passed in).
 *
 * One commit in flight (or `maxInFlight`: the SQLite writer writes the next journal frame while
 * the previous one is being fdatasync'd). Records arriving meanwhile gather into the next batch, which leaves as
 * soon as the commit returns, so under load each commit carries every request that arrived
 * during the previous one and throughput does not fall to the disk's commit rate. A batch
 * leaves at the end of the event-loop turn that made it (the records that turn's requests
 * submitted go together) or, with `gatherTurns`, at the end of a later turn while each turn keeps
 * adding records (`#endOfTurn`); it never waits on a timer: a timer that held it for stragglers
 * (the old COMMIT_DELAY_MS) only added its delay to every commit cycle and woke the process once
 * more per commit. `expect`/`settle` are accepted and ignored (sink.ts allows it).
 *
 * `maxBatch` caps the records of one commit (PostgreSQL: one statement's parameters); a full
 * batch is closed at the end of the current synchronous run, so the copies of one cross-account
 * call, appended together, still land in the same commit. Batches closed while a commit is in
 * flight wait in order.
 *
 * A failed commit rejects every request of its batch (they are answered with a 5xx) and marks
 * the sink unhealthy; mutating requests are then refused before they run (`healthy`), and a
 * probe every `retryMs` finds out when writing works again. The intents whose completing
 * records were in a failed batch are handed to the next commit as `recover` (their
 * outcome-unknown records). With `deadlineMs`, a batch not settled that long after its first
 * record is rejected and the commit slot freed; a commit that lands later is harmless (records
 * exist for requests whose clients saw a 5xx, never the other way round). Requests answered
 * without their record are counted (`refused`) and summarised in one record once writing works
 * again (docs/architecture.md §1).
 */
import type { AuditAppend, AuditIntent } from './audit-log';

/** What one commit carries. */
export interface CommitBatch {
  readonly events: readonly AuditAppend[];
  readonly intents: readonly AuditIntent[];
  /** Intents whose request's own record failed: append their outcome-unknown records now. */
  readonly recover: readonly string[];
}

/** Requests answered without their own record since the last summary. */
export interface RefusalSummary {
  readonly count: number;
  /** Epoch ms of the first and last such request. */
  readonly first: number;
  readonly last: number;
  /** The first such request's Region. */
  readonly region: string;
}

interface GroupCommitLogger {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** What an adapter supplies. */
export interface GroupCommitOptions {
  /** Makes `batch` durable; resolves only once it is (the adapter's durability point). */
  commit(batch: CommitBatch): Promise<void>;
  /** A durable write that changes nothing: resolves once writing works again. */
  probe(): Promise<void>;
  /** Whether a commit can be sent now (the SQLite writer: its thread is running). Default: always. */
  canCommit?(): boolean;
  /** The operator record summarising refusals (src/audit/event.ts `operatorRecord`, passed in by the audit layer). */
  refusalRecord(summary: RefusalSummary, now: number): AuditAppend;
  readonly logger: GroupCommitLogger;
  /** Records waiting beyond this are refused at once (the disk or database cannot keep up). */
  readonly maxPending?: number;
  /** Commits sent and not yet answered at most (default 1); answers may come in any order. */
  readonly maxInFlight?: number;
  /** Records in one commit at most (default: no limit). */
  readonly maxBatch?: number;
  /**
   * Event-loop turns a batch may wait beyond the one that opened it, while each turn adds records
   * (default 0: it leaves at the end of its first turn). See `#endOfTurn`.
   */
  readonly gatherTurns?: number;
  /** …and only while the batch is younger than this (ms since its first record; default 1). */
  readonly gatherMs?: number;
  /** A batch is rejected this long after its first record if not settled by then (default: never). */
  readonly deadlineMs?: number;
  /** The error a batch past its deadline is rejected with. */
  deadlineError?(ms: number): Error;
  /** Between probes of a failing sink (default 1000 ms). */
  readonly retryMs?: number;
  readonly now?: () => number;
}

/** Thrown when the sink refuses a record without trying (overload, closed). */
export class AuditSinkUnavailableError extends Error {}

interface Batch {
  readonly events: AuditAppend[];
  readonly intents: AuditIntent[];
  recover: string[];
  readonly promise: Promise<void>;
  settled: boolean;
  /** Closed for new records (full, or sent). */
  closed: boolean;
  deadline: NodeJS.Timeout | undefined;
  resolve(): void;
  reject(e: Error): void;
}

/** One process's group-committing front of an audit sink; structurally an `AuditSink`. */
export class GroupCommit {
  readonly #o: GroupCommitOptions;
  /** The batch taking records (not yet closed). */
  #open: Batch | undefined;
  /** Closed batches waiting for the commit slot, oldest first. */
  readonly #waiting: Batch[] = [];
  /** Commits sent and not yet answered, oldest first. */
  readonly #inFlight: Batch[] = [];
  #flushScheduled = false;
  /** Records the open batch held at the last end of turn, and the turns it has waited beyond its first. */
  #seen = 0;
  #gathered = 0;
  #openedAt = 0;
  #healthy = true;
  #closed = false;
  #probe: NodeJS.Timeout | undefined;
  #probing = false;
  /** Intents whose request's record failed; their outcome-unknown records go with the next commit. */
  #orphans: string[] = [];
  #refusals: { count: number; first: number; last: number; region: string } | undefined;
  #summarising = false;
  #commits = 0;
  #records = 0;

  constructor(o: GroupCommitOptions) {
    this.#o = o;
  }

  get healthy(): boolean {
    return this.#healthy && !this.#closed;
  }

  /** Commits acknowledged so far and the records (events and intents) they carried. */
  stats(): { commits: number; records: number } {
    return { commits: this.#commits, records: this.#records };
  }

  /** Refusals counted so far and not yet summarised (tests, metrics). */
  get pendingRefusals(): number {
    return this.#refusals?.count ?? 0;
  }

  expect(): void {
    // a hint this front does not need (see the file comment)
  }

  settle(): void {
    // a hint this front does not need (see the file comment)
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
    this.#capped(b);
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
    this.#capped(b);
    return b.promise;
  }

  #admit(): Batch {
    if (this.#closed) throw new AuditSinkUnavailableError('the audit sink is closed');
    let pending = 0;
    for (const w of this.#waiting) pending += this.#size(w);
    const b = this.#batch();
    if (pending + this.#size(b) >= (this.#o.maxPending ?? 100_000)) {
      throw new AuditSinkUnavailableError('the audit trail cannot keep up');
    }
    return b;
  }

  /** A full batch takes no more records after the current synchronous run (copies stay together). */
  #capped(b: Batch): void {
    const max = this.#o.maxBatch;
    if (max === undefined || b.closed || this.#size(b) < max) return;
    b.closed = true;
    queueMicrotask(() => {
      if (this.#open !== b) return;
      this.#open = undefined;
      this.#waiting.push(b);
    });
  }

  #batch(): Batch {
    if (this.#open !== undefined) return this.#open;
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Every awaiting request sees a rejection; the batch promise itself never goes unhandled.
    promise.catch(() => undefined);
    const b: Batch = { events: [], intents: [], recover: [], promise, settled: false, closed: false, deadline: undefined, resolve, reject };
    const ms = this.#o.deadlineMs;
    if (ms !== undefined) {
      b.deadline = setTimeout(() => this.#fail(b, this.#o.deadlineError?.(ms) ?? new Error(`the audit trail could not be written within ${ms} ms`)), ms);
    }
    this.#open = b;
    this.#scheduleFlush();
    return b;
  }

  /** At the end of this turn: what this turn's requests submitted leaves together. */
  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#inFlight.length >= (this.#o.maxInFlight ?? 1)) return;
    this.#flushScheduled = true;
    // (called as a batch opens, just before its first record is added)
    this.#seen = 1;
    this.#gathered = 0;
    if ((this.#o.gatherTurns ?? 0) > 0) this.#openedAt = performance.now();
    setImmediate(this.#endOfTurn);
  }

  /**
   * The end of a turn with a flush scheduled. A turn that added records to the open batch beyond
   * its first means requests are arriving faster than one per turn: the batch waits one more turn
   * (at most `gatherTurns`, and only while it is younger than `gatherMs`) for the requests already
   * read or arriving, so one commit — one wake-up of the writer and one of this loop, one
   * fdatasync — carries them all (issue 11: at -c16 a commit used to carry the four or five
   * records of one turn). A turn that added nothing (the loop has run dry) or a lone record (-c1)
   * sends it at once: it never waits on a timer, and waiting costs an idle loop one turn (a
   * non-blocking poll). The age bound keeps long turns (inline ML-KEM, RSA signatures) from
   * holding a batch for several milliseconds.
   */
  readonly #endOfTurn = (): void => {
    const size = this.#size(this.#open);
    if (
      size > this.#seen &&
      this.#gathered < (this.#o.gatherTurns ?? 0) &&
      performance.now() - this.#openedAt < (this.#o.gatherMs ?? 1) &&
      this.#inFlight.length < (this.#o.maxInFlight ?? 1)
    ) {
      this.#seen = size;
      this.#gathered += 1;
      setImmediate(this.#endOfTurn);
      return;
    }
    this.#flushScheduled = false;
    this.flush();
  };

  /** Records in `b` (events and intents). */
  #size(b: Batch | undefined): number {
    return b === undefined ? 0 : b.events.length + b.intents.length;
  }

  /** Sends the oldest batches while commit slots are free (an adapter calls it when it can commit again). */
  flush(): void {
    while (this.#inFlight.length < (this.#o.maxInFlight ?? 1) && (this.#o.canCommit === undefined || this.#o.canCommit())) {
      let b = this.#waiting.shift();
      if (b === undefined) {
        b = this.#open;
        if (b === undefined) return;
        this.#open = undefined;
      }
      // (one past its deadline before it could be sent: its requests were answered already)
      if (!b.settled) this.#send(b);
    }
  }

  #send(b: Batch): void {
    b.closed = true;
    this.#inFlight.push(b);
    if (this.#orphans.length > 0) b.recover = this.#orphans.splice(0);
    let sent: Promise<void>;
    try {
      sent = this.#o.commit({ events: b.events, intents: b.intents, recover: b.recover });
    } catch (e) {
      sent = Promise.reject(e);
    }
    sent.then(
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
      this.#records += this.#size(b);
      b.resolve();
    }
    // (A batch settled by its deadline that lands late: its records exist; nothing to undo.)
    this.#leave(b);
    this.#summariseRefusals();
    this.flush();
  }

  #fail(b: Batch, e: Error): void {
    this.#leave(b);
    if (this.#open === b) this.#open = undefined;
    const at = this.#waiting.indexOf(b);
    if (at >= 0) this.#waiting.splice(at, 1);
    if (b.settled) {
      this.flush();
      return;
    }
    b.settled = true;
    clearTimeout(b.deadline);
    this.#setHealthy(false);
    this.#o.logger.error({ reason: e.message, records: this.#size(b) }, 'audit commit failed: the requests of this batch fail');
    // Their completing records are lost: the intents they complete are recovered with a later commit.
    for (const id of b.recover) this.#orphans.push(id);
    for (const ev of b.events) if (ev.completes !== undefined) this.#orphans.push(ev.completes);
    b.reject(e);
    this.flush();
  }

  #leave(b: Batch): void {
    const at = this.#inFlight.indexOf(b);
    if (at >= 0) this.#inFlight.splice(at, 1);
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

  /** The adapter lost its means of writing (the SQLite writer thread died): probe until it works. */
  unavailable(): void {
    this.#setHealthy(false);
  }

  #startProbing(): void {
    if (this.#probe !== undefined || this.#closed) return;
    this.#probe = setInterval(() => {
      if (this.#probing || (this.#o.canCommit !== undefined && !this.#o.canCommit())) return;
      this.#probing = true;
      this.#o.probe().then(
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
      const pending = this.#inFlight[0] ?? this.#waiting[0] ?? this.#open;
      if (pending === undefined) return;
      await pending.promise.catch(() => undefined);
    }
  }

  /** Commits what is queued, then refuses further records. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.drain();
    this.#closed = true;
    if (this.#probe !== undefined) clearInterval(this.#probe);
    this.#probe = undefined;
  }
}
