/**
 * SQLite implementation of the Store (better-sqlite3 12, WAL). Several worker processes open the
 * same file; writes are short transactions with a busy timeout. `synchronous=FULL` makes every
 * acknowledged key change survive power loss, not only a process crash (docs/architecture.md §1.1), and
 * `secure_delete` overwrites the pages of deleted key material.
 */
import Database from 'better-sqlite3';
import {
  parseGrantPosition,
  type AccessKeyRecord,
  type AliasRecord,
  type GrantFilter,
  type GrantRecord,
  type ImportTokenRecord,
  type KeyPatch,
  type KeyRecord,
  type KeyState,
  type KeyVersionRecord,
  type KeyWrite,
  type PageRequest,
  type Store,
  type TagRecord,
} from '../store';
import {
  accessKeyFromRow,
  immediate,
  nullableNumber,
  nullableText,
  statementCache,
  unlessRolledBack,
  type Connection,
  type Row,
  type Statement,
} from './connection';
import { SQLITE_MIGRATIONS } from './migrations';
import { SqliteIdentityStore } from './sqlite-identity-store';

const KEY_COLUMNS: Readonly<Record<keyof KeyPatch, string>> = Object.freeze({
  state: 'state',
  description: 'description',
  policy: 'policy',
  deletionDate: 'deletion_date',
  pendingWindowInDays: 'pending_window_days',
  currentVersion: 'current_version',
  rotationEnabled: 'rotation_enabled',
  rotationPeriodInDays: 'rotation_period_days',
  nextRotationDate: 'next_rotation_date',
  onDemandRotationStartDate: 'on_demand_rotation_start',
  expirationModel: 'expiration_model',
  validTo: 'valid_to',
  multiRegionKeyType: 'multi_region_key_type',
  primaryRegion: 'primary_region',
});

