/**
 * The write side of the PostgreSQL Store (issue 14): every statement that changes a KMS table,
 * run on one connection inside a transaction of the runner (postgres-transaction-runner.ts), and
 * the `StoreTx` facade over it. Transactions are READ COMMITTED: `lock` is SELECT … FOR UPDATE,
 * so a transaction that locked a key row sees the latest committed state of everything it reads
 * afterwards, and concurrent transactions on one key run one after another.
 *
 * Unlike SQLite's single writer, two transactions on different keys may race to insert the same
 * alias name: the loser's INSERT … ON CONFLICT DO NOTHING waits for the winner's commit, inserts
 * nothing, and throws `RetryTransaction`, so the runner runs the callback again — where
 * `aliases.lock` now finds the alias and the invariant code answers 'exists'.
 */
import { KEY_COLUMNS, type KeyPatch } from '../store';
import type { AliasRecord, GrantRecord, KeyRecord, KeyVersionRecord, TagRecord } from '../records';
import type { StoreTx } from '../transaction';
import {
  aliasFromRow, GRANT_INSERT, grantFromRow, grantParams, KEY_INSERT, keyFromRow, keyParams, tagFromRow, versionFromRow, type Row,
} from './postgres-rows';

/** One statement on the transaction's connection. */
export type Query = (sql: string, params?: readonly unknown[]) => Promise<{ readonly rows: Row[]; readonly rowCount: number }>;

/** Thrown inside a transaction to have the runner run it again from the start (a lost race it can win on a retry). */
export class RetryTransaction extends Error {
  override readonly name = 'RetryTransaction';
}

/** Writes on one transaction's connection. */
export class PostgresWriter {
  readonly #q: Query;

  constructor(q: Query) {
    this.#q = q;
  }

  /** A statement of the Store's own (guarded writes). */
  query(sql: string, params: readonly unknown[] = []): Promise<{ readonly rows: Row[]; readonly rowCount: number }> {
    return this.#q(sql, params);
  }

