/**
 * The Store port (DESIGN §5): one small async interface over everything Keyhold persists.
 * Each method is atomic on its own, so a SQL transaction never spans an `await` in a caller;
 * that keeps the SQLite and PostgreSQL implementations interchangeable.
 */
import type { AccessKeyRecord, AliasRecord, KeyRecord, KeyState, KeyVersionRecord, TagRecord } from './records';

export type { AccessKeyRecord, AliasRecord, KeyRecord, KeyState, KeyVersionRecord, TagRecord } from './records';

/** Fields of a key that operations change after creation. */
export type KeyPatch = Partial<
  Pick<KeyRecord, 'state' | 'description' | 'policy' | 'deletionDate' | 'pendingWindowInDays' | 'currentVersion'>
>;

/** A page request: items strictly after `after` in the store's order, at most `limit`. */
export interface PageRequest {
  readonly after?: string;
  readonly limit: number;
}

/** The persistence port. */
export interface Store {
  /** Applies pending numbered migrations, guarded by a database lock. */
  migrate(): Promise<void>;
  close(): Promise<void>;
  /**
   * A number that changes whenever another connection (process or node) commits a change.
   * Cheap and synchronous: caches compare it on every request and drop entries when it moves.
   */
  changeToken(): number;

  ensureAccount(accountId: string, createdAt: number): Promise<void>;
  putAccessKey(record: AccessKeyRecord): Promise<void>;
  getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined>;
  listAccessKeys(accountId: string): Promise<AccessKeyRecord[]>;

  /** Creates a key with its first version (if any) and tags in one transaction. */
  createKey(key: KeyRecord, version: KeyVersionRecord | null, tags: readonly TagRecord[]): Promise<void>;
  getKey(keyId: string): Promise<KeyRecord | undefined>;
  /**
   * Updates a key. With `ifStates`, only when its state is one of them; returns whether a row
   * changed.
   */
  updateKey(keyId: string, patch: KeyPatch, ifStates?: readonly KeyState[]): Promise<boolean>;
  /** Keys of one account and region ordered by key id. */
  listKeys(accountId: string, region: string, page: PageRequest): Promise<KeyRecord[]>;
  /** Keys pending deletion whose deletion date is at or before `now`. */
  listKeysDueForDeletion(now: number, limit: number): Promise<KeyRecord[]>;
  /** Deletes a key, its versions, aliases and tags, if it is still pending deletion and due. */
  deleteKeyIfDue(keyId: string, now: number): Promise<boolean>;

  getKeyVersion(keyId: string, version: number): Promise<KeyVersionRecord | undefined>;
  listKeyVersions(keyId: string): Promise<KeyVersionRecord[]>;

  /** Returns false when the alias name is taken. */
  createAlias(alias: AliasRecord): Promise<boolean>;
  getAlias(accountId: string, region: string, aliasName: string): Promise<AliasRecord | undefined>;
  /** Re-points an alias; returns false when it does not exist. */
  updateAlias(accountId: string, region: string, aliasName: string, targetKeyId: string, at: number): Promise<boolean>;
  deleteAlias(accountId: string, region: string, aliasName: string): Promise<boolean>;
  /** Aliases of one account and region ordered by name, optionally of one key only. */
  listAliases(accountId: string, region: string, keyId: string | undefined, page: PageRequest): Promise<AliasRecord[]>;

  /** Adds or overwrites tags. */
  putTags(keyId: string, tags: readonly TagRecord[]): Promise<void>;
  removeTags(keyId: string, tagKeys: readonly string[]): Promise<void>;
  /** Tags of a key ordered by tag key. */
  listTags(keyId: string, page?: PageRequest): Promise<TagRecord[]>;
}
