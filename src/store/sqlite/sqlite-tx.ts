/**
 * The write side of the SQLite Store: every statement that changes a KMS table, run on the
 * write connection inside a transaction of the runner (transaction-runner.ts), and the
 * `StoreTx` facade over it. On SQLite, BEGIN IMMEDIATE already holds the database's write lock,
 * so `lock` is a plain read.
 */
import { KEY_COLUMNS, type KeyPatch } from '../store';
import type { AliasRecord, GrantRecord, KeyRecord, KeyVersionRecord, TagRecord } from '../records';
import type { StoreTx } from '../transaction';
import { statementCache, type Connection, type Row, type Statement } from './connection';
import { aliasFromRow, columnValue, GRANT_INSERT, grantFromRow, grantParams, KEY_INSERT, keyFromRow, keyParams, versionFromRow } from './sqlite-rows';

/** Synchronous writes on the write connection; callers hold the runner's transaction. */
export class SqliteWriter {
  readonly #stmt: (sql: string) => Statement;

  constructor(db: Pick<Connection, 'prepare'>) {
    this.#stmt = statementCache(db);
  }

  /** A statement on the write connection (for the Store's own guarded writes). */
  stmt(sql: string): Statement {
    return this.#stmt(sql);
  }

  getKey(arn: string): KeyRecord | undefined {
    const r = this.#stmt('SELECT * FROM keys WHERE arn = ?').get(arn) as Row | undefined;
    return r === undefined ? undefined : keyFromRow(r);
  }