const KEY_INSERT = `INSERT INTO keys (arn, key_id, account_id, region, key_spec, key_usage, origin, key_manager, state, description,
  policy, multi_region, creation_date, deletion_date, pending_window_days, current_version, rotation_enabled,
  rotation_period_days, next_rotation_date, on_demand_rotation_start, expiration_model, valid_to, multi_region_key_type,
  primary_region) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

function keyParams(k: KeyRecord): unknown[] {
  return [
    k.arn, k.keyId, k.accountId, k.region, k.keySpec, k.keyUsage, k.origin, k.keyManager, k.state, k.description, k.policy,
    k.multiRegion ? 1 : 0, k.creationDate, k.deletionDate, k.pendingWindowInDays, k.currentVersion, k.rotationEnabled ? 1 : 0,
    k.rotationPeriodInDays, k.nextRotationDate, k.onDemandRotationStartDate, k.expirationModel, k.validTo,
    k.multiRegionKeyType, k.primaryRegion,
  ];
}

/** SQLite stores booleans as 0/1. */
function columnValue(v: unknown): unknown {
  return typeof v === 'boolean' ? (v ? 1 : 0) : (v ?? null);
}

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
    deletionDate: nullableNumber(r.deletion_date),
    pendingWindowInDays: nullableNumber(r.pending_window_days),
    currentVersion: r.current_version as number,
    rotationEnabled: r.rotation_enabled === 1,
    rotationPeriodInDays: nullableNumber(r.rotation_period_days),
    nextRotationDate: nullableNumber(r.next_rotation_date),
    onDemandRotationStartDate: nullableNumber(r.on_demand_rotation_start),
    expirationModel: nullableText(r.expiration_model),
    validTo: nullableNumber(r.valid_to),
    multiRegionKeyType: (r.multi_region_key_type as KeyRecord['multiRegionKeyType']) ?? null,
    primaryRegion: nullableText(r.primary_region),
  };
}

function versionFromRow(r: Row): KeyVersionRecord {
  return {
    keyArn: r.key_arn as string,
    version: r.version as number,
    materialId: r.material_id as string,
    wrappedMaterial: (r.wrapped_material as Buffer | null) ?? null,
    createdAt: r.created_at as number,
    origin: r.origin as KeyVersionRecord['origin'],
  };
}

function tokenFromRow(r: Row): ImportTokenRecord {
  return {
    tokenId: r.token_id as string,
    keyArn: r.key_arn as string,
    wrappingKeySpec: r.wrapping_key_spec as string,
    wrappingAlgorithm: r.wrapping_algorithm as string,
    wrappedPrivateKey: r.wrapped_private_key as Buffer,
    expiresAt: r.expires_at as number,
  };
}

function aliasFromRow(r: Row): AliasRecord {
  return {
    accountId: r.account_id as string,
    region: r.region as string,
    aliasName: r.alias_name as string,
    targetKeyId: r.target_key_id as string,
    targetKeyArn: r.target_key_arn as string,
    creationDate: r.creation_date as number,
    lastUpdatedDate: r.last_updated_date as number,
  };
}

function grantFromRow(r: Row): GrantRecord {
  return {
    grantId: r.grant_id as string,
    keyArn: r.key_arn as string,
    region: r.region as string,
    issuingAccount: r.issuing_account as string,
    name: nullableText(r.name),
    idempotencyKey: nullableText(r.idempotency_key),
    granteePrincipal: nullableText(r.grantee_principal),
    granteeServicePrincipal: nullableText(r.grantee_service_principal),
    granteePrincipalId: nullableText(r.grantee_principal_id),
    retiringPrincipal: nullableText(r.retiring_principal),
    retiringServicePrincipal: nullableText(r.retiring_service_principal),
    operations: JSON.parse(r.operations as string) as string[],
    constraints: r.constraints === null ? null : (JSON.parse(r.constraints as string) as GrantRecord['constraints']),
    creationDate: r.creation_date as number,
  };
}

/** The (creation date, grant id) position strictly after which a grant page starts. */
function grantAfter(after: string | undefined): [number, string] {
  if (after === undefined) return [-1, ''];
  const p = parseGrantPosition(after);
  if (p === undefined) throw new Error('malformed grant page position');
  return [p.creationDate, p.grantId];
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
  /** changeToken's value for the rest of this turn of the event loop, once read. */
  #token: number | undefined;
  readonly #stmt: (sql: string) => Statement;
  readonly identity: SqliteIdentityStore;

  constructor(options: SqliteStoreOptions) {
    this.#db = new Database(options.path) as unknown as Connection;
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = FULL');
    this.#db.pragma('foreign_keys = ON');
    this.#db.pragma('secure_delete = ON');
    this.#db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 10_000}`);
    this.#dataVersion = this.#db.prepare('PRAGMA data_version').pluck();
    this.#stmt = statementCache(this.#db);
    this.identity = new SqliteIdentityStore(this.#db);
  }

  async migrate(): Promise<void> {
    this.#db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    // IMMEDIATE takes the write lock first: concurrent starters serialise here.
    immediate(this.#db, () => {
      const done = new Set(this.#db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
      for (const [version, sql] of SQLITE_MIGRATIONS) {
        if (done.has(version)) continue;
        this.#db.exec(sql);
        this.#db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(version, Date.now());
      }
    });
  }

  async close(): Promise<void> {
    this.#db.close();
  }

  /**
   * Read at most once per turn of the event loop (PRAGMA data_version costs ~7 µs, and one
   * request asks up to four caches): the value is forgotten in the check phase of the turn that
   * read it. A commit that a client saw acknowledged before it sent a request happened before
   * the poll that delivered that request, so the request's first read comes after it, in the
   * same turn or a later one.
   */
  changeToken(): number {
    let t = this.#token;
    if (t === undefined) {
      t = this.#dataVersion.get() as number;
      this.#token = t;
      setImmediate(() => {
        this.#token = undefined;
      }).unref();
    }
    return t;
  }

  async listAccounts(): Promise<string[]> {
    return this.#stmt('SELECT account_id FROM accounts ORDER BY account_id').pluck().all() as string[];
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

  #insertKey(key: KeyRecord, version: KeyVersionRecord | null, tags: readonly TagRecord[]): void {
    this.#stmt(KEY_INSERT).run(...keyParams(key));
    if (version !== null) this.#insertVersion(version);
    const insertTag = this.#stmt('INSERT OR REPLACE INTO tags (key_arn, tag_key, tag_value) VALUES (?, ?, ?)');
    for (const t of tags) insertTag.run(key.arn, t.TagKey, t.TagValue);
  }

  #insertVersion(v: KeyVersionRecord): void {
    this.#stmt(
      'INSERT INTO key_versions (key_arn, version, material_id, wrapped_material, created_at, origin) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(v.keyArn, v.version, v.materialId, v.wrappedMaterial, v.createdAt, v.origin);
  }

  #updateKey(arn: string, patch: KeyPatch, ifStates?: readonly KeyState[], ifCurrentVersion?: number): boolean {
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

  async createKey(key: KeyRecord, version: KeyVersionRecord | null, tags: readonly TagRecord[]): Promise<void> {
    immediate(this.#db, () => this.#insertKey(key, version, tags));
  }

  async getKey(arn: string): Promise<KeyRecord | undefined> {
    const r = this.#stmt('SELECT * FROM keys WHERE arn = ?').get(arn) as Row | undefined;
    return r === undefined ? undefined : keyFromRow(r);
  }

  async updateKey(arn: string, patch: KeyPatch, ifStates?: readonly KeyState[]): Promise<boolean> {
    return this.#updateKey(arn, patch, ifStates);
  }

  async rewriteKeyPolicies(needle: string, rewrite: (policy: string) => string | undefined): Promise<string[]> {
    return immediate(this.#db, () => {
      const rows = this.#stmt('SELECT arn, policy FROM keys WHERE instr(lower(policy), lower(?)) > 0 OR instr(lower(policy), lower(?)) > 0').all(
        needle, needle.replace(/\//g, '\\/'),
      ) as Row[];
      const changed: string[] = [];
      for (const r of rows) {
        const next = rewrite(r.policy as string);
        if (next === undefined) continue;
        this.#stmt('UPDATE keys SET policy = ? WHERE arn = ?').run(next, r.arn);
        changed.push(r.arn as string);
      }
      return changed;
    });
  }

  async applyKeyWrites(writes: readonly KeyWrite[]): Promise<boolean> {
    return unlessRolledBack((guardFailed) =>
      immediate(this.#db, () => {
        for (const w of writes) {
          switch (w.kind) {
            case 'create-key':
              this.#insertKey(w.key, w.version, w.tags);
              break;
            case 'update-key':
              if (!this.#updateKey(w.arn, w.patch, w.ifStates, w.ifCurrentVersion)) guardFailed();
              break;
            case 'put-version':
              this.#insertVersion(w.version);
              break;
            case 'set-material':
              if (w.version === 'all') {
                this.#stmt('UPDATE key_versions SET wrapped_material = ? WHERE key_arn = ?').run(w.wrappedMaterial, w.arn);
              } else {
                this.#stmt('UPDATE key_versions SET wrapped_material = ? WHERE key_arn = ? AND version = ?').run(
                  w.wrappedMaterial, w.arn, w.version,
                );
              }
              break;
          }
        }
      }),
    );
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
    return immediate(this.#db, () => {
      const due =
        this.#stmt(
          `UPDATE keys SET valid_to = NULL,
             state = CASE WHEN state IN ('PendingDeletion', 'PendingReplicaDeletion') THEN state ELSE 'PendingImport' END
           WHERE arn = ? AND origin = 'EXTERNAL' AND valid_to <= ? AND state <> 'PendingImport'`,
        ).run(arn, now).changes > 0;
      if (due) this.#stmt('UPDATE key_versions SET wrapped_material = NULL WHERE key_arn = ?').run(arn);
      return due;
    });
  }

  async deleteKeyIfDue(arn: string, now: number): Promise<boolean> {
    // Versions, aliases, tags and import tokens go by ON DELETE CASCADE in the same statement.
    return (
      this.#stmt("DELETE FROM keys WHERE arn = ? AND state IN ('PendingDeletion', 'PendingReplicaDeletion') AND deletion_date <= ?").run(
        arn, now,
      ).changes > 0
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
    return (
      this.#stmt(
        `INSERT INTO aliases (account_id, region, alias_name, target_key_id, target_key_arn, creation_date, last_updated_date)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ).run(a.accountId, a.region, a.aliasName, a.targetKeyId, a.targetKeyArn, a.creationDate, a.lastUpdatedDate).changes > 0
    );
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
    return (
      this.#stmt(
        `UPDATE aliases SET target_key_id = ?, target_key_arn = ?, last_updated_date = ?
         WHERE account_id = ? AND region = ? AND alias_name = ? AND target_key_arn = ?`,
      ).run(targetKeyId, targetKeyArn, at, accountId, region, aliasName, expectedTargetKeyArn).changes > 0
    );
  }

  async deleteAlias(accountId: string, region: string, aliasName: string): Promise<boolean> {
    return (
      this.#stmt('DELETE FROM aliases WHERE account_id = ? AND region = ? AND alias_name = ?').run(accountId, region, aliasName)
        .changes > 0
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
    const insert = this.#stmt('INSERT OR REPLACE INTO tags (key_arn, tag_key, tag_value) VALUES (?, ?, ?)');
    immediate(this.#db, () => {
      for (const t of tags) insert.run(arn, t.TagKey, t.TagValue);
    });
  }

  async removeTags(arn: string, tagKeys: readonly string[]): Promise<void> {
    const del = this.#stmt('DELETE FROM tags WHERE key_arn = ? AND tag_key = ?');
    immediate(this.#db, () => {
      for (const k of tagKeys) del.run(arn, k);
    });
  }

  async listTags(arn: string, page?: PageRequest): Promise<TagRecord[]> {
    const rows = this.#stmt(
      'SELECT tag_key, tag_value FROM tags WHERE key_arn = ? AND tag_key > ? ORDER BY tag_key LIMIT ?',
    ).all(arn, page?.after ?? '', page?.limit ?? -1) as Row[];
    return rows.map((r) => ({ TagKey: r.tag_key as string, TagValue: r.tag_value as string }));
  }

  async putImportToken(t: ImportTokenRecord): Promise<void> {
    this.#stmt(
      `INSERT INTO import_tokens (token_id, key_arn, wrapping_key_spec, wrapping_algorithm, wrapped_private_key, expires_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(t.tokenId, t.keyArn, t.wrappingKeySpec, t.wrappingAlgorithm, t.wrappedPrivateKey, t.expiresAt);
  }

  async getImportToken(tokenId: string): Promise<ImportTokenRecord | undefined> {
    const r = this.#stmt('SELECT * FROM import_tokens WHERE token_id = ?').get(tokenId) as Row | undefined;
    return r === undefined ? undefined : tokenFromRow(r);
  }

  async pruneImportTokens(now: number): Promise<number> {
    return this.#stmt('DELETE FROM import_tokens WHERE expires_at < ?').run(now).changes;
  }

  async createGrant(g: GrantRecord, maxPerKey: number): Promise<GrantRecord | 'limit-exceeded'> {
    return immediate(this.#db, (): GrantRecord | 'limit-exceeded' => {
      if (g.idempotencyKey !== null) {
        const r = this.#stmt('SELECT * FROM grants WHERE key_arn = ? AND idempotency_key = ? ORDER BY creation_date, grant_id LIMIT 1').get(
          g.keyArn, g.idempotencyKey,
        ) as Row | undefined;
        if (r !== undefined) return grantFromRow(r);
      }
      const n = this.#stmt('SELECT COUNT(*) FROM grants WHERE key_arn = ?').pluck().get(g.keyArn) as number;
      if (n >= maxPerKey) return 'limit-exceeded';
      this.#stmt(
        `INSERT INTO grants (grant_id, key_arn, region, issuing_account, name, idempotency_key, grantee_principal,
           grantee_service_principal, grantee_principal_id, retiring_principal, retiring_service_principal, operations, constraints,
           creation_date)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        g.grantId, g.keyArn, g.region, g.issuingAccount, g.name, g.idempotencyKey, g.granteePrincipal, g.granteeServicePrincipal,
        g.granteePrincipalId ?? null,
        g.retiringPrincipal, g.retiringServicePrincipal, JSON.stringify(g.operations),
        g.constraints === null ? null : JSON.stringify(g.constraints), g.creationDate,
      );
      return g;
    });
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
    return this.#stmt('DELETE FROM grants WHERE key_arn = ? AND grant_id = ?').run(keyArn, grantId).changes > 0;
  }

  async ensureGrantTokenKey(wrapped: Buffer): Promise<Buffer> {
    return immediate(this.#db, (): Buffer => {
      this.#stmt('INSERT OR IGNORE INTO grant_token_key (id, wrapped_key) VALUES (1, ?)').run(wrapped);
      return this.#stmt('SELECT wrapped_key FROM grant_token_key WHERE id = 1').pluck().get() as Buffer;
    });
  }
}
