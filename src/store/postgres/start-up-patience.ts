/**
 * Patience at start-up (issue 14). A request that needs an unreachable database answers 503
 * within 2 s (connection.ts's deadlines), but a node that is *starting* has nobody waiting on a
 * socket: giving up after one 1 s connection attempt made nodes fail to start on a loaded host or
 * while PostgreSQL was starting up. Start-up steps that only read or that are idempotent
 * (migrations, unsealing the domain key, provisioning under its lock, claiming an audit stream)
 * are retried with backoff while the database is slow or briefly unavailable (timeouts, "the
 * database system is starting up", too many connections, a dropped connection), up to a bound.
 * A refused connection or an unknown host is not waited out: nothing listens there, and an
 * operator who pointed the node at the wrong place is told at once (the process exits 1, and a
 * supervisor may start it again); any other error also fails the start at once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { isUnavailable } from './connection';

/** Nothing listens there, or the name does not resolve: waiting would only hide a wrong --store. */
const NOBODY_THERE = /\b(ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN)\b/;

/** Whether a start-up step's failure is worth another try. */
export function isTransient(e: unknown): boolean {
  if (!isUnavailable(e)) return false;
  for (let err = e as { code?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0; err !== undefined && err !== null && depth < 4; err = err.cause as typeof err, depth++) {
    if (typeof err.code === 'string' && NOBODY_THERE.test(err.code)) return false;
    if (typeof err.message === 'string' && NOBODY_THERE.test(err.message)) return false;
  }
  return true;
}

/** How long a starting node keeps trying a database that is unavailable. */
export const START_UP_PATIENCE_MS = 90_000;

/** Runs `work` until it succeeds, fails for another reason than availability, or patience runs out. */
export async function patiently<T>(what: string, logger: Logger, work: () => Promise<T>, patienceMs = START_UP_PATIENCE_MS): Promise<T> {
  const deadline = Date.now() + patienceMs;
  for (let delay = 200; ; delay = Math.min(delay * 2, 5_000)) {
    try {
      return await work();
    } catch (e) {
      if (!isTransient(e) || Date.now() + delay > deadline) throw e;
      logger.warn({ err: (e as Error).message, step: what, retryInMs: delay }, 'PostgreSQL unavailable while starting; retrying');
      await sleep(delay);
    }
  }
}
