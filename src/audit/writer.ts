/**
 * The durable audit writer of one process (docs/architecture.md §1 promise 2, §3 step 5). Requests hand it
 * records and await the commit that makes them durable; the journal write and its fdatasync run
 * on a worker thread (src/cli/audit-writer-thread.ts), so the event loop never waits on the disk.
 *
 * Batching, failure and refusal handling are the shared group-commit front
 * (src/store/audit-group-commit.ts, also used by the PostgreSQL sink): one commit in flight,
 * the next batch gathering meanwhile and leaving as soon as it returns. This file is the SQLite
 * transport: a commit is one message to the thread and its answer.
 *
 * If the thread dies it is restarted; the batch it held is failed (it may or may not have been
 * written: a record can exist for a request whose client saw a 5xx, never the other way round).
 */
import type { KeyObject } from 'node:crypto';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { GroupCommit, AuditSinkUnavailableError, type RefusalSummary } from '../store/audit-group-commit';
import type { AuditAppend, AuditIntent } from '../store/audit-log';
import type { DigestReason } from './chain';
import { operatorRecord } from './event';
import { newEventId } from './event-id';
import type { AuditSink } from './sink';
import { encodeAppend, type AuditTestHooks, type DigestSummary, type CommitAck, type FromWriterThread, type ToWriterThread, type WriterThreadData } from './thread-protocol';

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
  /** Delay before restarting a dead thread and between probes of a failing database. */
  readonly retryMs?: number;
  /** Tests only: injected failures and limits (thread-protocol.ts). */
  readonly testHooks?: AuditTestHooks;
}

interface Call {
  resolve(v: unknown): void;
  reject(e: Error): void;
}

/** Thrown when the writer refuses a record without trying (overload, closed). */
export const AuditUnavailableError = AuditSinkUnavailableError;

/** The operator record that says how many requests were answered without their own record (docs/architecture.md §1). */
export function auditRefusalRecord(r: RefusalSummary, now: number): AuditAppend {
  return operatorRecord({
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
}

/** One process's audit writer. */
export class AuditWriter implements AuditSink {
  readonly #opts: AuditWriterOptions;
  #worker: Worker | undefined;
  /** Where requests go (the thread takes them synchronously), and the signal bumped after each. */
  #inbox: MessagePort | undefined;
  readonly #signal = new Int32Array(new SharedArrayBuffer(4));
  /** Where the thread acknowledges commits. */
  #acks: MessagePort | undefined;
  #nextId = 1;
  readonly #calls = new Map<number, Call>();
  #closed = false;
  #key: { privateKey: KeyObject; fingerprint: string } | undefined;
  #exited: Promise<void> = Promise.resolve();
  readonly #front: GroupCommit;

  constructor(opts: AuditWriterOptions) {
    this.#opts = opts;
    this.#front = new GroupCommit({
      commit: (b) => this.#call({ t: 'commit', id: 0, events: b.events.map(encodeAppend), intents: b.intents, recover: b.recover }).then(() => undefined),
      probe: () => this.#call({ t: 'probe', id: 0 }).then(() => undefined),
      canCommit: () => this.#worker !== undefined,
      // The next batch is sent while the thread syncs the previous one: it waits in the inbox
      // and goes into the thread's next frame with whatever else arrived meanwhile.
      maxInFlight: 2,
      // A busy loop's batch waits up to 3 more turns, under 1 ms old (eight turns, or no age
      // bound, measured the same for Encrypt: docs/performance.md, session 12).
      gatherTurns: 3,
      gatherMs: 1,
      refusalRecord: auditRefusalRecord,
      logger: opts.logger,
      maxPending: opts.maxPending,
      retryMs: opts.retryMs,
    });
    this.#spawn();
  }

  get healthy(): boolean {
    return this.#front.healthy && this.#worker !== undefined;
  }

  #spawn(): void {
    const inbox = new MessageChannel();
    const acks = new MessageChannel();
    const data: WriterThreadData = {
      dir: this.#opts.dir,
      stream: this.#opts.stream,
      busyTimeoutMs: this.#opts.busyTimeoutMs ?? 5_000,
      digestCopyDir: this.#opts.digestCopyDir,
      inbox: inbox.port2,
      signal: this.#signal.buffer as SharedArrayBuffer,
      acks: acks.port2,
      ...(this.#opts.testHooks === undefined ? {} : { testHooks: this.#opts.testHooks }),
    };
    const worker = new Worker(this.#opts.threadScript, { workerData: data, transferList: [inbox.port2, acks.port2] });
    this.#inbox = inbox.port1;
    this.#acks = acks.port1;
    acks.port1.on('message', (m: CommitAck) => {
      for (const id of m.ids) this.#onMessage(m.t === 'synced' ? { t: 'ok', id } : { t: 'fail', id, message: m.message });
    });
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
    this.#acks?.close();
    this.#acks = undefined;
    this.#inbox?.close();
    this.#inbox = undefined;
    // The commit in flight fails with its call (the group-commit front orphans its intents).
    const err = new Error(`the audit writer thread exited (${code})`);
    for (const c of this.#calls.values()) c.reject(err);
    this.#calls.clear();
    if (this.#closed) return;
    this.#front.unavailable();
    this.#opts.logger.error({ code }, 'audit writer thread exited; restarting it');
    setTimeout(() => {
      if (this.#closed) return;
      this.#spawn();
      this.#front.flush();
    }, this.#opts.retryMs ?? 1000).unref();
  }

  #onMessage(m: FromWriterThread): void {
    const call = this.#calls.get(m.id);
    if (call === undefined) return;
    this.#calls.delete(m.id);
    if (m.t === 'ok') call.resolve(m.value);
    else call.reject(new Error(m.message));
  }

  refused(at: number, region: string): void {
    this.#front.refused(at, region);
  }

  /** Refusals counted so far and not yet summarised (tests, metrics). */
  get pendingRefusals(): number {
    return this.#front.pendingRefusals;
  }

  #post(m: ToWriterThread): void {
    const inbox = this.#inbox;
    if (inbox === undefined) return;
    inbox.postMessage(m);
    // The thread sleeps in Atomics.wait, not in its event loop (audit-writer-thread.ts).
    Atomics.add(this.#signal, 0, 1);
    Atomics.notify(this.#signal, 0);
  }

  #call(m: ToWriterThread): Promise<unknown> {
    if (this.#worker === undefined) return Promise.reject(new AuditUnavailableError('the audit writer thread is not running'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#calls.set(id, { resolve, reject });
      this.#post({ ...m, id });
    });
  }

  /** Commits acknowledged so far and the records (events and intents) they carried. */
  stats(): { commits: number; records: number } {
    return this.#front.stats();
  }

  expect(): void {
    this.#front.expect();
  }

  settle(): void {
    this.#front.settle();
  }

  append(record: AuditAppend): Promise<void> {
    return this.#front.append(record);
  }

  intend(intent: AuditIntent): Promise<void> {
    return this.#front.intend(intent);
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
  drain(): Promise<void> {
    return this.#front.drain();
  }

  /** Commits what is queued, then stops the thread. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#front.close();
    this.#closed = true;
    if (this.#worker !== undefined) {
      await this.#call({ t: 'close', id: 0 }).catch(() => undefined);
      await this.#exited;
    }
  }
}
