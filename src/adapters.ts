/**
 * The adapter factory (docs/architecture.md §2, §5; issue 13): the one place that chooses
 * concrete adapters behind the ports — the Store (SQLite in the data directory, or PostgreSQL
 * with --store postgres://…, issue 14) and the root of trust. `main.ts` and every CLI module open
 * their adapters here; nothing else imports an adapter folder (test/architecture/layers.test.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { systemClock } from './clock';
import type { Config } from './config';
import { LocalLease, type Lease } from './store/lease';
import { PostgresLease } from './store/postgres/lease';
import { PostgresSealedDomainKey } from './store/postgres/domain-key';
import { PostgresIdentityStore } from './store/postgres/postgres-identity-store';
import { PostgresStore } from './store/postgres/postgres-store';
import { SqliteStore } from './store/sqlite/sqlite-store';
import type { Store } from './store/store';
import { openLocalRootOfTrust, openSharedRootOfTrust, type LocalTrustOptions } from './trust/local';

export { MASTER_KEY_FILE } from './trust/local';
import type { RootOfTrust } from './trust/root-of-trust';

/** The SQLite file in the data directory. */
export const SQLITE_FILE = 'keyhold.db';
/** PostgreSQL: the commit marks the worker processes of one node share (src/store/postgres/node-marks.ts). */
export const CHANGE_MARKS_FILE = 'change-marks';
/** The marks slot of a node's primary process (workers use their worker slot, 0 in a single-process node). */
export const PRIMARY_MARKS_SLOT = 127;

/** The adapters a process runs on. */
export interface Adapters {
  readonly store: Store;
  readonly trust: RootOfTrust;
  /**
   * A lease for work that must run on one node at a time (lifecycle jobs; src/store/lease.ts),
   * heartbeating from now until `release()`. SQLite: one primary per data directory, always held.
   */
  lease(name: string): Lease;
}

/** How the opening process takes part in its node. */
export interface AdapterRole {
  /**
   * `serve` only: the process's slot in the node's marks file, so its sibling processes honour
   * its writes at once (PostgreSQL). CLI commands give none.
   */
  readonly marksSlot?: number;
}

/**
 * Opens the configured root of trust and store. SQLite: not yet migrated (call `store.migrate()`).
 * PostgreSQL: migrated already, because the sealed domain key lives in the database (DESIGN §6,
 * issue 14) and the root of trust is opened from it here.
 */
export async function openAdapters(config: Config, logger: Logger, role: AdapterRole = {}): Promise<Adapters> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  if (config.store.kind === 'postgres') return openPostgres(config, config.store, logger, role);
  const trust = openRootOfTrust({
    dataDir: config.dataDir,
    passphrase: config.masterPassphrase,
    keyFile: config.masterKeyFile,
    onGenerated: (path) =>
      logger.warn({ keyFile: path }, 'no KEYHOLD_MASTER_PASSPHRASE or key file was given: generated a master key file; back it up, without it the data cannot be decrypted'),
  });
  const store = new SqliteStore({ path: join(config.dataDir, SQLITE_FILE) });
  return { trust, store, lease: (name) => new LocalLease(name) };
}

async function openPostgres(
  config: Config, target: Extract<Config['store'], { kind: 'postgres' }>, logger: Logger, role: AdapterRole,
): Promise<Adapters> {
  let lastLogged = 0;
  const store = new PostgresStore({
    url: target.url,
    passwordFile: target.passwordFile,
    identity: (pool) => new PostgresIdentityStore(pool),
    marks: role.marksSlot === undefined ? undefined : { path: join(config.dataDir, CHANGE_MARKS_FILE), slot: role.marksSlot },
    onConnectionError: (err) => {
      // An outage raises one error per connection and retry: say so once per 10 s.
      if (Date.now() - lastLogged < 10_000) return;
      lastLogged = Date.now();
      logger.warn({ err: err.message }, 'PostgreSQL connection lost; requests that need the database answer 503 until it returns');
    },
  });
  try {
    await store.migrate();
    const trust = await openSharedRootOfTrust({ passphrase: config.masterPassphrase, keyFile: config.masterKeyFile }, new PostgresSealedDomainKey(store.pool));
    const lease = (name: string): Lease => {
      // Unique per process and start: two holders must never share a name.
      const l = new PostgresLease({ pool: store.pool, name, holder: `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`, clock: systemClock });
      l.start();
      return l;
    };
    return { trust, store, lease };
  } catch (e) {
    await store.close();
    throw e;
  }
}

/** Opens a root of trust alone (the audit CLI signs digest files with the trail's key). */
export function openRootOfTrust(options: LocalTrustOptions): RootOfTrust {
  return openLocalRootOfTrust(options);
}
