/**
 * The durable audit writer of one process (docs/architecture.md §1 promise 2, §3 step 5). Requests hand it
 * records and await the commit that makes them durable; the database work and its fsync run on
 * a worker thread, so the event loop never waits on the disk.
 *
 * Group commit: at most MAX_IN_FLIGHT commits are in flight. Records arriving meanwhile gather
 * into the next batch, which is sent when a commit is acknowledged, so under load each fsync
 * carries every request that arrived during the previous one and throughput does not fall to
 * the disk's fsync rate. A batch that could leave still waits while requests that are already
 * being handled have not submitted their first record — until the last of them does, or for
 * COMMIT_DELAY_MS at most (PostgreSQL's commit_delay). Fewer, larger commits: each fsync and
 * each hop to the thread cost the same whatever the batch holds. The wait is a timer and a
 * counter, never a spin of the event loop.
 *
 * A failed commit rejects every request of its batch (they are answered with a 5xx) and marks
 * the writer unhealthy; mutating requests are then refused before they run (`healthy`), and a
 * probe write every second finds out when the disk works again. If the thread dies it is
 * restarted; the batch it held is failed (it may or may not have been written: a record can
 * exist for a request whose client saw a 5xx, never the other way round).
 */
import type { KeyObject } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { AuditAppend, AuditIntent } from '../store/audit-log';
import type { DigestReason } from './chain';
import { operatorRecord } from './event';
import { newEventId } from './event-id';
import type { AuditSink } from './sink';
import { encodeAppend, type DigestSummary, type FromWriterThread, type ToWriterThread, type WriterThreadData } from './thread-protocol';

export type { AuditSink } from './sink';

/** How the writer logs. */
interface WriterLogger {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Options of a writer. */
export interface AuditWriterOptions {
  /** The compiled writer-thread entry (main.ts chooses it, and with it the database adapter). */
  readonly threadScript: string;
  /** The trail directory and this process's stream in it. */
  readonly dir: string;
  readonly stream: number;
  readonly logger: WriterLogger;
  /** Primary only: the directory every digest is delivered to as it is written (--audit-digest-copy). */
  readonly digestCopyDir?: string;
  readonly busyTimeoutMs?: number;
  /** Records waiting beyond this are refused at once (the disk cannot keep up). */
  readonly maxPending?: number;
  /** The longest a ready batch waits for requests being handled (default COMMIT_DELAY_MS). */
  readonly commitDelayMs?: number;
  /** Delay before restarting a dead thread and between probes of a failing database. */
  readonly retryMs?: number;
}

interface Batch {
  readonly id: number;
  readonly events: AuditAppend[];
  readonly intents: AuditIntent[];
  recover: string[];
  readonly promise: Promise<void>;
  resolve(): void;
  reject(e: Error): void;
}

interface Call {
  resolve(v: unknown): void;
  reject(e: Error): void;
}

/** Commits in flight at most (see the file comment). */
const MAX_IN_FLIGHT = 1;
/** The longest a batch that could leave waits for records of requests already being handled. */
const COMMIT_DELAY_MS = 1;

/** Thrown when the writer refuses a record without trying (overload, closed). */
export class AuditUnavailableError extends Error {}

/** One process's audit writer. */
export class AuditWriter implements AuditSink {
  readonly #opts: AuditWriterOptions;
  #worker: Worker | undefined;
  #nextId = 1;
  #current: Batch | undefined;
  /** Commits sent and not yet answered, oldest first (at most MAX_IN_FLIGHT). */
  readonly #inFlight: Batch[] = [];
  readonly #calls = new Map<number, Call>();
  #healthy = true;
  #closed = false;
  #probe: NodeJS.Timeout | undefined;
  #key: { privateKey: KeyObject; fingerprint: string } | undefined;
  /** Intents whose request's own record failed; their outcome-unknown records go with the next commit. */
  #orphans: string[] = [];
  #exited: Promise<void> = Promise.resolve();
  /** Requests being handled that have not submitted a record yet. */
  #expected = 0;
  /** Commits acknowledged, and the records and intents they carried. */
  #commits = 0;
  #records = 0;
  /** The timer that sends a waiting batch after COMMIT_DELAY_MS; set while one waits. */
  #delay: NodeJS.Timeout | undefined;
  /** Requests answered without their record since the last summary (issue 11). */
  #refusals: { count: number; first: number; last: number; region: string } | undefined;
  #summarising = false;

  constructor(opts: AuditWriterOptions) {
    this.#opts = opts;
    this.#spawn();
  }

  get healthy(): boolean {
    return this.#healthy && this.#worker !== undefined;
  }

