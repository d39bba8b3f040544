/**
 * The PostgreSQL transaction runner (issue 14; port: src/store/transaction.ts): the one place
 * that begins, commits, rolls back and retries. Each attempt takes a pooled connection, runs
 * BEGIN (READ COMMITTED), the callback, then the change feed's mark together with COMMIT in one
 * round trip. A serialization failure (40001), a deadlock (40P01) or a lost insert race
 * (`RetryTransaction`) rolls back on the same connection and runs the callback again, with
 * jittered backoff, within RETRY_BUDGET_MS; nothing else is retried. A connection whose
 * transaction failed for any other reason than the callback's own error is discarded (its state
 * is unknown), not returned to the pool.
 *
 * After the commit the runner waits until the change feed delivered the transaction's changes
 * to this process's caches (`PostgresChangeFeed.committed`), so a write is visible to the next
 * read of the process — and of its sibling worker processes — before the call returns.
 */
import type { PoolClient } from 'pg';
import { retryWhile } from '../retry';
import { CHANGE_CHANNEL, type PostgresChangeFeed } from './postgres-change-feed';
import { isUnavailable, type PostgresPool } from './connection';
import { PostgresWriter, RetryTransaction, type Query } from './postgres-tx';
import type { Row } from './postgres-rows';

/** How long conflicts are retried before the last one propagates. */
const RETRY_BUDGET_MS = 5000;
/** Prepared statements per connection are named by their text; beyond this many texts, statements go unnamed. */
const MAX_NAMED = 500;

/** SQLSTATEs after which the whole transaction may simply run again. */
const RETRYABLE = new Set(['40001', '40P01']);

function retryable(e: unknown): boolean {
  if (e instanceof RetryTransaction) return true;
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RETRYABLE.has(code);
}

/**
 * Runs `attempt` until it succeeds, fails with anything but a conflict (40001, 40P01,
 * `RetryTransaction`), or RETRY_BUDGET_MS have passed; jittered backoff between attempts. Each
 * attempt must be a whole transaction (rolled back when it failed), so running it again is safe.
 */
export function retryConflicts<T>(attempt: () => Promise<T>): Promise<T> {
  return retryWhile(retryable, RETRY_BUDGET_MS, attempt);
}

type Attempt<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

/** Runs the Store's transactions on one pool. */
export class PostgresTransactionRunner {
  readonly #pool: PostgresPool;
  readonly #feed: PostgresChangeFeed;
  readonly #names = new Map<string, string>();

  constructor(pool: PostgresPool, feed: PostgresChangeFeed) {
    this.#pool = pool;
    this.#feed = feed;
  }

  /** A statement runner on `client`, preparing each distinct text once per connection. */
  query(client: PoolClient): Query {
    return async (text, params = []) => {
      let name = this.#names.get(text);
      if (name === undefined && this.#names.size < MAX_NAMED) {
        name = `k${this.#names.size}`;
        this.#names.set(text, name);
      }
      const r = await client.query<Row>(name === undefined ? { text, values: params as unknown[] } : { name, text, values: params as unknown[] });
      return { rows: r.rows, rowCount: r.rowCount ?? 0 };
    };
  }

  /** One statement outside any transaction (the Store's reads). */
  read(text: string, params: readonly unknown[] = []): Promise<Row[]> {
    return this.#pool.withClient(async (client) => (await this.query(client)(text, params)).rows);
  }

  /** Runs `body` in one transaction, retrying conflicts; resolves once this process's caches have its changes. */
  async run<T>(body: (w: PostgresWriter) => Promise<T>): Promise<T> {
    return retryConflicts(async () => {
      let mark = 0;
      const out = await this.#pool.withClient(async (client): Promise<Attempt<T>> => {
        const q = this.query(client);
        await client.query('BEGIN');
        let value: T;
        try {
          value = await body(new PostgresWriter(q));
        } catch (error) {
          // The connection may be gone: withClient discards it. Otherwise end the transaction here.
          if (isUnavailable(error)) throw error;
          await client.query('ROLLBACK');
          return { ok: false, error };
        }
        const m = this.#feed.nextMark();
        // The mark rides with COMMIT (one round trip; simple protocol, our own characters only).
        await client.query(`SELECT pg_notify('${CHANGE_CHANNEL}', '${m.payload}'); COMMIT`);
        mark = m.n;
        return { ok: true, value };
      });
      if (!out.ok) throw out.error;
      await this.#feed.committed(mark);
      return out.value;
    });
  }
}
