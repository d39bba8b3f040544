/**
 * SQLite implementation of the Store (better-sqlite3 12, WAL). Several worker processes open the
 * same file. Each process holds two connections: a read connection for the Store's reads (never
 * waits, sees only committed data) and a write connection used only through the transaction
 * runner (transaction-runner.ts: an in-process async lock plus BEGIN IMMEDIATE across
 * processes, busy retries in that one place; issue 13). The IdentityStore shares the write
 * connection, each of its calls alone under the same lock. Triggers record every change for the
 * change feed (change-feed.ts), which the runner asks right after each commit. `synchronous=FULL` makes every
 * acknowledged key change survive power loss, not only a process crash (docs/architecture.md
 * §1.1), and `secure_delete` overwrites the pages of deleted key material.
 */
import Database from 'better-sqlite3';
import type {
  AccessKeyRecord,
  AliasRecord,
  GrantFilter,
  GrantRecord,
  ImportTokenRecord,
  KeyPatch,
  KeyRecord,
  KeyState,
  KeyVersionRecord,
  KeyWrite,
  PageRequest,
  Store,
  TagRecord,
} from '../store';
import { grantAfter } from '../store';
import type { IdentityStore } from '../identity-store';
import type { StoreTx } from '../transaction';
import { accessKeyFromRow, immediate, statementCache, type Connection, type Row, type Statement } from './connection';
import { SQLITE_MIGRATIONS } from './migrations';
import { SqliteChangeFeed } from './change-feed';
import { SqliteIdentityStore } from './sqlite-identity-store';
import { aliasFromRow, grantFromRow, keyFromRow, tokenFromRow, versionFromRow } from './sqlite-rows';
import { SqliteTransactionRunner, WRITE_BUSY_TIMEOUT_MS } from './transaction-runner';
import { SqliteWriter, storeTx } from './sqlite-tx';

/** Options for opening the SQLite store. */
export interface SqliteStoreOptions {
  /** Path of the database file. */
  readonly path: string;
  readonly busyTimeoutMs?: number;
}

function open(path: string, busyTimeoutMs: number): Connection {
  const db = new Database(path) as unknown as Connection;
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('secure_delete = ON');
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  return db;
}

/**
 * Every async method of `target` run alone under the runner's lock (the IdentityStore on the
 * write connection: its statements must never land inside another request's open transaction).
 */
function serialised<T extends object>(target: T, runner: SqliteTransactionRunner): T {
  return new Proxy(target, {
    get(t, p) {
      const v = Reflect.get(t, p, t) as unknown;
      if (typeof v !== 'function') return v;
      const f = v as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => runner.exclusive(() => f.apply(t, args));
    },
  });
}

/** The embedded default store. */
export class SqliteStore implements Store {
  readonly #db: Connection;
  readonly #wdb: Connection;
  readonly #stmt: (sql: string) => Statement;
  readonly #writer: SqliteWriter;
  readonly #runner: SqliteTransactionRunner;
  readonly #tx: StoreTx;
  readonly identity: IdentityStore;
  /** What other transactions changed (change-feed.ts): this process's commits and other processes'. */
  readonly changes: SqliteChangeFeed;

  constructor(options: SqliteStoreOptions) {
    const busy = options.busyTimeoutMs ?? 10_000;
    this.#db = open(options.path, busy);
    this.#wdb = open(options.path, WRITE_BUSY_TIMEOUT_MS);
    this.#stmt = statementCache(this.#db);
    this.changes = new SqliteChangeFeed(this.#db);
    this.#writer = new SqliteWriter(this.#wdb);
    this.#runner = new SqliteTransactionRunner(this.#wdb, busy, () => this.changes.afterCommit());
    this.#tx = storeTx(this.#writer);
    this.identity = serialised(new SqliteIdentityStore(this.#wdb), this.#runner);
  }

  async migrate(): Promise<void> {
    await this.#runner.exclusive(() => {
      this.#wdb.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
      // IMMEDIATE takes the write lock first: concurrent starters serialise here.
      immediate(this.#wdb, () => {
        const done = new Set(this.#wdb.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
        for (const [version, sql] of SQLITE_MIGRATIONS) {
          if (done.has(version)) continue;
          this.#wdb.exec(sql);
          this.#wdb.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(version, Date.now());
        }
      });
    });
    this.changes.start();
  }

  async close(): Promise<void> {
    await this.#runner.exclusive(() => undefined);
    this.#db.close();
    this.#wdb.close();
  }

  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.#runner.run(() => fn(this.#tx));
  }