  #spawn(): void {
    const data: WriterThreadData = {
      dir: this.#opts.dir,
      stream: this.#opts.stream,
      busyTimeoutMs: this.#opts.busyTimeoutMs ?? 5_000,
      digestCopyDir: this.#opts.digestCopyDir,
    };
    const worker = new Worker(this.#opts.threadScript, { workerData: data });
    this.#worker = worker;
    this.#exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (m: FromWriterThread) => this.#onMessage(m));
    worker.on('error', (err) => this.#opts.logger.error({ err }, 'audit writer thread failed'));
    worker.once('exit', (code) => this.#onExit(worker, code));
    if (this.#key !== undefined) this.#post({ t: 'key', id: this.#nextId++, ...this.#key });
  }

  #onExit(worker: Worker, code: number): void {
    if (this.#worker !== worker) return;
    this.#worker = undefined;
    const err = new Error(`the audit writer thread exited (${code})`);
    for (const b of this.#inFlight.splice(0)) {
      this.#orphan(b);
      b.reject(err);
    }
    for (const c of this.#calls.values()) c.reject(err);
    this.#calls.clear();
    if (this.#closed) return;
    this.#healthy = false;
    this.#opts.logger.error({ code }, 'audit writer thread exited; restarting it');
    setTimeout(() => {
      if (this.#closed) return;
      this.#spawn();
      this.#startProbing();
      this.#flush();
    }, this.#opts.retryMs ?? 1000).unref();
  }

  #onMessage(m: FromWriterThread): void {
    const at = this.#inFlight.findIndex((x) => x.id === m.id);
    if (at >= 0) {
      const b = this.#inFlight.splice(at, 1)[0] as Batch;
      if (m.t === 'ok') {
        this.#setHealthy(true);
        this.#commits += 1;
        this.#records += b.events.length + b.intents.length;
        b.resolve();
        this.#summariseRefusals();
      } else {
        this.#setHealthy(false);
        this.#opts.logger.error({ reason: m.message, records: b.events.length + b.intents.length }, 'audit commit failed: the requests of this batch fail');
        this.#orphan(b);
        b.reject(new Error(m.message));
      }
      this.#flush();
      return;
    }
    const call = this.#calls.get(m.id);
    if (call === undefined) return;
    this.#calls.delete(m.id);
    if (m.t === 'ok') call.resolve(m.value);
    else call.reject(new Error(m.message));
  }

  /** A failed batch: its completing records are lost, so their intents must be recovered later. */
  #orphan(b: Batch): void {
    for (const id of b.recover) this.#orphans.push(id);
    for (const e of b.events) if (e.completes !== undefined) this.#orphans.push(e.completes);
  }

  #setHealthy(ok: boolean): void {
    if (ok === this.#healthy) return;
    this.#healthy = ok;
    if (ok) {
      this.#opts.logger.warn({}, 'audit trail writable again');
      if (this.#orphans.length > 0) this.#batch(); // carries the orphans' records
      this.#summariseRefusals();
      if (this.#probe !== undefined) clearInterval(this.#probe);
      this.#probe = undefined;
    } else {
      this.#startProbing();
    }
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

  /** Refusals counted so far and not yet summarised (tests, metrics). */
  get pendingRefusals(): number {
    return this.#refusals?.count ?? 0;
  }

  /**
   * The trail writes again: one operator record says how many requests were answered without
   * their own record, and when (docs/architecture.md §1). If it fails too, the counts are kept for next time.
   */
  #summariseRefusals(): void {
    const r = this.#refusals;
    if (r === undefined || this.#summarising || this.#closed) return;
    this.#refusals = undefined;
    this.#summarising = true;
    const now = Date.now();
    const record = operatorRecord({
      time: now,
      eventId: newEventId(now),
      eventName: 'KeyholdAuditUnavailable',
      region: r.region,
      sourceIp: '',
      additionalEventData: {
        refusedRequests: r.count,
        firstRefusalTime: new Date(r.first).toISOString(),
        lastRefusalTime: new Date(r.last).toISOString(),
        reason: 'the audit trail could not be written: these requests were answered 503 (or 5xx) without their own record',
      },
    });
    this.append(record).then(
      () => {
        this.#summarising = false;
        this.#opts.logger.warn({ refused: r.count }, 'audit: recorded a summary of the requests refused while the trail could not be written');
      },
      () => {
        this.#summarising = false;
        const now2 = this.#refusals;
        this.#refusals =
          now2 === undefined ? r : { count: now2.count + r.count, first: Math.min(now2.first, r.first), last: Math.max(now2.last, r.last), region: r.region };
      },
    );
  }

  #startProbing(): void {
    if (this.#probe !== undefined || this.#closed) return;
    let pending = false;
    this.#probe = setInterval(() => {
      if (this.#worker === undefined || pending) return;
      pending = true;
      this.#call({ t: 'probe', id: 0 }).then(
        () => {
          pending = false;
          this.#setHealthy(true);
        },
        () => {
          pending = false;
        },
      );
    }, this.#opts.retryMs ?? 1000).unref();
  }

  #post(m: ToWriterThread): void {
    this.#worker?.postMessage(m);
  }

  #call(m: ToWriterThread): Promise<unknown> {
    if (this.#worker === undefined) return Promise.reject(new AuditUnavailableError('the audit writer thread is not running'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#calls.set(id, { resolve, reject });
      this.#post({ ...m, id });
    });
  }

  #batch(): Batch {
    if (this.#current !== undefined) return this.#current;
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Every awaiting request sees a rejection; the batch promise itself never goes unhandled.
    promise.catch(() => undefined);
    const b: Batch = { id: this.#nextId++, events: [], intents: [], recover: [], promise, resolve, reject };
    this.#current = b;
    if (this.#inFlight.length < MAX_IN_FLIGHT) setImmediate(() => this.#flush());
    return b;
  }

  #flush(): void {
    const b = this.#current;
    if (b === undefined || this.#inFlight.length >= MAX_IN_FLIGHT || this.#worker === undefined) return;
    // Requests already being handled are about to submit their records: let one fsync carry
    // them too, unless an intent waits (a mutating request is blocked on it).
    const delay = this.#opts.commitDelayMs ?? COMMIT_DELAY_MS;
    if (this.#expected > 0 && b.intents.length === 0 && delay > 0) {
      this.#delay ??= setTimeout(() => this.#send(), delay);
      return;
    }
    this.#send();
  }

  /** Sends the gathered batch now, if a commit slot is free. */
  #send(): void {
    if (this.#delay !== undefined) clearTimeout(this.#delay);
    this.#delay = undefined;
    const b = this.#current;
    if (b === undefined || this.#inFlight.length >= MAX_IN_FLIGHT || this.#worker === undefined) return;
    this.#current = undefined;
    this.#inFlight.push(b);
    if (this.#orphans.length > 0) b.recover = this.#orphans.splice(0);
    this.#post({ t: 'commit', id: b.id, events: b.events.map(encodeAppend), intents: b.intents, recover: b.recover });
  }

  /** Commits acknowledged so far and the records (events and intents) they carried. */
  stats(): { commits: number; records: number } {
    return { commits: this.#commits, records: this.#records };
  }

  expect(): void {
    this.#expected += 1;
  }

  settle(): void {
    if (this.#expected > 0) this.#expected -= 1;
    // The last request being handled has submitted: a waiting batch need not wait longer.
    if (this.#expected === 0 && this.#delay !== undefined) setImmediate(() => this.#flush());
  }

  #admit(): Batch {
    if (this.#closed) throw new AuditUnavailableError('the audit writer is closed');
    const b = this.#batch();
    if (b.events.length + b.intents.length >= (this.#opts.maxPending ?? 100_000)) {
      throw new AuditUnavailableError('the audit trail cannot keep up');
    }
    return b;
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

  /** Hands the thread the digest signing key (primary only); kept to re-send after a restart. */
  async setSigningKey(privateKey: KeyObject, fingerprint: string): Promise<void> {
    this.#key = { privateKey, fingerprint };
    await this.#call({ t: 'key', id: 0, privateKey, fingerprint });
  }

  /** Writes a signed digest of everything committed so far (primary only). */
  async digest(reason: DigestReason, now: number): Promise<DigestSummary | undefined> {
    return (await this.#call({ t: 'digest', id: 0, reason, now })) as DigestSummary | undefined;
  }

  /** Applies retention: prunes whole digest periods that ended more than `retentionMs` ago. */
  async prune(now: number, retentionMs: number): Promise<number> {
    return (await this.#call({ t: 'prune', id: 0, now, retentionMs })) as number;
  }

  /**
   * Records, in every stream, the outcome-unknown events of orphaned intents (primary only):
   * those of `deadOwners`, stale ones, those whose owner process is gone, and with `allOthers`
   * every intent not owned by this process. Returns how many.
   */
  async recover(now: number, staleMs: number, deadOwners: readonly number[] = [], allOthers = false): Promise<number> {
    return (await this.#call({ t: 'recover', id: 0, now, staleMs, deadOwners, allOthers })) as number;
  }

  /** Waits until nothing is queued or in flight. */
  async drain(): Promise<void> {
    for (;;) {
      const pending = this.#inFlight[0] ?? this.#current;
      if (pending === undefined) return;
      await pending.promise.catch(() => undefined);
    }
  }

  /** Commits what is queued, then stops the thread. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.drain();
    this.#closed = true;
    if (this.#probe !== undefined) clearInterval(this.#probe);
    if (this.#worker !== undefined) {
      await this.#call({ t: 'close', id: 0 }).catch(() => undefined);
      await this.#exited;
    }
  }
}
