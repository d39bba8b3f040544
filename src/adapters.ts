/**
 * The adapter factory (docs/architecture.md §2, §5; issue 13): the one place that chooses
 * concrete adapters behind the ports — the Store (SQLite in the data directory, or PostgreSQL
 * with --store postgres://…, issue 14) and the root of trust. `main.ts` and every CLI module open
 * their adapters here; nothing else imports an adapter folder (test/architecture/layers.test.ts).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
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
import type { AuditStore } from './store/audit-log';
import { auditReaderOf, type AuditReader } from './store/audit-reader';
import { PostgresAuditReader } from './store/postgres/audit-log-postgres';
import { PostgresPool } from './store/postgres/connection';
import { SqliteAuditStore, type SqliteAuditStoreOptions } from './store/sqlite/audit-log-sqlite';
import type { Store } from './store/store';
import { MASTER_KEY_FILE, openLocalRootOfTrust, openSharedRootOfTrust, type LocalTrustOptions } from './trust/local';

export { MASTER_KEY_FILE } from './trust/local';
export { openSharedRootOfTrust } from './trust/local';
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

/** How the audit trail's store is opened (SQLite: query-only, busy timeout, the journal a writer thread owns). */
export type AuditStoreOptions = Omit<SqliteAuditStoreOptions, 'dir'>;

/**
 * Opens the audit trail's store in `dir` (`<data dir>/audit`): main.ts (LookupEvents and the
 * trail), the audit CLI (verify, export) and each audit writer thread open it here, so no other
 * module names an adapter (issue 13; test/architecture/layers.test.ts).
 */
export function openAuditStore(dir: string, options: AuditStoreOptions = {}): AuditStore {
  return new SqliteAuditStore({ ...options, dir });
}

/**
 * Opens the SQLite audit store for the writer thread of one stream (src/cli/audit-writer-thread.ts),
 * which drives its journal — write-behind, catch-up, apply — beyond the `AuditStore` port.
 */
export function openAuditJournalStore(dir: string, options: AuditStoreOptions): SqliteAuditStore {
  return new SqliteAuditStore({ ...options, dir });
}

/** Whether `dir` holds an audit trail (the audit CLI refuses to create one). */
export function auditStoreExists(dir: string): boolean {
  return SqliteAuditStore.exists(dir);
}

/** An audit trail opened for reading (`keyhold audit verify|export`), with what the commands need beside it. */
export interface AuditTrailForReading {
  readonly reader: AuditReader;
  /** The data directory (holds the public key copy and, on SQLite, master.key); optional with PostgreSQL. */
  readonly dir: string | undefined;
  /** The root of trust that unwraps the trail's signing key (export). */
  openTrust(passphrase: string | undefined, keyFile: string | undefined): Promise<RootOfTrust>;
  close(): Promise<void>;
}

/** Where the trail to read is: a data directory's SQLite trail, or a PostgreSQL deployment's. */
export type AuditTrailLocation =
  | { readonly kind: 'sqlite'; readonly dataDir: string }
  | { readonly kind: 'postgres'; readonly url: string; readonly passwordFile: string | undefined; readonly dataDir: string | undefined };

/** Bounds of the CLI's connection: patient, since a walk of a large trail is not a request. */
const AUDIT_CLI_POOL = { max: 2, connectTimeoutMs: 5000, queryTimeoutMs: 60_000, deadlineMs: 120_000 } as const;

/** Opens a trail read-only (SQLite: the data directory's `audit`; PostgreSQL: one read-only snapshot). */
export async function openAuditTrailForReading(where: AuditTrailLocation): Promise<AuditTrailForReading> {
  if (where.kind === 'sqlite') {
    const dir = where.dataDir;
    const path = join(dir, 'audit');
    if (!SqliteAuditStore.exists(path)) throw new Error(`no audit trail in ${path}`);
    const log = new SqliteAuditStore({ dir: path, readonly: true });
    return {
      reader: auditReaderOf(log, true),
      dir,
      openTrust: async (passphrase, keyFile) => {
        if ((passphrase === undefined || passphrase === '') && keyFile === undefined && !existsSync(join(dir, MASTER_KEY_FILE))) {
          throw new Error('export signs digest files with the trail\'s key: set KEYHOLD_MASTER_PASSPHRASE or --master-key-file');
        }
        return openRootOfTrust({ dataDir: dir, passphrase, keyFile });
      },
      close: async () => log.close(),
    };
  }
  const pool = new PostgresPool({ url: where.url, passwordFile: where.passwordFile, applicationName: 'keyhold-audit', ...AUDIT_CLI_POOL });
  try {
    const [t] = await pool.query<{ t: string | null }>("SELECT to_regclass('audit_settings')::text AS t");
    if (t === undefined || t.t === null) throw new Error('no audit trail in the database (no Keyhold node has started on it)');
    const reader = await PostgresAuditReader.snapshot(pool);
    return {
      reader,
      dir: where.dataDir,
      openTrust: async (passphrase, keyFile) => {
        // The domain key is sealed in the database (DESIGN §6); never create one from here.
        const storage = new PostgresSealedDomainKey(pool);
        if ((await storage.read()) === undefined) throw new Error('the database holds no sealed domain key: no Keyhold node has started on it');
        return openSharedRootOfTrust({ passphrase, keyFile }, storage);
      },
      close: async () => {
        await reader.close();
        await pool.close();
      },
    };
  } catch (e) {
    await pool.close();
    throw e;
  }
}
