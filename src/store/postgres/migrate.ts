/**
 * Applies the numbered migrations once, whichever node starts first (issue 14). Every node runs
 * this at start; one transaction takes a transaction-scoped advisory lock, so concurrent starters
 * queue behind it, then applies the migrations `schema_migrations` does not list yet, each with
 * its row, and commits. DDL is transactional in PostgreSQL, and the lock goes with the
 * transaction: a node that dies midway leaves no half-applied schema and no held lock.
 *
 * `afterMigrations` runs in the same transaction, under the same lock: first-start work that
 * must happen exactly once (creating the sealed domain key) goes there.
 */
import type { PostgresPool, Tx } from './connection';
import { POSTGRES_MIGRATIONS } from './migrations';

/** The advisory lock key of Keyhold's migrations (ASCII "keyhold" in a BIGINT). */
export const MIGRATION_LOCK_KEY = '30229394625621092';

/** How long a start may wait for another node's migrations and run its own. */
const MIGRATION_TIMEOUT_MS = 120_000;

/** What a migration run did. */
export interface MigrationResult {
  /** Migrations this call applied (none when another node had). */
  readonly applied: readonly number[];
  /** The schema version afterwards. */
  readonly version: number;
}

/**
 * Brings the database's schema up to date. Refuses a database whose schema is newer than this
 * Keyhold (a node of an older version must not write to it).
 */
export async function migrate(
  pool: PostgresPool,
  migrations: readonly (readonly [number, string])[] = POSTGRES_MIGRATIONS,
  afterMigrations?: (tx: Tx) => Promise<void>,
): Promise<MigrationResult> {
  return pool.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      applied_at BIGINT NOT NULL
    )`);
    const done = new Set((await tx.query<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => r.version));
    const known = Math.max(0, ...migrations.map(([n]) => n));
    const newest = Math.max(0, ...done);
    if (newest > known) {
      throw new Error(`the database schema is at version ${newest}, newer than this Keyhold knows (${known}): upgrade Keyhold`);
    }
    const applied: number[] = [];
    for (const [n, sql] of [...migrations].sort((a, b) => a[0] - b[0])) {
      if (done.has(n)) continue;
      await tx.query(sql);
      await tx.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [n, Date.now()]);
      applied.push(n);
    }
    if (afterMigrations !== undefined) await afterMigrations(tx);
    return { applied, version: Math.max(newest, ...applied) };
  }, { timeoutMs: MIGRATION_TIMEOUT_MS });
}