  /** Runs a synchronous write body in one transaction of the runner. */
  #write<T>(body: (w: SqliteWriter) => T): Promise<T> {
    return this.#runner.run(() => body(this.#writer));
  }

  async listAccounts(): Promise<string[]> {
    return this.#stmt('SELECT account_id FROM accounts ORDER BY account_id').pluck().all() as string[];
  }

  async ensureAccount(accountId: string, createdAt: number): Promise<void> {
    await this.#write((w) => w.stmt('INSERT OR IGNORE INTO accounts (account_id, created_at) VALUES (?, ?)').run(accountId, createdAt));
  }

  async putAccessKey(k: AccessKeyRecord): Promise<void> {
    await this.#write((w) =>
      w
        .stmt(
          `INSERT INTO access_keys (access_key_id, account_id, principal_arn, principal_id, principal_type, user_name, wrapped_secret, status, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (access_key_id) DO UPDATE SET account_id = excluded.account_id, principal_arn = excluded.principal_arn,
         principal_id = excluded.principal_id, principal_type = excluded.principal_type, user_name = excluded.user_name,
         wrapped_secret = excluded.wrapped_secret, status = excluded.status`,
        )
        .run(k.accessKeyId, k.accountId, k.principalArn, k.principalId, k.principalType, k.userName, k.wrappedSecret, k.status, k.createdAt),
    );
  }

  async getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined> {
    const r = this.#stmt('SELECT * FROM access_keys WHERE access_key_id = ?').get(accessKeyId) as Row | undefined;
    return r === undefined ? undefined : accessKeyFromRow(r);
  }

  async listAccessKeys(accountId: string): Promise<AccessKeyRecord[]> {
    const rows = this.#stmt('SELECT * FROM access_keys WHERE account_id = ? ORDER BY access_key_id').all(accountId) as Row[];
    return rows.map(accessKeyFromRow);
  }

  async createKey(key: KeyRecord, version: KeyVersionRecord | null, tags: readonly TagRecord[]): Promise<void> {
    await this.#write((w) => w.insertKey(key, version, tags));
  }

  async getKey(arn: string): Promise<KeyRecord | undefined> {
    const r = this.#stmt('SELECT * FROM keys WHERE arn = ?').get(arn) as Row | undefined;
    return r === undefined ? undefined : keyFromRow(r);
  }

  async updateKey(arn: string, patch: KeyPatch, ifStates?: readonly KeyState[]): Promise<boolean> {
    return this.#write((w) => w.updateKey(arn, patch, ifStates));
  }

  async applyKeyWrites(writes: readonly KeyWrite[]): Promise<boolean> {
    const guardFailed = new Error('guard failed');
    try {
      await this.#write((w) => {
        for (const x of writes) {
          switch (x.kind) {
            case 'create-key':
              w.insertKey(x.key, x.version, x.tags);
              break;
            case 'update-key':
              if (!w.updateKey(x.arn, x.patch, x.ifStates, x.ifCurrentVersion)) throw guardFailed;
              break;
            case 'put-version':
              w.insertVersion(x.version);
              break;
            case 'set-material':
              w.setMaterial(x.arn, x.version, x.wrappedMaterial);
              break;
          }
        }
      });
      return true;
    } catch (e) {
      if (e === guardFailed) return false;
      throw e;
    }
  }

  async listKeys(accountId: string, region: string, page: PageRequest): Promise<KeyRecord[]> {
    const rows = this.#stmt(
      'SELECT * FROM keys WHERE account_id = ? AND region = ? AND key_id > ? ORDER BY key_id LIMIT ?',
    ).all(accountId, region, page.after ?? '', page.limit) as Row[];
    return rows.map(keyFromRow);
  }

  async listRelatedKeys(accountId: string, keyId: string): Promise<KeyRecord[]> {
    const rows = this.#stmt('SELECT * FROM keys WHERE account_id = ? AND key_id = ? ORDER BY region').all(accountId, keyId) as Row[];
    return rows.map(keyFromRow);
  }

  async listKeysDueForDeletion(now: number, limit: number): Promise<KeyRecord[]> {
    const rows = this.#stmt(
      "SELECT * FROM keys WHERE state = 'PendingDeletion' AND deletion_date <= ? ORDER BY deletion_date LIMIT ?",
    ).all(now, limit) as Row[];
    return rows.map(keyFromRow);
  }

  async listKeysDueForRotation(now: number, limit: number): Promise<KeyRecord[]> {
    const rows = this.#stmt(
      `SELECT * FROM keys WHERE next_rotation_date <= ? AND rotation_enabled = 1 AND state = 'Enabled'
       ORDER BY next_rotation_date LIMIT ?`,
    ).all(now, limit) as Row[];
    return rows.map(keyFromRow);
  }

  async listKeysWithExpiringMaterial(now: number, limit: number): Promise<KeyRecord[]> {
    const rows = this.#stmt(
      `SELECT * FROM keys WHERE valid_to <= ? AND origin = 'EXTERNAL' AND state <> 'PendingImport'
       ORDER BY valid_to LIMIT ?`,
    ).all(now, limit) as Row[];
    return rows.map(keyFromRow);
  }

  async expireImportedMaterialIfDue(arn: string, now: number): Promise<boolean> {
    return this.#write((w) => {
      const due =
        w
          .stmt(
            `UPDATE keys SET valid_to = NULL,
             state = CASE WHEN state IN ('PendingDeletion', 'PendingReplicaDeletion') THEN state ELSE 'PendingImport' END
           WHERE arn = ? AND origin = 'EXTERNAL' AND valid_to <= ? AND state <> 'PendingImport'`,
          )
          .run(arn, now).changes > 0;
      if (due) w.setMaterial(arn, 'all', null);
      return due;
    });
  }

  async deleteKeyIfDue(arn: string, now: number): Promise<boolean> {
    // Versions, aliases, tags and import tokens go by ON DELETE CASCADE in the same statement.
    return this.#write(
      (w) =>
        w.stmt("DELETE FROM keys WHERE arn = ? AND state IN ('PendingDeletion', 'PendingReplicaDeletion') AND deletion_date <= ?").run(arn, now)
          .changes > 0,
    );
  }

  async getKeyVersion(arn: string, version: number): Promise<KeyVersionRecord | undefined> {
    const r = this.#stmt('SELECT * FROM key_versions WHERE key_arn = ? AND version = ?').get(arn, version) as Row | undefined;
    return r === undefined ? undefined : versionFromRow(r);
  }

  async listKeyVersions(arn: string): Promise<KeyVersionRecord[]> {
    const rows = this.#stmt('SELECT * FROM key_versions WHERE key_arn = ? ORDER BY version').all(arn) as Row[];
    return rows.map(versionFromRow);
  }

  async createAlias(a: AliasRecord): Promise<boolean> {
    return this.#write((w) => w.insertAlias(a));
  }

  async getAlias(accountId: string, region: string, aliasName: string): Promise<AliasRecord | undefined> {
    const r = this.#stmt('SELECT * FROM aliases WHERE account_id = ? AND region = ? AND alias_name = ?').get(
      accountId, region, aliasName,
    ) as Row | undefined;
    return r === undefined ? undefined : aliasFromRow(r);
  }

  async updateAlias(
    accountId: string, region: string, aliasName: string, expectedTargetKeyArn: string, targetKeyId: string, targetKeyArn: string, at: number,
  ): Promise<boolean> {
    return this.#write((w) => w.retargetAlias(accountId, region, aliasName, targetKeyId, targetKeyArn, at, expectedTargetKeyArn));
  }

  async deleteAlias(accountId: string, region: string, aliasName: string): Promise<boolean> {
    return this.#write(
      (w) => w.stmt('DELETE FROM aliases WHERE account_id = ? AND region = ? AND alias_name = ?').run(accountId, region, aliasName).changes > 0,
    );
  }

  async listAliases(accountId: string, region: string, keyArn: string | undefined, page: PageRequest): Promise<AliasRecord[]> {
    const rows = (
      keyArn === undefined
        ? this.#stmt(
            'SELECT * FROM aliases WHERE account_id = ? AND region = ? AND alias_name > ? ORDER BY alias_name LIMIT ?',
          ).all(accountId, region, page.after ?? '', page.limit)
        : this.#stmt(
            `SELECT * FROM aliases WHERE account_id = ? AND region = ? AND target_key_arn = ? AND alias_name > ?
             ORDER BY alias_name LIMIT ?`,
          ).all(accountId, region, keyArn, page.after ?? '', page.limit)
    ) as Row[];
    return rows.map(aliasFromRow);
  }

  async putTags(arn: string, tags: readonly TagRecord[]): Promise<void> {
    await this.#write((w) => w.putTags(arn, tags));
  }

  async removeTags(arn: string, tagKeys: readonly string[]): Promise<void> {
    await this.#write((w) => w.removeTags(arn, tagKeys));
  }

  async listTags(arn: string, page?: PageRequest): Promise<TagRecord[]> {
    const rows = this.#stmt(
      'SELECT tag_key, tag_value FROM tags WHERE key_arn = ? AND tag_key > ? ORDER BY tag_key LIMIT ?',
    ).all(arn, page?.after ?? '', page?.limit ?? -1) as Row[];
    return rows.map((r) => ({ TagKey: r.tag_key as string, TagValue: r.tag_value as string }));
  }

  async putImportToken(t: ImportTokenRecord): Promise<void> {
    await this.#write((w) =>
      w
        .stmt(
          `INSERT INTO import_tokens (token_id, key_arn, wrapping_key_spec, wrapping_algorithm, wrapped_private_key, expires_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
        )
        .run(t.tokenId, t.keyArn, t.wrappingKeySpec, t.wrappingAlgorithm, t.wrappedPrivateKey, t.expiresAt),
    );
  }

  async getImportToken(tokenId: string): Promise<ImportTokenRecord | undefined> {
    const r = this.#stmt('SELECT * FROM import_tokens WHERE token_id = ?').get(tokenId) as Row | undefined;
    return r === undefined ? undefined : tokenFromRow(r);
  }

  async pruneImportTokens(now: number): Promise<number> {
    return this.#write((w) => w.stmt('DELETE FROM import_tokens WHERE expires_at < ?').run(now).changes);
  }

  async getGrant(grantId: string): Promise<GrantRecord | undefined> {
    const r = this.#stmt('SELECT * FROM grants WHERE grant_id = ?').get(grantId) as Row | undefined;
    return r === undefined ? undefined : grantFromRow(r);
  }

  async listGrants(keyArn: string, filter: GrantFilter, page: PageRequest): Promise<GrantRecord[]> {
    const [date, id] = grantAfter(page.after);
    const grantId = filter.grantId ?? null;
    const grantee = filter.granteePrincipal ?? null;
    const rows = this.#stmt(
      `SELECT * FROM grants WHERE key_arn = ? AND (? IS NULL OR grant_id = ?) AND (? IS NULL OR grantee_principal = ?)
         AND (creation_date > ? OR (creation_date = ? AND grant_id > ?))
       ORDER BY creation_date, grant_id LIMIT ?`,
    ).all(keyArn, grantId, grantId, grantee, grantee, date, date, id, page.limit) as Row[];
    return rows.map(grantFromRow);
  }

  async listGrantsForGrantee(keyArn: string, granteePrincipals: readonly string[]): Promise<GrantRecord[]> {
    if (granteePrincipals.length === 0) return [];
    const rows = this.#stmt(
      `SELECT * FROM grants WHERE key_arn = ? AND grantee_principal IN (${granteePrincipals.map(() => '?').join(', ')})
       ORDER BY creation_date, grant_id`,
    ).all(keyArn, ...granteePrincipals) as Row[];
    return rows.map(grantFromRow);
  }

  async listRetirableGrants(region: string, retiringPrincipal: string, page: PageRequest): Promise<GrantRecord[]> {
    const [date, id] = grantAfter(page.after);
    const rows = this.#stmt(
      `SELECT * FROM grants WHERE region = ? AND retiring_principal = ?
         AND (creation_date > ? OR (creation_date = ? AND grant_id > ?))
       ORDER BY creation_date, grant_id LIMIT ?`,
    ).all(region, retiringPrincipal, date, date, id, page.limit) as Row[];
    return rows.map(grantFromRow);
  }

  async deleteGrant(keyArn: string, grantId: string): Promise<boolean> {
    return this.#write((w) => w.stmt('DELETE FROM grants WHERE key_arn = ? AND grant_id = ?').run(keyArn, grantId).changes > 0);
  }

  async ensureGrantTokenKey(wrapped: Buffer): Promise<Buffer> {
    return this.#write((w): Buffer => {
      w.stmt('INSERT OR IGNORE INTO grant_token_key (id, wrapped_key) VALUES (1, ?)').run(wrapped);
      return w.stmt('SELECT wrapped_key FROM grant_token_key WHERE id = 1').pluck().get() as Buffer;
    });
  }
}
