/**
 * Which audit stream a process of a PostgreSQL deployment appends to (issue 14, from review).
 * On SQLite a process's worker slot is its stream: one data directory, one primary. Several nodes
 * on one database would each have a worker 0, so streams are allocated from the database instead:
 * a stream is claimed as a lease (lease.ts, the `leases` row `audit-stream/N`) with an expiry the
 * claimant renews by heartbeat. A process claims the lowest stream number nobody holds; numbers of
 * processes that stopped are reused, so the set of streams stays as small as the deployment.
 *
 * The chain survives reuse: a commit reads the head under the stream's row lock
 * (audit-log-postgres.ts), so the next claimant continues the previous one's chain, and a writer
 * that was overtaken while still alive (its claim expired during an outage) still produces one
 * continuous chain with the new one.
 *
 * Intents: the claim's fencing epoch — unique for each (stream, claim) across every node and
 * restart, unlike a PID — is stored as the owner of each intent the process writes. An intent
 * whose stream is not held by its owner any more (the claim expired, was released, or moved to a
 * newer epoch) belongs to a process that is gone: its outcome-unknown record is appended by the
 * next claimant (to its own stream), once — two recovering at once serialise on the intent's row.
 */
import type { Clock } from '../../clock';
import type { ChainLink } from '../audit-log';
import type { PostgresAuditLog } from './audit-log-postgres';
import type { PostgresPool } from './connection';
import { DEFAULT_HEARTBEAT_MS, DEFAULT_LEASE_TTL_MS, PostgresLease } from './lease';

/** Lease name prefix of stream claims. */
const PREFIX = 'audit-stream/';
/** Streams a claimant tries past the ones held before giving up (each try loses only to a racing claimant). */
const EXTRA_TRIES = 64;

/** What claiming a stream needs. */
export interface AuditStreamClaimOptions {
  readonly pool: PostgresPool;
  /** The log the process's sink commits through: its intents get the claim's owner. */
  readonly log: PostgresAuditLog;
  /** Unique per node process, e.g. `${hostname}:${pid}:${random}` (as for every lease). */
  readonly holder: string;
  readonly clock: Clock;
  readonly trailId: string;
  /** src/audit/chain.ts `genesisHash` and `chainLink` (the store layer does not import the audit layer). */
  readonly genesis: (trailId: string, stream: number) => Buffer;
  readonly link: ChainLink;
  readonly ttlMs?: number;
}

/** A process's stream. */
export interface AuditStreamClaim {
  readonly stream: number;
  /** Stored as the owner of this process's intents. */
  readonly owner: number;
  /** Whether the claim is still this process's (renewed within its expiry). */
  held(): boolean;
  /**
   * Appends the outcome-unknown records of intents whose owner no longer holds its stream to this
   * stream (the claim does it once when taken; the heartbeat, at each renewal); resolves how many.
   */
  recoverOrphans(): Promise<number>;
  /** Renews the claim (and recovers orphans) every `intervalMs`; `onLost` hears when it lapses. */
  start(intervalMs?: number, onLost?: () => void): void;
  /** Gives the stream up (shutdown): the next process to start may take it at once. */
  release(): Promise<void>;
}

/** The stream number a claim lease names (undefined for other leases). */
function streamOf(name: string): number | undefined {
  if (!name.startsWith(PREFIX)) return undefined;
  const n = Number(name.slice(PREFIX.length));
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** Claims the lowest free stream, creates its bookkeeping, and recovers orphaned intents. */
export async function claimAuditStream(o: AuditStreamClaimOptions): Promise<AuditStreamClaim> {
  const now = o.clock.now();
  // Streams held by others now (throws while the database is unavailable: no claim without it).
  const held = new Set(
    (await o.pool.query<{ name: string }>('SELECT name FROM leases WHERE name LIKE $1 AND expires_at > $2 AND holder <> $3', [`${PREFIX}%`, now, o.holder]))
      .map((r) => streamOf(r.name))
      .filter((n): n is number => n !== undefined),
  );
  let lease: PostgresLease | undefined;
  let stream = -1;
  for (let n = 0, tries = 0; lease === undefined && tries < held.size + EXTRA_TRIES; n++) {
    if (held.has(n)) continue;
    tries += 1;
    const l = new PostgresLease({ pool: o.pool, name: `${PREFIX}${n}`, holder: o.holder, clock: o.clock, ttlMs: o.ttlMs ?? DEFAULT_LEASE_TTL_MS });
    if (await l.heartbeat()) {
      lease = l;
      stream = n;
    }
  }
  if (lease === undefined) throw new Error('no audit stream could be claimed (the database is unavailable, or other nodes took every one tried)');
  const owner = lease.epoch() as number;
  o.log.ownIntentsAs(stream, owner);
  await o.log.initializeStream(o.trailId, stream, o.genesis(o.trailId, stream));
  const claimed = lease;
  let timer: NodeJS.Timeout | undefined;

  const recoverOrphans = async (): Promise<number> => {
    // Intents of this stream from an earlier claim, and of any stream whose claim has lapsed.
    const ids = (
      await o.pool.query<{ id: string }>(
        `SELECT i.id FROM audit_intents i LEFT JOIN leases l ON l.name = $1 || i.stream
         WHERE (i.stream = $2 AND i.owner <> $3) OR (i.stream <> $2 AND (l.name IS NULL OR l.expires_at <= $4 OR l.epoch <> i.owner))
         ORDER BY i.created_at, i.id LIMIT 1000`,
        [PREFIX, stream, owner, o.clock.now()],
      )
    ).map((r) => r.id);
    if (ids.length === 0) return 0;
    await o.log.commit(stream, { events: [], intents: [], recover: ids }, o.link);
    return ids.length;
  };
  await recoverOrphans();

  return {
    stream,
    owner,
    held: () => claimed.held() && claimed.epoch() === owner,
    recoverOrphans,
    start(intervalMs = DEFAULT_HEARTBEAT_MS, onLost) {
      let lost = false;
      timer = setInterval(() => {
        void claimed.heartbeat().then(async (ok) => {
          if (ok && claimed.epoch() === owner) {
            await recoverOrphans().catch(() => 0); // the next beat tries again
          } else if (!lost) {
            lost = true;
            onLost?.();
          }
        });
      }, intervalMs);
      timer.unref();
    },
    async release() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      await claimed.release();
    },
  };
}
