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
import type { Store } from './store/store';
import { openLocalRootOfTrust, type LocalTrustOptions } from './trust/local';

export { MASTER_KEY_FILE } from './trust/local';
export { openSharedRootOfTrust } from './trust/local';
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
