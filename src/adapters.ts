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
import { chainLink, genesisHash } from './audit/chain';
import { newTrailId, type SharedDigestLog, type SharedTrailSink } from './audit/shared-trail';
import { auditRefusalRecord } from './audit/writer';
import { PostgresAuditLog } from './store/postgres/audit-log-postgres';
import { PostgresAuditSink } from './store/postgres/audit-sink-postgres';
import { claimAuditStream } from './store/postgres/audit-stream-claim';
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
import { patiently } from './store/postgres/start-up-patience';
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
  /**
   * Runs `work` while no other node of the deployment runs work under the same name (first-start
   * provisioning). SQLite: the data directory's lock already makes this process the only one.
   */
  exclusive<T>(name: string, work: () => Promise<T>): Promise<T>;
  /**
   * PostgreSQL: the audit trail lives in the database, shared by every node (issue 14); undefined
   * on SQLite, whose trail is the data directory's (main.ts opens it with openAuditStore).
   */
  readonly sharedAudit?: SharedAudit;
}

/** The audit trail of a deployment whose nodes share one database. */
export interface SharedAudit {
  /** LookupEvents: every node's records, each visible once committed (that is, once acknowledged). */
  readonly reader: AuditReader;
  /** Settings, signing key and digests (the primary's SharedAuditTrail). */
  readonly log: SharedDigestLog;
  /**
   * Claims a stream of its own for this process (audit-stream-claim.ts), heartbeats the claim
   * and opens the sink that appends to it; `close()` commits what is queued and gives the stream up.
   */
  openSink(logger: Logger): Promise<SharedTrailSink>;
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
  return { trust, store, lease: (name) => new LocalLease(name), exclusive: (_name, work) => work() };
}

/** A process's name as a lease holder: unique per process and start, since two holders must never share a name. */
function holderName(): string {
  return `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`;
}

/** Advisory lock keys of `exclusive` work (ASCII of the name in a BIGINT, as migrate.ts's). */
export const EXCLUSIVE_LOCK_KEYS: Readonly<Record<string, string>> = Object.freeze({
  provisioning: BigInt('0x' + Buffer.from('kh-prov').toString('hex')).toString(),
});
/** How long a node waits for another's exclusive work (provisioning takes milliseconds). */
const EXCLUSIVE_WAIT_MS = 60_000;

/**
 * Runs `work` under a session advisory lock on a connection of its own: nodes starting at once
 * queue; the lock goes with the session if this process dies. The lock's connection waits idle
 * (outside any transaction) while `work` runs on the pool's other connections.
 */
async function underAdvisoryLock<T>(pool: PostgresPool, name: string, work: () => Promise<T>): Promise<T> {
  const key = EXCLUSIVE_LOCK_KEYS[name];
  if (key === undefined) throw new Error(`no advisory lock is defined for ${name}`);
  return pool.withClient(async (client) => {
    await client.query(`SET statement_timeout = ${EXCLUSIVE_WAIT_MS}`);
    await client.query({ text: 'SELECT pg_advisory_lock($1::bigint)', values: [key], query_timeout: EXCLUSIVE_WAIT_MS } as never);
    await client.query('RESET statement_timeout');
    try {
      return await work();
    } finally {
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [key]);
    }
  }, EXCLUSIVE_WAIT_MS * 2 + 5_000);
}

/** The shared trail's adapters over a node process's pool. */
function postgresAudit(pool: PostgresPool): SharedAudit {
  const log = new PostgresAuditLog(pool);
  return {
    reader: PostgresAuditReader.live(pool),
    log,
    openSink: async (logger) => {
      const trailId = await patiently('audit trail', logger, () => log.initialize(newTrailId));
      const claim = await patiently('audit stream claim', logger, () => claimAuditStream({ pool, log, holder: holderName(), clock: systemClock, trailId, genesis: genesisHash, link: chainLink }));
      let sink: PostgresAuditSink;
      try {
        sink = await PostgresAuditSink.open({ log, stream: claim.stream, link: chainLink, genesis: genesisHash, refusalRecord: auditRefusalRecord, newTrailId, logger });
      } catch (e) {
        await claim.release();
        throw e;
      }
      claim.start(undefined, () =>
        logger.error(
          { stream: claim.stream },
          'audit: this process\'s claim on its audit stream lapsed (the database was unreachable past its expiry); its records still chain, but another process may now recover its pending requests as outcome unknown',
        ),
      );
      logger.info({ stream: claim.stream }, 'audit: appending to a stream of the shared trail');
      return {
        stream: claim.stream,
        get healthy() {
          return sink.healthy;
        },
        append: (r) => sink.append(r),
        intend: (i) => sink.intend(i),
        expect: () => sink.expect(),
        settle: () => sink.settle(),
        refused: (at, region) => sink.refused(at, region),
        stats: () => sink.stats(),
        drain: () => sink.drain(),
        close: async () => {
          await sink.close();
          await claim.release();
        },
      };
    },
  };
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
    await patiently('migrations', logger, () => store.migrate());
    const trust = await patiently('domain key', logger, () => openSharedRootOfTrust({ passphrase: config.masterPassphrase, keyFile: config.masterKeyFile }, new PostgresSealedDomainKey(store.pool)));
    const lease = (name: string): Lease => {
      const l = new PostgresLease({ pool: store.pool, name, holder: holderName(), clock: systemClock });
      l.start();
      return l;
    };
    return { trust, store, lease, exclusive: (name, work) => patiently(name, logger, () => underAdvisoryLock(store.pool, name, work)), sharedAudit: postgresAudit(store.pool) };
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
