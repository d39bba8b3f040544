/**
 * The lease of src/store/lease.ts in PostgreSQL (issue 14): one row of `leases` per name. Taking,
 * renewing and taking over are one statement (INSERT ... ON CONFLICT DO UPDATE ... WHERE the row
 * is ours or expired), so two nodes racing for a free or expired lease cannot both win: the row
 * lock of the conflicting row serialises them and the loser's WHERE no longer matches.
 *
 * Times come from the injected Clock (tests move it); the expiry is written as an absolute time,
 * so the nodes' clocks must agree to well within `ttlMs`.
 */
import type { Clock } from '../../clock';
import type { Lease } from '../lease';
import type { PostgresPool } from './connection';

/** Default expiry and heartbeat: another node takes over at most TTL + HEARTBEAT after the last renewal (40 s ≤ 60 s). */
export const DEFAULT_LEASE_TTL_MS = 30_000;
export const DEFAULT_HEARTBEAT_MS = 10_000;

/** What a lease needs. */
export interface PostgresLeaseOptions {
  readonly pool: PostgresPool;
  readonly name: string;
  /** Unique per node process, e.g. `${hostname}:${pid}:${random}`: two holders must never share one. */
  readonly holder: string;
  readonly clock: Clock;
  readonly ttlMs?: number;
}

/** A lease row in PostgreSQL. */
export class PostgresLease implements Lease {
  readonly name: string;
  readonly holder: string;
  readonly #pool: PostgresPool;
  readonly #clock: Clock;
  readonly #ttl: number;
  /** The expiry this holder last wrote (undefined while not held) and the epoch it holds. */
  #expires: number | undefined;
  #epoch: number | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(o: PostgresLeaseOptions) {
    if (o.holder === '') throw new Error('a lease holder needs a name');
    this.name = o.name;
    this.holder = o.holder;
    this.#pool = o.pool;
    this.#clock = o.clock;
    this.#ttl = o.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  }

  async heartbeat(): Promise<boolean> {
    const now = this.#clock.now();
    let rows: { epoch: string; expires_at: string }[];
    try {
      rows = await this.#pool.query<{ epoch: string; expires_at: string }>(
        `INSERT INTO leases AS l (name, holder, expires_at, acquired_at, renewed_at, epoch)
         VALUES ($1, $2, $3, $4, $4, 1)
         ON CONFLICT (name) DO UPDATE SET
           holder = excluded.holder,
           expires_at = excluded.expires_at,
           renewed_at = excluded.renewed_at,
           acquired_at = CASE WHEN l.holder = excluded.holder THEN l.acquired_at ELSE excluded.acquired_at END,
           epoch = CASE WHEN l.holder = excluded.holder THEN l.epoch ELSE l.epoch + 1 END
         WHERE l.holder = excluded.holder OR l.expires_at <= $4
         RETURNING epoch, expires_at`,
        [this.name, this.holder, now + this.#ttl, now],
      );
    } catch {
      // Unreachable database: not renewed. held() turns false when the last expiry passes.
      return this.held();
    }
    const r = rows[0];
    if (r === undefined) {
      this.#expires = undefined;
      this.#epoch = undefined;
      return false;
    }
    this.#expires = Number(r.expires_at);
    this.#epoch = Number(r.epoch);
    return true;
  }

  held(): boolean {
    return this.#expires !== undefined && this.#clock.now() < this.#expires;
  }

  epoch(): number | undefined {
    return this.held() ? this.#epoch : undefined;
  }

  /** Heartbeats now and every `intervalMs` until release(); `onChange` hears when holding starts or stops. */
  start(intervalMs: number = DEFAULT_HEARTBEAT_MS, onChange?: (held: boolean) => void): void {
    let was = false;
    const beat = (): void => {
      void this.heartbeat().then((now) => {
        if (now !== was) onChange?.(now);
        was = now;
      });
    };
    beat();
    this.#timer = setInterval(beat, intervalMs);
    this.#timer.unref();
  }

  async release(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    const had = this.#expires !== undefined;
    this.#expires = undefined;
    this.#epoch = undefined;
    if (!had) return;
    // Expire it now, if it is still ours: the next node's heartbeat takes it over at once.
    await this.#pool
      .query('UPDATE leases SET expires_at = $3 WHERE name = $1 AND holder = $2', [this.name, this.holder, this.#clock.now()])
      .catch(() => undefined);
  }
}
