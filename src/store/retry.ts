/**
 * The one retry loop of the store adapters: a whole transaction run again while it fails in a
 * way the adapter calls retryable (SQLite: the database is busy; PostgreSQL: a serialization
 * failure or deadlock), with jittered exponential backoff capped at MAX_BACKOFF_MS, until
 * `budgetMs` have passed; then the last error propagates. Each attempt must leave nothing
 * behind when it fails (rolled back), so running it again is safe.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** The longest wait between two attempts. */
const MAX_BACKOFF_MS = 50;

export async function retryWhile<T>(retryable: (e: unknown) => boolean, budgetMs: number, attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + budgetMs;
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (e) {
      if (!retryable(e) || Date.now() >= deadline) throw e;
    }
    await sleep(Math.min(2 ** n, MAX_BACKOFF_MS) * (0.5 + Math.random()));
  }
}
