/**
 * Patience at start-up (issue 14). A request that needs an unreachable database answers 503
 * within 2 s (connection.ts's deadlines), but a node that is *starting* has nobody waiting on a
 * socket: giving up after one 1 s connection attempt made nodes fail to start on a loaded host or
 * while PostgreSQL was restarting. Start-up steps that only read or that are idempotent
 * (migrations, unsealing the domain key, provisioning under its lock, claiming an audit stream)
 * are retried with backoff while the database is unavailable, up to a bound; any other error
 * fails the start at once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { isUnavailable } from './connection';

/** How long a starting node keeps trying a database that is unavailable. */
export const START_UP_PATIENCE_MS = 90_000;

/** Runs `work` until it succeeds, fails for another reason than availability, or patience runs out. */
export async function patiently<T>(what: string, logger: Logger, work: () => Promise<T>, patienceMs = START_UP_PATIENCE_MS): Promise<T> {
  const deadline = Date.now() + patienceMs;
  for (let delay = 200; ; delay = Math.min(delay * 2, 5_000)) {
    try {
      return await work();
    } catch (e) {
      if (!isUnavailable(e) || Date.now() + delay > deadline) throw e;
      logger.warn({ err: (e as Error).message, step: what, retryInMs: delay }, 'PostgreSQL unavailable while starting; retrying');
      await sleep(delay);
    }
  }
}
