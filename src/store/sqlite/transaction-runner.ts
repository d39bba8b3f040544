/**
 * The SQLite transaction runner (issue 13): the one place that begins, commits, rolls back and
 * retries. Within a process, work on the write connection takes an async lock (see
 * async-lock.ts); across worker processes, BEGIN IMMEDIATE takes SQLite's write lock first, so
 * writers on one file serialise and a transaction never fails half-way on a lock upgrade.
 *
 * Group commit. With `synchronous=FULL` every COMMIT waits for an fsync of the WAL, on the event
 * loop, and that wait — not the statements — is most of a write's cost. The transactions that
 * queue up while one commit is in progress therefore run together: one BEGIN IMMEDIATE, each
 * callback in its own SAVEPOINT (a callback that throws is rolled back to it, alone), one COMMIT
 * for all. They run one after another, in call order, each seeing the writes of those before it,
 * exactly as if each had been its own transaction; every caller resumes only after the COMMIT
 * that made its writes durable (or with its own error). At most MAX_BATCH run together. Should
 * SQLite abandon the whole transaction while a callback runs (an I/O error, a full disk: it
 * rolls back by itself), that callback gets its error and the others run again in a new one —
 * callbacks may run more than once (src/store/transaction.ts).
 *
 * A busy database (another process holds the write lock) is retried here and nowhere else. The
 * write connection's own busy_timeout is short (WRITE_BUSY_TIMEOUT_MS): SQLite's busy handler
 * sleeps synchronously, which would freeze this process's event loop — and, were the lock held
 * by a transaction of this same process (two Stores on one file, as in tests), never let it
 * finish. The runner instead waits asynchronously, with jittered backoff, until `timeoutMs`
 * (../retry.ts, the loop the PostgreSQL runner shares).
 */
import { retryWhile } from '../retry';
import { AsyncLock } from './async-lock';
import type { Connection } from './connection';

/** The write connection's synchronous busy wait (milliseconds) before the runner's async retry takes over. */
export const WRITE_BUSY_TIMEOUT_MS = 10;

/** The most transactions committed together. */
export const MAX_BATCH = 64;

function isBusy(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_'));
}

/** A transaction waiting for its batch. */
interface Queued {
  readonly body: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** How a callback ended in one attempt. */
type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/** Thrown inside an attempt when SQLite abandoned the transaction under a callback: the rest run again. */
class TransactionLost extends Error {
  constructor(readonly index: number, readonly error: unknown) {
    super('the transaction was rolled back by SQLite');
  }
}

/** Serialises and runs transactions on one write connection. */
export class SqliteTransactionRunner {
  readonly #db: Pick<Connection, 'exec' | 'inTransaction'>;
  readonly #lock = new AsyncLock();
  readonly #timeoutMs: number;
  readonly #afterWrite: () => void;
  /** Transactions waiting for the next batch. */
  readonly #queued: Queued[] = [];
  /** Whether a batch is waiting for the lock (it takes whatever is queued when it gets it). */
  #batchWaiting = false;

  /**
   * `timeoutMs`: how long a busy database is retried before the error propagates. `afterWrite`
   * runs after every commit, before the transaction's caller resumes (the change feed's local notice).
   */
  constructor(db: Pick<Connection, 'exec' | 'inTransaction'>, timeoutMs: number, afterWrite: () => void) {
    this.#db = db;
    this.#timeoutMs = timeoutMs;
    this.#afterWrite = afterWrite;
  }

  /**
   * Runs `fn` alone on the connection, outside any transaction of the runner: self-contained
   * work of other modules (the IdentityStore's calls, migrations), which open their own
   * IMMEDIATE transactions. A busy error before anything was written is retried here too.
   */
  exclusive<T>(fn: () => T | Promise<T>): Promise<T> {
    return this.#lock.run(() =>
      this.#retrying(async () => {
        try {
          return await fn();
        } finally {
          this.#afterWrite();
        }
      }),
    );
  }

  /** Runs `body` in one IMMEDIATE transaction (shared with others queued with it); a thrown error rolls it back and propagates. */
  run<T>(body: () => T | Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queued.push({ body, resolve: resolve as (v: unknown) => void, reject });
      this.#scheduleBatch();
    });
  }

  #scheduleBatch(): void {
    if (this.#batchWaiting || this.#queued.length === 0) return;
    this.#batchWaiting = true;
    void this.#lock.run(async () => {
      this.#batchWaiting = false;
      const batch = this.#queued.splice(0, MAX_BATCH);
      this.#scheduleBatch();
      await this.#runBatch(batch);
    });
  }

  /** Runs a batch to the end: every member resolved or rejected. */
  async #runBatch(batch: readonly Queued[]): Promise<void> {
    let todo = batch;
    while (todo.length > 0) {
      let outcomes: Outcome[];
      try {
        outcomes = await this.#retrying(() => this.#attempt(todo));
      } catch (e) {
        if (e instanceof TransactionLost) {
          (todo[e.index] as Queued).reject(e.error);
          todo = todo.filter((_, i) => i !== e.index);
          continue;
        }
        for (const q of todo) q.reject(e);
        return;
      }
      try {
        this.#afterWrite();
      } catch (e) {
        // Committed, but this process could not take notice of it (its caches may be stale): as
        // with one transaction each, the callers get the error.
        for (const q of todo) q.reject(e);
        return;
      }
      outcomes.forEach((o, i) => (o.ok ? (todo[i] as Queued).resolve(o.value) : (todo[i] as Queued).reject(o.error)));
      return;
    }
  }

  /** One transaction holding every member of `todo`, each in its savepoint; their outcomes once committed. */
  async #attempt(todo: readonly Queued[]): Promise<Outcome[]> {
    const db = this.#db;
    db.exec('BEGIN IMMEDIATE');
    const outcomes: Outcome[] = [];
    try {
      for (let i = 0; i < todo.length; i++) {
        db.exec('SAVEPOINT batched');
        try {
          outcomes.push({ ok: true, value: await (todo[i] as Queued).body() });
          db.exec('RELEASE batched');
        } catch (error) {
          if (isBusy(error)) throw error;
          if (!db.inTransaction) throw new TransactionLost(i, error);
          db.exec('ROLLBACK TO batched');
          db.exec('RELEASE batched');
          outcomes.push({ ok: false, error });
        }
      }
      db.exec('COMMIT');
    } catch (e) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw e;
    }
    return outcomes;
  }

  #retrying<T>(attempt: () => Promise<T>): Promise<T> {
    return retryWhile(isBusy, this.#timeoutMs, attempt);
  }
}
