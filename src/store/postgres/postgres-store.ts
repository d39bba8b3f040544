/**
 * PostgreSQL implementation of the Store (issue 14), for several Keyhold nodes on one database.
 * Same records and rules as src/store/sqlite/sqlite-store.ts; every write goes through the one
 * transaction runner (transaction-runner.ts: READ COMMITTED, row locks with SELECT … FOR UPDATE,
 * conflicts retried there), reads go straight to the pool. The change feed
 * (postgres-change-feed.ts) hears every committed change by LISTEN; the runner waits for it
 * after each commit, so this process's caches — and its siblings' — never serve a value older
 * than a write they acknowledged.
 *
 * The IdentityStore shares the pool; its writes run in its own transactions, and each one is
 * followed by the feed's `wroteWithoutMark` so its changes reach the caches before it returns.
 */
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
import { poolConfig, PostgresPool, type PostgresOptions } from './connection';
import { migrate } from './migrate';
import { NodeMarks } from './node-marks';
import { PostgresChangeFeed } from './postgres-change-feed';
import { accessKeyFromRow, aliasFromRow, grantFromRow, keyFromRow, tagFromRow, tokenFromRow, versionFromRow, type Row } from './postgres-rows';
import { storeTx, type PostgresWriter } from './postgres-tx';
import { PostgresTransactionRunner } from './transaction-runner';

/** Options of the PostgreSQL store. */
export interface PostgresStoreOptions extends PostgresOptions {
  /** The IdentityStore over this store's pool. */
  readonly identity: (pool: PostgresPool) => IdentityStore;
  /** The node's marks file and this process's worker slot (serve only; see node-marks.ts). */
  readonly marks?: { readonly path: string; readonly slot: number };
  /** Told about connection errors of the pool and the change feed (logged by the caller). */
  readonly onConnectionError?: (err: Error) => void;
}

/** Calls the IdentityStore makes that change nothing (by name); any other call is a write. */
const READ_CALL = /^(get|list|count)/;

/** The identity store, each write followed by the feed's catch-up. */
function noticingWrites(target: IdentityStore, feed: PostgresChangeFeed): IdentityStore {
  return new Proxy(target, {
    get(t, p) {
      const v = Reflect.get(t, p, t) as unknown;
      if (typeof v !== 'function' || typeof p !== 'string' || READ_CALL.test(p)) return typeof v === 'function' ? v.bind(t) : v;
      const f = v as (...args: unknown[]) => Promise<unknown>;
      return async (...args: unknown[]) => {
        try {
          return await f.apply(t, args);
        } finally {
          await feed.wroteWithoutMark();
        }
      };
    },
  });
}

/** The store of a deployment on PostgreSQL. */
export class PostgresStore implements Store {
  readonly #pool: PostgresPool;
  readonly #runner: PostgresTransactionRunner;
  readonly changes: PostgresChangeFeed;
  readonly identity: IdentityStore;
  #closed = false;

  constructor(options: PostgresStoreOptions) {
    const onError = options.onConnectionError ?? (() => undefined);
    this.#pool = new PostgresPool({ ...options, onIdleError: options.onIdleError ?? onError });
    const { password, ...client } = poolConfig(options);
    this.changes = new PostgresChangeFeed({
      client: { ...client, password, application_name: 'keyhold-changes' },
      marks: options.marks === undefined ? undefined : new NodeMarks(options.marks.path, options.marks.slot),
      onError,
    });
    this.#runner = new PostgresTransactionRunner(this.#pool, this.changes);
    this.identity = noticingWrites(options.identity(this.#pool), this.changes);
  }

  /** The pool (for the adapters that share it: the sealed domain key, leases). */
  get pool(): PostgresPool {
    return this.#pool;
  }

  async migrate(): Promise<void> {
    await migrate(this.#pool);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.changes.close();
    await this.#pool.close();
  }

  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.#runner.run((w) => fn(storeTx(w)));
  }

  #write<T>(body: (w: PostgresWriter) => Promise<T>): Promise<T> {
    return this.#runner.run(body);
  }

  async #rows(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    return this.#runner.read(sql, params);
  }