  async lockKey(arn: string): Promise<KeyRecord | undefined> {
    const r = (await this.#q('SELECT * FROM keys WHERE arn = $1 FOR UPDATE', [arn])).rows[0];
    return r === undefined ? undefined : keyFromRow(r);
  }

  async lockRelated(accountId: string, keyId: string): Promise<KeyRecord[]> {
    return (await this.#q('SELECT * FROM keys WHERE account_id = $1 AND key_id = $2 ORDER BY region FOR UPDATE', [accountId, keyId])).rows.map(keyFromRow);
  }

  async insertKey(key: KeyRecord, version: KeyVersionRecord | null, tags: readonly TagRecord[]): Promise<void> {
    await this.#q(KEY_INSERT, keyParams(key));
    if (version !== null) await this.insertVersion(version);
    await this.putTags(key.arn, tags);
  }

  async insertVersion(v: KeyVersionRecord): Promise<void> {
    await this.#q(
      'INSERT INTO key_versions (key_arn, version, material_id, wrapped_material, created_at, origin) VALUES ($1, $2, $3, $4, $5, $6)',
      [v.keyArn, v.version, v.materialId, v.wrappedMaterial, v.createdAt, v.origin],
    );
  }

  async listVersions(arn: string): Promise<KeyVersionRecord[]> {
    return (await this.#q('SELECT * FROM key_versions WHERE key_arn = $1 ORDER BY version', [arn])).rows.map(versionFromRow);
  }

  /** Updates a key's row, optionally only in one of `ifStates` / at `ifCurrentVersion`; whether a row changed. */
  async updateKey(arn: string, patch: KeyPatch, ifStates?: readonly string[], ifCurrentVersion?: number): Promise<boolean> {
    const sets: string[] = [];
    const params: unknown[] = [];
    for (const [field, column] of Object.entries(KEY_COLUMNS) as [keyof KeyPatch, string][]) {
      if (field in patch) {
        params.push(patch[field] ?? null);
        sets.push(`${column} = $${params.length}`);
      }
    }
    params.push(arn);
    let sql = `UPDATE keys SET ${sets.length === 0 ? 'arn = arn' : sets.join(', ')} WHERE arn = $${params.length}`;
    if (ifStates !== undefined && ifStates.length > 0) {
      params.push([...ifStates]);
      sql += ` AND state = ANY($${params.length}::text[])`;
    }
    if (ifCurrentVersion !== undefined) {
      params.push(ifCurrentVersion);
      sql += ` AND current_version = $${params.length}`;
    }
    return (await this.#q(sql, params)).rowCount > 0;
  }

  async setMaterial(arn: string, version: number | 'all', wrapped: Buffer | null): Promise<void> {
    if (version === 'all') await this.#q('UPDATE key_versions SET wrapped_material = $1 WHERE key_arn = $2', [wrapped, arn]);
    else await this.#q('UPDATE key_versions SET wrapped_material = $1 WHERE key_arn = $2 AND version = $3', [wrapped, arn, version]);
  }

  async lockAlias(accountId: string, region: string, aliasName: string): Promise<AliasRecord | undefined> {
    const r = (await this.#q('SELECT * FROM aliases WHERE account_id = $1 AND region = $2 AND alias_name = $3 FOR UPDATE', [accountId, region, aliasName]))
      .rows[0];
    return r === undefined ? undefined : aliasFromRow(r);
  }

  async countAliases(keyArn: string): Promise<number> {
    return Number((await this.#q('SELECT COUNT(*) AS n FROM aliases WHERE target_key_arn = $1', [keyArn])).rows[0]?.n ?? 0);
  }

  /** Inserts an alias unless its name is taken (waiting for a concurrent inserter's outcome); whether it was inserted. */
  async insertAlias(a: AliasRecord): Promise<boolean> {
    const r = await this.#q(
      `INSERT INTO aliases (account_id, region, alias_name, target_key_id, target_key_arn, creation_date, last_updated_date)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
      [a.accountId, a.region, a.aliasName, a.targetKeyId, a.targetKeyArn, a.creationDate, a.lastUpdatedDate],
    );
    return r.rowCount > 0;
  }

  /** Re-points an alias, only from `expectedTargetKeyArn` when given; whether it moved. */
  async retargetAlias(
    accountId: string, region: string, aliasName: string, targetKeyId: string, targetKeyArn: string, at: number, expectedTargetKeyArn?: string,
  ): Promise<boolean> {
    const r = await this.#q(
      `UPDATE aliases SET target_key_id = $1, target_key_arn = $2, last_updated_date = $3
       WHERE account_id = $4 AND region = $5 AND alias_name = $6 AND ($7::text IS NULL OR target_key_arn = $7::text)`,
      [targetKeyId, targetKeyArn, at, accountId, region, aliasName, expectedTargetKeyArn ?? null],
    );
    return r.rowCount > 0;
  }

  async listTags(arn: string): Promise<TagRecord[]> {
    return (await this.#q('SELECT tag_key, tag_value FROM tags WHERE key_arn = $1 ORDER BY tag_key', [arn])).rows.map(tagFromRow);
  }

  async putTags(arn: string, tags: readonly TagRecord[]): Promise<void> {
    if (tags.length === 0) return;
    // One statement for all tags; a tag key given twice keeps its last value, as one-by-one upserts would.
    const last = new Map(tags.map((t) => [t.TagKey, t.TagValue]));
    await this.#q(
      `INSERT INTO tags (key_arn, tag_key, tag_value) SELECT $1, k, v FROM unnest($2::text[], $3::text[]) AS t(k, v)
       ON CONFLICT (key_arn, tag_key) DO UPDATE SET tag_value = excluded.tag_value`,
      [arn, [...last.keys()], [...last.values()]],
    );
  }

  async removeTags(arn: string, tagKeys: readonly string[]): Promise<void> {
    if (tagKeys.length === 0) return;
    await this.#q('DELETE FROM tags WHERE key_arn = $1 AND tag_key = ANY($2::text[])', [arn, [...tagKeys]]);
  }

  async grantByIdempotencyKey(keyArn: string, idempotencyKey: string): Promise<GrantRecord | undefined> {
    const r = (
      await this.#q('SELECT * FROM grants WHERE key_arn = $1 AND idempotency_key = $2 ORDER BY creation_date, grant_id LIMIT 1', [keyArn, idempotencyKey])
    ).rows[0];
    return r === undefined ? undefined : grantFromRow(r);
  }

  async countGrants(keyArn: string): Promise<number> {
    return Number((await this.#q('SELECT COUNT(*) AS n FROM grants WHERE key_arn = $1', [keyArn])).rows[0]?.n ?? 0);
  }

  async insertGrant(g: GrantRecord): Promise<void> {
    await this.#q(GRANT_INSERT, grantParams(g));
  }
}

/** The StoreTx a transaction callback receives. */
export function storeTx(w: PostgresWriter): StoreTx {
  return Object.freeze({
    keys: Object.freeze({
      lock: (arn: string) => w.lockKey(arn),
      lockRelated: (accountId: string, keyId: string) => w.lockRelated(accountId, keyId),
      insert: (key: KeyRecord, version: KeyVersionRecord | null, tags: readonly TagRecord[]) => w.insertKey(key, version, tags),
      update: async (arn: string, patch: KeyPatch) => {
        await w.updateKey(arn, patch);
      },
      listVersions: (arn: string) => w.listVersions(arn),
      putVersion: (v: KeyVersionRecord) => w.insertVersion(v),
      setMaterial: (arn: string, version: number | 'all', wrapped: Buffer | null) => w.setMaterial(arn, version, wrapped),
    }),
    aliases: Object.freeze({
      lock: (accountId: string, region: string, aliasName: string) => w.lockAlias(accountId, region, aliasName),
      countForKey: (keyArn: string) => w.countAliases(keyArn),
      insert: async (a: AliasRecord) => {
        // Another transaction (on another key) inserted this name since our lock found none.
        if (!(await w.insertAlias(a))) throw new RetryTransaction(`alias ${a.aliasName} was created concurrently`);
      },
      retarget: async (accountId: string, region: string, aliasName: string, targetKeyId: string, targetKeyArn: string, at: number) => {
        await w.retargetAlias(accountId, region, aliasName, targetKeyId, targetKeyArn, at);
      },
    }),
    tags: Object.freeze({
      list: (arn: string) => w.listTags(arn),
      put: (arn: string, tags: readonly TagRecord[]) => w.putTags(arn, tags),
    }),
    grants: Object.freeze({
      findByIdempotencyKey: (keyArn: string, key: string) => w.grantByIdempotencyKey(keyArn, key),
      countForKey: (keyArn: string) => w.countGrants(keyArn),
      insert: (g: GrantRecord) => w.insertGrant(g),
    }),
  });
}
