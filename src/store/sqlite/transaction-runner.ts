/**
 * The SQLite transaction runner (issue 13): the one place that begins, commits, rolls back and
 * retries. Within a process, work on the write connection takes an async lock (see
 * async-lock.ts); across worker processes, BEGIN IMMEDIATE takes SQLite's write lock first, so
 * writers on one file serialise and a transaction never fails half-way on a lock upgrade.
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

function isBusy(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_'));
}

/** Serialises and runs transactions on one write connection. */
export class SqliteTransactionRunner {
  readonly #db: Pick<Connection, 'exec' | 'inTransaction'>;
  readonly #lock = new AsyncLock();
  readonly #timeoutMs: number;
  readonly #afterWrite: () => void;

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

  /** Runs `body` in one IMMEDIATE transaction; a thrown error rolls it back and propagates. */
  run<T>(body: () => T | Promise<T>): Promise<T> {
    return this.#lock.run(() =>
      this.#retrying(async () => {
        this.#db.exec('BEGIN IMMEDIATE');
        let result: T;
        try {
          result = await body();
          this.#db.exec('COMMIT');
        } catch (e) {
          if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
          throw e;
        }
        this.#afterWrite();
        return result;
      }),
    );
  }

  #retrying<T>(attempt: () => Promise<T>): Promise<T> {
    return retryWhile(isBusy, this.#timeoutMs, attempt);
  }
}