  async #one(sql: string, params: readonly unknown[] = []): Promise<Row | undefined> {
    return (await this.#runner.read(sql, params))[0];
  }

  async listAccounts(): Promise<string[]> {
    return (await this.#rows('SELECT account_id FROM accounts ORDER BY account_id')).map((r) => r.account_id as string);
  }

  async ensureAccount(accountId: string, createdAt: number): Promise<void> {
    await this.#write((w) => w.query('INSERT INTO accounts (account_id, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING', [accountId, createdAt]));
  }

  async putAccessKey(k: AccessKeyRecord): Promise<void> {
    await this.#write((w) =>
      w.query(
        `INSERT INTO access_keys (access_key_id, account_id, principal_arn, principal_id, principal_type, user_name, wrapped_secret, status, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (access_key_id) DO UPDATE SET account_id = excluded.account_id, principal_arn = excluded.principal_arn,
           principal_id = excluded.principal_id, principal_type = excluded.principal_type, user_name = excluded.user_name,
           wrapped_secret = excluded.wrapped_secret, status = excluded.status`,
        [k.accessKeyId, k.accountId, k.principalArn, k.principalId, k.principalType, k.userName, k.wrappedSecret, k.status, k.createdAt],
      ),
    );
  }

  async getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined> {
    const r = await this.#one('SELECT * FROM access_keys WHERE access_key_id = $1', [accessKeyId]);
    return r === undefined ? undefined : accessKeyFromRow(r);
  }

