/**
 * SQLite implementation of the Store (better-sqlite3 12, WAL). Several worker processes open the
 * same file; writes are short transactions with a busy timeout. `synchronous=FULL` makes every
 * acknowledged key change survive power loss, not only a process crash (DESIGN §1.1), and
 * `secure_delete` overwrites the pages of deleted key material.
 */
import Database from 'better-sqlite3';
import type { AccessKeyRecord, AliasRecord, KeyPatch, KeyRecord, KeyState, KeyVersionRecord, PageRequest, Store, TagRecord } from '../store';
import { SQLITE_MIGRATIONS } from './migrations';

/** The narrow slice of better-sqlite3 this adapter uses (STYLE habit 6). */
interface Statement {
  run(...params: unknown[]): { changes: number };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  pluck(toggle?: boolean): Statement;
}
interface Connection {
  prepare(sql: string): Statement;
  exec(sql: string): void;
  pragma(sql: string, options?: { simple?: boolean }): unknown;
  transaction<T extends (...args: never[]) => unknown>(fn: T): T & { immediate: T };
  close(): void;
}

type Row = Record<string, unknown>;

const KEY_COLUMNS: Readonly<Record<keyof KeyPatch, string>> = Object.freeze({
  state: 'state',
  description: 'description',
  policy: 'policy',
  deletionDate: 'deletion_date',
  pendingWindowInDays: 'pending_window_days',
  currentVersion: 'current_version',
});

function keyFromRow(r: Row): KeyRecord {
  return {
    keyId: r.key_id as string,
    arn: r.arn as string,
    accountId: r.account_id as string,
    region: r.region as string,
    keySpec: r.key_spec as string,
    keyUsage: r.key_usage as string,
    origin: r.origin as string,
    keyManager: r.key_manager as 'AWS' | 'CUSTOMER',
    state: r.state as KeyState,
    description: r.description as string,
    policy: r.policy as string,
    multiRegion: r.multi_region === 1,
    creationDate: r.creation_date as number,
    deletionDate: (r.deletion_date as number | null) ?? null,
    pendingWindowInDays: (r.pending_window_days as number | null) ?? null,
    currentVersion: r.current_version as number,
  };
}

function versionFromRow(r: Row): KeyVersionRecord {
  return {
    keyId: r.key_id as string,
    version: r.version as number,
    materialId: r.material_id as string,
    wrappedMaterial: r.wrapped_material as Buffer,
    createdAt: r.created_at as number,
  };
}

function aliasFromRow(r: Row): AliasRecord {
  return {
    accountId: r.account_id as string,
    region: r.region as string,
    aliasName: r.alias_name as string,
    targetKeyId: r.target_key_id as string,
    creationDate: r.creation_date as number,
    lastUpdatedDate: r.last_updated_date as number,
  };
}

function accessKeyFromRow(r: Row): AccessKeyRecord {
  return {
    accessKeyId: r.access_key_id as string,
    accountId: r.account_id as string,
    principalArn: r.principal_arn as string,
    principalId: r.principal_id as string,
    principalType: r.principal_type as AccessKeyRecord['principalType'],
    userName: (r.user_name as string | null) ?? null,
    wrappedSecret: r.wrapped_secret as Buffer,
    status: r.status as AccessKeyRecord['status'],
    createdAt: r.created_at as number,
  };
}

/** Options for opening the SQLite store. */
export interface SqliteStoreOptions {
  /** Path of the database file. */
  readonly path: string;
  readonly busyTimeoutMs?: number;
}

/** The embedded default store. */
export class SqliteStore implements Store {
  readonly #db: Connection;
  readonly #dataVersion: Statement;
  readonly #stmts = new Map<string, Statement>();

  constructor(options: SqliteStoreOptions) {
    this.#db = new Database(options.path) as unknown as Connection;
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = FULL');
    this.#db.pragma('foreign_keys = ON');
    this.#db.pragma('secure_delete = ON');
    this.#db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 10_000}`);
    this.#dataVersion = this.#db.prepare('PRAGMA data_version').pluck();
  }

