/**
 * The adapter factory (docs/architecture.md §2, §5; issue 13): the one place that chooses
 * concrete adapters behind the ports — the Store (SQLite in the data directory; issue 14 adds
 * PostgreSQL as another branch here) and the root of trust. `main.ts` and every CLI module open
 * their adapters here; nothing else imports an adapter folder (test/architecture/layers.test.ts).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config';
import { SqliteStore } from './store/sqlite/sqlite-store';
import type { AuditStore } from './store/audit-log';
import { SqliteAuditStore, type SqliteAuditStoreOptions } from './store/sqlite/audit-log-sqlite';
import type { Store } from './store/store';
import { openLocalRootOfTrust, type LocalTrustOptions } from './trust/local';

export { MASTER_KEY_FILE } from './trust/local';
import type { RootOfTrust } from './trust/root-of-trust';

/** The SQLite file in the data directory. */
export const SQLITE_FILE = 'keyhold.db';

/** The adapters a process runs on. */
export interface Adapters {
  readonly store: Store;
  readonly trust: RootOfTrust;
}

/** Opens the configured root of trust and store (not yet migrated: call `store.migrate()`). */
export function openAdapters(config: Config, logger: Logger): Adapters {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const trust = openRootOfTrust({
    dataDir: config.dataDir,
    passphrase: config.masterPassphrase,
    keyFile: config.masterKeyFile,
    onGenerated: (path) =>
      logger.warn({ keyFile: path }, 'no KEYHOLD_MASTER_PASSPHRASE or key file was given: generated a master key file; back it up, without it the data cannot be decrypted'),
  });
  const store = new SqliteStore({ path: join(config.dataDir, SQLITE_FILE) });
  return { trust, store };
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