  async listAccessKeys(accountId: string): Promise<AccessKeyRecord[]> {
    return (await this.#rows('SELECT * FROM access_keys WHERE account_id = $1 ORDER BY access_key_id', [accountId])).map(accessKeyFromRow);
  }

  async createKey(key: KeyRecord, version: KeyVersionRecord | null, tags: readonly TagRecord[]): Promise<void> {
    await this.#write((w) => w.insertKey(key, version, tags));
  }

  async getKey(arn: string): Promise<KeyRecord | undefined> {
    const r = await this.#one('SELECT * FROM keys WHERE arn = $1', [arn]);
    return r === undefined ? undefined : keyFromRow(r);
  }

  async updateKey(arn: string, patch: KeyPatch, ifStates?: readonly KeyState[]): Promise<boolean> {
    return this.#write((w) => w.updateKey(arn, patch, ifStates));
  }

  async applyKeyWrites(writes: readonly KeyWrite[]): Promise<boolean> {
    const guardFailed = new Error('guard failed');
    try {
      await this.#write(async (w) => {
        for (const x of writes) {
          switch (x.kind) {
            case 'create-key':
              await w.insertKey(x.key, x.version, x.tags);
              break;
            case 'update-key':
              if (!(await w.updateKey(x.arn, x.patch, x.ifStates, x.ifCurrentVersion))) throw guardFailed;
              break;
            case 'put-version':
              await w.insertVersion(x.version);
              break;
            case 'set-material':
              await w.setMaterial(x.arn, x.version, x.wrappedMaterial);
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
    return (
      await this.#rows('SELECT * FROM keys WHERE account_id = $1 AND region = $2 AND key_id > $3 ORDER BY key_id LIMIT $4', [
        accountId, region, page.after ?? '', page.limit,
      ])
    ).map(keyFromRow);
  }

  async listRelatedKeys(accountId: string, keyId: string): Promise<KeyRecord[]> {
    return (await this.#rows('SELECT * FROM keys WHERE account_id = $1 AND key_id = $2 ORDER BY region', [accountId, keyId])).map(keyFromRow);
  }

  async listKeysDueForDeletion(now: number, limit: number): Promise<KeyRecord[]> {
    return (
      await this.#rows("SELECT * FROM keys WHERE state = 'PendingDeletion' AND deletion_date <= $1 ORDER BY deletion_date LIMIT $2", [now, limit])
    ).map(keyFromRow);
  }

  async listKeysDueForRotation(now: number, limit: number): Promise<KeyRecord[]> {
    return (
      await this.#rows(
        "SELECT * FROM keys WHERE next_rotation_date <= $1 AND rotation_enabled AND state = 'Enabled' ORDER BY next_rotation_date LIMIT $2",
        [now, limit],
      )
    ).map(keyFromRow);
  }

  async listKeysWithExpiringMaterial(now: number, limit: number): Promise<KeyRecord[]> {
    return (
      await this.#rows(
        "SELECT * FROM keys WHERE valid_to <= $1 AND origin = 'EXTERNAL' AND state <> 'PendingImport' ORDER BY valid_to LIMIT $2",
        [now, limit],
      )
    ).map(keyFromRow);
  }

  async expireImportedMaterialIfDue(arn: string, now: number): Promise<boolean> {
    return this.#write(async (w) => {
      const due =
        (
          await w.query(
            `UPDATE keys SET valid_to = NULL,
               state = CASE WHEN state IN ('PendingDeletion', 'PendingReplicaDeletion') THEN state ELSE 'PendingImport' END
             WHERE arn = $1 AND origin = 'EXTERNAL' AND valid_to <= $2 AND state <> 'PendingImport'`,
            [arn, now],
          )
        ).rowCount > 0;
      if (due) await w.setMaterial(arn, 'all', null);
      return due;
    });
  }

  async deleteKeyIfDue(arn: string, now: number): Promise<boolean> {
    // Versions, aliases, tags, grants and import tokens go by ON DELETE CASCADE in the same statement.
    return this.#write(
      async (w) =>
        (await w.query("DELETE FROM keys WHERE arn = $1 AND state IN ('PendingDeletion', 'PendingReplicaDeletion') AND deletion_date <= $2", [arn, now]))
          .rowCount > 0,
    );
  }

  async getKeyVersion(arn: string, version: number): Promise<KeyVersionRecord | undefined> {
    const r = await this.#one('SELECT * FROM key_versions WHERE key_arn = $1 AND version = $2', [arn, version]);
    return r === undefined ? undefined : versionFromRow(r);
  }

  async listKeyVersions(arn: string): Promise<KeyVersionRecord[]> {
    return (await this.#rows('SELECT * FROM key_versions WHERE key_arn = $1 ORDER BY version', [arn])).map(versionFromRow);
  }

  async createAlias(a: AliasRecord): Promise<boolean> {
    return this.#write((w) => w.insertAlias(a));
  }

  async getAlias(accountId: string, region: string, aliasName: string): Promise<AliasRecord | undefined> {
    const r = await this.#one('SELECT * FROM aliases WHERE account_id = $1 AND region = $2 AND alias_name = $3', [accountId, region, aliasName]);
    return r === undefined ? undefined : aliasFromRow(r);
  }

  async updateAlias(
    accountId: string, region: string, aliasName: string, expectedTargetKeyArn: string, targetKeyId: string, targetKeyArn: string, at: number,
  ): Promise<boolean> {
    return this.#write((w) => w.retargetAlias(accountId, region, aliasName, targetKeyId, targetKeyArn, at, expectedTargetKeyArn));
  }

  async deleteAlias(accountId: string, region: string, aliasName: string): Promise<boolean> {
    return this.#write(
      async (w) => (await w.query('DELETE FROM aliases WHERE account_id = $1 AND region = $2 AND alias_name = $3', [accountId, region, aliasName])).rowCount > 0,
    );
  }

  async listAliases(accountId: string, region: string, keyArn: string | undefined, page: PageRequest): Promise<AliasRecord[]> {
    const rows =
      keyArn === undefined
        ? await this.#rows('SELECT * FROM aliases WHERE account_id = $1 AND region = $2 AND alias_name > $3 ORDER BY alias_name LIMIT $4', [
            accountId, region, page.after ?? '', page.limit,
          ])
        : await this.#rows(
            'SELECT * FROM aliases WHERE account_id = $1 AND region = $2 AND target_key_arn = $3 AND alias_name > $4 ORDER BY alias_name LIMIT $5',
            [accountId, region, keyArn, page.after ?? '', page.limit],
          );
    return rows.map(aliasFromRow);
  }

  async putTags(arn: string, tags: readonly TagRecord[]): Promise<void> {
    await this.#write((w) => w.putTags(arn, tags));
  }

  async removeTags(arn: string, tagKeys: readonly string[]): Promise<void> {
    await this.#write((w) => w.removeTags(arn, tagKeys));
  }

  async listTags(arn: string, page?: PageRequest): Promise<TagRecord[]> {
    // LIMIT NULL is no limit.
    return (
      await this.#rows('SELECT tag_key, tag_value FROM tags WHERE key_arn = $1 AND tag_key > $2 ORDER BY tag_key LIMIT $3', [
        arn, page?.after ?? '', page?.limit ?? null,
      ])
    ).map(tagFromRow);
  }

  async putImportToken(t: ImportTokenRecord): Promise<void> {
    await this.#write((w) =>
      w.query(
        `INSERT INTO import_tokens (token_id, key_arn, wrapping_key_spec, wrapping_algorithm, wrapped_private_key, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [t.tokenId, t.keyArn, t.wrappingKeySpec, t.wrappingAlgorithm, t.wrappedPrivateKey, t.expiresAt],
      ),
    );
  }

  async getImportToken(tokenId: string): Promise<ImportTokenRecord | undefined> {
    const r = await this.#one('SELECT * FROM import_tokens WHERE token_id = $1', [tokenId]);
    return r === undefined ? undefined : tokenFromRow(r);
  }

  async pruneImportTokens(now: number): Promise<number> {
    return this.#write(async (w) => (await w.query('DELETE FROM import_tokens WHERE expires_at < $1', [now])).rowCount);
  }

  async getGrant(grantId: string): Promise<GrantRecord | undefined> {
    const r = await this.#one('SELECT * FROM grants WHERE grant_id = $1', [grantId]);
    return r === undefined ? undefined : grantFromRow(r);
  }

  async listGrants(keyArn: string, filter: GrantFilter, page: PageRequest): Promise<GrantRecord[]> {
    const [date, id] = grantAfter(page.after);
    return (
      await this.#rows(
        `SELECT * FROM grants WHERE key_arn = $1 AND ($2::text IS NULL OR grant_id = $2::text) AND ($3::text IS NULL OR grantee_principal = $3::text)
           AND (creation_date > $4 OR (creation_date = $4 AND grant_id > $5))
         ORDER BY creation_date, grant_id LIMIT $6`,
        [keyArn, filter.grantId ?? null, filter.granteePrincipal ?? null, date, id, page.limit],
      )
    ).map(grantFromRow);
  }

  async listGrantsForGrantee(keyArn: string, granteePrincipals: readonly string[]): Promise<GrantRecord[]> {
    if (granteePrincipals.length === 0) return [];
    return (
      await this.#rows('SELECT * FROM grants WHERE key_arn = $1 AND grantee_principal = ANY($2::text[]) ORDER BY creation_date, grant_id', [
        keyArn, [...granteePrincipals],
      ])
    ).map(grantFromRow);
  }

  async listRetirableGrants(region: string, retiringPrincipal: string, page: PageRequest): Promise<GrantRecord[]> {
    const [date, id] = grantAfter(page.after);
    return (
      await this.#rows(
        `SELECT * FROM grants WHERE region = $1 AND retiring_principal = $2 AND (creation_date > $3 OR (creation_date = $3 AND grant_id > $4))
         ORDER BY creation_date, grant_id LIMIT $5`,
        [region, retiringPrincipal, date, id, page.limit],
      )
    ).map(grantFromRow);
  }

  async deleteGrant(keyArn: string, grantId: string): Promise<boolean> {
    return this.#write(async (w) => (await w.query('DELETE FROM grants WHERE key_arn = $1 AND grant_id = $2', [keyArn, grantId])).rowCount > 0);
  }

  async ensureGrantTokenKey(wrapped: Buffer): Promise<Buffer> {
    return this.#write(async (w) => {
      await w.query('INSERT INTO grant_token_key (id, wrapped_key) VALUES (1, $1) ON CONFLICT (id) DO NOTHING', [wrapped]);
      return (await w.query('SELECT wrapped_key FROM grant_token_key WHERE id = 1')).rows[0]?.wrapped_key as Buffer;
    });
  }
}