  #stmt(sql: string): Statement {
    let s = this.#stmts.get(sql);
    if (s === undefined) {
      s = this.#db.prepare(sql);
      this.#stmts.set(sql, s);
    }
    return s;
  }

  async migrate(): Promise<void> {
    this.#db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    const apply = this.#db.transaction(() => {
      const done = new Set(this.#db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
      for (const [version, sql] of SQLITE_MIGRATIONS) {
        if (done.has(version)) continue;
        this.#db.exec(sql);
        this.#db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(version, Date.now());
      }
    });
    // IMMEDIATE takes the write lock first: concurrent starters serialise here.
    apply.immediate();
  }

  async close(): Promise<void> {
    this.#db.close();
  }

  changeToken(): number {
    return this.#dataVersion.get() as number;
  }

  async ensureAccount(accountId: string, createdAt: number): Promise<void> {
    this.#stmt('INSERT OR IGNORE INTO accounts (account_id, created_at) VALUES (?, ?)').run(accountId, createdAt);
  }

  async putAccessKey(k: AccessKeyRecord): Promise<void> {
    this.#stmt(
      `INSERT INTO access_keys (access_key_id, account_id, principal_arn, principal_id, principal_type, user_name, wrapped_secret, status, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (access_key_id) DO UPDATE SET account_id = excluded.account_id, principal_arn = excluded.principal_arn,
         principal_id = excluded.principal_id, principal_type = excluded.principal_type, user_name = excluded.user_name,
         wrapped_secret = excluded.wrapped_secret, status = excluded.status`,
    ).run(k.accessKeyId, k.accountId, k.principalArn, k.principalId, k.principalType, k.userName, k.wrappedSecret, k.status, k.createdAt);
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
    const insertKey = this.#stmt(
      `INSERT INTO keys (key_id, arn, account_id, region, key_spec, key_usage, origin, key_manager, state, description, policy,
         multi_region, creation_date, deletion_date, pending_window_days, current_version)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertVersion = this.#stmt(
      'INSERT INTO key_versions (key_id, version, material_id, wrapped_material, created_at) VALUES (?, ?, ?, ?, ?)',
    );
    const insertTag = this.#stmt('INSERT OR REPLACE INTO tags (key_id, tag_key, tag_value) VALUES (?, ?, ?)');
    this.#db.transaction(() => {
      insertKey.run(
        key.keyId, key.arn, key.accountId, key.region, key.keySpec, key.keyUsage, key.origin, key.keyManager, key.state,
        key.description, key.policy, key.multiRegion ? 1 : 0, key.creationDate, key.deletionDate, key.pendingWindowInDays,
        key.currentVersion,
      );
      if (version !== null) {
        insertVersion.run(version.keyId, version.version, version.materialId, version.wrappedMaterial, version.createdAt);
      }
      for (const t of tags) insertTag.run(key.keyId, t.TagKey, t.TagValue);
    }).immediate();
  }

  async getKey(keyId: string): Promise<KeyRecord | undefined> {
    const r = this.#stmt('SELECT * FROM keys WHERE key_id = ?').get(keyId) as Row | undefined;
    return r === undefined ? undefined : keyFromRow(r);
  }

  async updateKey(keyId: string, patch: KeyPatch, ifStates?: readonly KeyState[]): Promise<boolean> {
    const sets: string[] = [];
    const params: unknown[] = [];
    for (const [field, column] of Object.entries(KEY_COLUMNS) as [keyof KeyPatch, string][]) {
      if (field in patch) {
        sets.push(`${column} = ?`);
        params.push(patch[field] ?? null);
      }
    }
    if (sets.length === 0) return true;
    let sql = `UPDATE keys SET ${sets.join(', ')} WHERE key_id = ?`;
    params.push(keyId);
    if (ifStates !== undefined && ifStates.length > 0) {
      sql += ` AND state IN (${ifStates.map(() => '?').join(', ')})`;
      params.push(...ifStates);
    }
    return this.#stmt(sql).run(...params).changes > 0;
  }

  async listKeys(accountId: string, region: string, page: PageRequest): Promise<KeyRecord[]> {
    const rows = this.#stmt(
      'SELECT * FROM keys WHERE account_id = ? AND region = ? AND key_id > ? ORDER BY key_id LIMIT ?',
    ).all(accountId, region, page.after ?? '', page.limit) as Row[];
    return rows.map(keyFromRow);
  }

  async listKeysDueForDeletion(now: number, limit: number): Promise<KeyRecord[]> {
    const rows = this.#stmt(
      "SELECT * FROM keys WHERE state = 'PendingDeletion' AND deletion_date <= ? ORDER BY deletion_date LIMIT ?",
    ).all(now, limit) as Row[];
    return rows.map(keyFromRow);
  }

  async deleteKeyIfDue(keyId: string, now: number): Promise<boolean> {
    // Versions, aliases and tags go by ON DELETE CASCADE in the same statement's transaction.
    return (
      this.#stmt("DELETE FROM keys WHERE key_id = ? AND state = 'PendingDeletion' AND deletion_date <= ?").run(keyId, now)
        .changes > 0
    );
  }

  async getKeyVersion(keyId: string, version: number): Promise<KeyVersionRecord | undefined> {
    const r = this.#stmt('SELECT * FROM key_versions WHERE key_id = ? AND version = ?').get(keyId, version) as Row | undefined;
    return r === undefined ? undefined : versionFromRow(r);
  }

  async listKeyVersions(keyId: string): Promise<KeyVersionRecord[]> {
    const rows = this.#stmt('SELECT * FROM key_versions WHERE key_id = ? ORDER BY version').all(keyId) as Row[];
    return rows.map(versionFromRow);
  }

  async createAlias(a: AliasRecord): Promise<boolean> {
    return (
      this.#stmt(
        `INSERT INTO aliases (account_id, region, alias_name, target_key_id, creation_date, last_updated_date)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ).run(a.accountId, a.region, a.aliasName, a.targetKeyId, a.creationDate, a.lastUpdatedDate).changes > 0
    );
  }

  async getAlias(accountId: string, region: string, aliasName: string): Promise<AliasRecord | undefined> {
    const r = this.#stmt('SELECT * FROM aliases WHERE account_id = ? AND region = ? AND alias_name = ?').get(
      accountId, region, aliasName,
    ) as Row | undefined;
    return r === undefined ? undefined : aliasFromRow(r);
  }

  async updateAlias(accountId: string, region: string, aliasName: string, targetKeyId: string, at: number): Promise<boolean> {
    return (
      this.#stmt(
        'UPDATE aliases SET target_key_id = ?, last_updated_date = ? WHERE account_id = ? AND region = ? AND alias_name = ?',
      ).run(targetKeyId, at, accountId, region, aliasName).changes > 0
    );
  }

  async deleteAlias(accountId: string, region: string, aliasName: string): Promise<boolean> {
    return (
      this.#stmt('DELETE FROM aliases WHERE account_id = ? AND region = ? AND alias_name = ?').run(accountId, region, aliasName)
        .changes > 0
    );
  }

  async listAliases(accountId: string, region: string, keyId: string | undefined, page: PageRequest): Promise<AliasRecord[]> {
    const rows = (
      keyId === undefined
        ? this.#stmt(
            'SELECT * FROM aliases WHERE account_id = ? AND region = ? AND alias_name > ? ORDER BY alias_name LIMIT ?',
          ).all(accountId, region, page.after ?? '', page.limit)
        : this.#stmt(
            `SELECT * FROM aliases WHERE account_id = ? AND region = ? AND target_key_id = ? AND alias_name > ?
             ORDER BY alias_name LIMIT ?`,
          ).all(accountId, region, keyId, page.after ?? '', page.limit)
    ) as Row[];
    return rows.map(aliasFromRow);
  }

  async putTags(keyId: string, tags: readonly TagRecord[]): Promise<void> {
    const insert = this.#stmt('INSERT OR REPLACE INTO tags (key_id, tag_key, tag_value) VALUES (?, ?, ?)');
    this.#db.transaction(() => {
      for (const t of tags) insert.run(keyId, t.TagKey, t.TagValue);
    }).immediate();
  }

  async removeTags(keyId: string, tagKeys: readonly string[]): Promise<void> {
    const del = this.#stmt('DELETE FROM tags WHERE key_id = ? AND tag_key = ?');
    this.#db.transaction(() => {
      for (const k of tagKeys) del.run(keyId, k);
    }).immediate();
  }

  async listTags(keyId: string, page?: PageRequest): Promise<TagRecord[]> {
    const rows = this.#stmt(
      'SELECT tag_key, tag_value FROM tags WHERE key_id = ? AND tag_key > ? ORDER BY tag_key LIMIT ?',
    ).all(keyId, page?.after ?? '', page?.limit ?? -1) as Row[];
    return rows.map((r) => ({ TagKey: r.tag_key as string, TagValue: r.tag_value as string }));
  }
}