  relatedKeys(accountId: string, keyId: string): KeyRecord[] {
    return (this.#stmt('SELECT * FROM keys WHERE account_id = ? AND key_id = ? ORDER BY region').all(accountId, keyId) as Row[]).map(keyFromRow);
  }

  insertKey(key: KeyRecord, version: KeyVersionRecord | null, tags: readonly TagRecord[]): void {
    this.#stmt(KEY_INSERT).run(...keyParams(key));
    if (version !== null) this.insertVersion(version);
    this.putTags(key.arn, tags);
  }

  insertVersion(v: KeyVersionRecord): void {
    this.#stmt(
      'INSERT INTO key_versions (key_arn, version, material_id, wrapped_material, created_at, origin) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(v.keyArn, v.version, v.materialId, v.wrappedMaterial, v.createdAt, v.origin);
  }

  listVersions(arn: string): KeyVersionRecord[] {
    return (this.#stmt('SELECT * FROM key_versions WHERE key_arn = ? ORDER BY version').all(arn) as Row[]).map(versionFromRow);
  }

  /** Updates a key's row, optionally only in one of `ifStates` / at `ifCurrentVersion`; whether a row changed. */
  updateKey(arn: string, patch: KeyPatch, ifStates?: readonly string[], ifCurrentVersion?: number): boolean {
    const sets: string[] = [];
    const params: unknown[] = [];
    for (const [field, column] of Object.entries(KEY_COLUMNS) as [keyof KeyPatch, string][]) {
      if (field in patch) {
        sets.push(`${column} = ?`);
        params.push(columnValue(patch[field]));
      }
    }
    let sql = sets.length === 0 ? 'UPDATE keys SET arn = arn WHERE arn = ?' : `UPDATE keys SET ${sets.join(', ')} WHERE arn = ?`;
    params.push(arn);
    if (ifStates !== undefined && ifStates.length > 0) {
      sql += ` AND state IN (${ifStates.map(() => '?').join(', ')})`;
      params.push(...ifStates);
    }
    if (ifCurrentVersion !== undefined) {
      sql += ' AND current_version = ?';
      params.push(ifCurrentVersion);
    }
    return this.#stmt(sql).run(...params).changes > 0;
  }

  setMaterial(arn: string, version: number | 'all', wrapped: Buffer | null): void {
    if (version === 'all') this.#stmt('UPDATE key_versions SET wrapped_material = ? WHERE key_arn = ?').run(wrapped, arn);
    else this.#stmt('UPDATE key_versions SET wrapped_material = ? WHERE key_arn = ? AND version = ?').run(wrapped, arn, version);
  }

  getAlias(accountId: string, region: string, aliasName: string): AliasRecord | undefined {
    const r = this.#stmt('SELECT * FROM aliases WHERE account_id = ? AND region = ? AND alias_name = ?').get(accountId, region, aliasName) as
      | Row
      | undefined;
    return r === undefined ? undefined : aliasFromRow(r);
  }

  countAliases(keyArn: string): number {
    return this.#stmt('SELECT COUNT(*) FROM aliases WHERE target_key_arn = ?').pluck().get(keyArn) as number;
  }

  /** Inserts an alias unless its name is taken; whether it was inserted. */
  insertAlias(a: AliasRecord): boolean {
    return (
      this.#stmt(
        `INSERT INTO aliases (account_id, region, alias_name, target_key_id, target_key_arn, creation_date, last_updated_date)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ).run(a.accountId, a.region, a.aliasName, a.targetKeyId, a.targetKeyArn, a.creationDate, a.lastUpdatedDate).changes > 0
    );
  }

  /** Re-points an alias, only from `expectedTargetKeyArn` when given; whether it moved. */
  retargetAlias(
    accountId: string, region: string, aliasName: string, targetKeyId: string, targetKeyArn: string, at: number, expectedTargetKeyArn?: string,
  ): boolean {
    return (
      this.#stmt(
        `UPDATE aliases SET target_key_id = ?, target_key_arn = ?, last_updated_date = ?
         WHERE account_id = ? AND region = ? AND alias_name = ? AND (? IS NULL OR target_key_arn = ?)`,
      ).run(targetKeyId, targetKeyArn, at, accountId, region, aliasName, expectedTargetKeyArn ?? null, expectedTargetKeyArn ?? null).changes > 0
    );
  }

  listTags(arn: string): TagRecord[] {
    return (this.#stmt('SELECT tag_key, tag_value FROM tags WHERE key_arn = ? ORDER BY tag_key').all(arn) as Row[]).map((r) => ({
      TagKey: r.tag_key as string,
      TagValue: r.tag_value as string,
    }));
  }

  putTags(arn: string, tags: readonly TagRecord[]): void {
    const insert = this.#stmt('INSERT OR REPLACE INTO tags (key_arn, tag_key, tag_value) VALUES (?, ?, ?)');
    for (const t of tags) insert.run(arn, t.TagKey, t.TagValue);
  }

  removeTags(arn: string, tagKeys: readonly string[]): void {
    const del = this.#stmt('DELETE FROM tags WHERE key_arn = ? AND tag_key = ?');
    for (const k of tagKeys) del.run(arn, k);
  }

  grantByIdempotencyKey(keyArn: string, idempotencyKey: string): GrantRecord | undefined {
    const r = this.#stmt('SELECT * FROM grants WHERE key_arn = ? AND idempotency_key = ? ORDER BY creation_date, grant_id LIMIT 1').get(
      keyArn, idempotencyKey,
    ) as Row | undefined;
    return r === undefined ? undefined : grantFromRow(r);
  }

  countGrants(keyArn: string): number {
    return this.#stmt('SELECT COUNT(*) FROM grants WHERE key_arn = ?').pluck().get(keyArn) as number;
  }

  insertGrant(g: GrantRecord): void {
    this.#stmt(GRANT_INSERT).run(...grantParams(g));
  }
}

/** The StoreTx a transaction callback receives: the writer's methods, asynchronous as the port declares them. */
export function storeTx(w: SqliteWriter): StoreTx {
  return Object.freeze({
    keys: Object.freeze({
      lock: async (arn: string) => w.getKey(arn),
      lockRelated: async (accountId: string, keyId: string) => w.relatedKeys(accountId, keyId),
      insert: async (key: KeyRecord, version: KeyVersionRecord | null, tags: readonly TagRecord[]) => w.insertKey(key, version, tags),
      update: async (arn: string, patch: KeyPatch) => {
        w.updateKey(arn, patch);
      },
      listVersions: async (arn: string) => w.listVersions(arn),
      putVersion: async (v: KeyVersionRecord) => w.insertVersion(v),
      setMaterial: async (arn: string, version: number | 'all', wrapped: Buffer | null) => w.setMaterial(arn, version, wrapped),
    }),
    aliases: Object.freeze({
      lock: async (accountId: string, region: string, aliasName: string) => w.getAlias(accountId, region, aliasName),
      countForKey: async (keyArn: string) => w.countAliases(keyArn),
      insert: async (a: AliasRecord) => {
        if (!w.insertAlias(a)) throw new Error(`alias ${a.aliasName} exists: lock it before inserting`);
      },
      retarget: async (accountId: string, region: string, aliasName: string, targetKeyId: string, targetKeyArn: string, at: number) => {
        w.retargetAlias(accountId, region, aliasName, targetKeyId, targetKeyArn, at);
      },
    }),
    tags: Object.freeze({
      list: async (arn: string) => w.listTags(arn),
      put: async (arn: string, tags: readonly TagRecord[]) => w.putTags(arn, tags),
    }),
    grants: Object.freeze({
      findByIdempotencyKey: async (keyArn: string, key: string) => w.grantByIdempotencyKey(keyArn, key),
      countForKey: async (keyArn: string) => w.countGrants(keyArn),
      insert: async (g: GrantRecord) => w.insertGrant(g),
    }),
  });
}
