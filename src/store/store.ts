/**
 * The Store port (docs/architecture.md §5): one async interface over everything Keyhold persists.
 * Each method is atomic on its own; an invariant that spans reads and writes runs in
 * `transaction(async (tx) => …)` (src/store/transaction.ts), checked in TypeScript
 * (src/keys/guarded-writes.ts), so the SQLite and PostgreSQL implementations stay
 * interchangeable. Keys are identified by ARN (a multi-Region key has one row per Region under
 * one key id).
 */
import type {
  AccessKeyRecord,
  AliasRecord,
  GrantRecord,
  ImportTokenRecord,
  KeyRecord,
  KeyState,
  KeyVersionRecord,
  TagRecord,
} from './records';

export type {
  AccessKeyRecord,
  AliasRecord,
  GrantConstraintsRecord,
  GrantRecord,
  ImportTokenRecord,
  KeyRecord,
  KeyState,
  KeyVersionRecord,
  TagRecord,
} from './records';
import type { IdentityStore } from './identity-store';
import type { ChangeFeed } from './change-feed';
import type { TransactionRunner } from './transaction';

export type { Change, ChangeFeed, ChangeListener, EntityKind } from './change-feed';
export type { AliasTx, GrantTx, KeyTx, StoreTx, TagTx, TransactionRunner } from './transaction';

export type * from './identity-store';

/** Fields of a key that change after creation. */
export type KeyPatch = Partial<
  Pick<
    KeyRecord,
    | 'state'
    | 'description'
    | 'policy'
    | 'deletionDate'
    | 'pendingWindowInDays'
    | 'currentVersion'
    | 'rotationEnabled'
    | 'rotationPeriodInDays'
    | 'nextRotationDate'
    | 'onDemandRotationStartDate'
    | 'expirationModel'
    | 'validTo'
    | 'multiRegionKeyType'
    | 'primaryRegion'
  >
>;

/**
 * One write in an all-or-nothing batch (`Store.applyKeyWrites`). A guarded update whose key is
 * not in one of `ifStates`, or (with `ifCurrentVersion`) whose current version has moved, aborts
 * the whole batch — so two concurrent rotations can never both bump a key.
 */
export type KeyWrite =
  | { readonly kind: 'create-key'; readonly key: KeyRecord; readonly version: KeyVersionRecord | null; readonly tags: readonly TagRecord[] }
  | {
      readonly kind: 'update-key';
      readonly arn: string;
      readonly patch: KeyPatch;
      readonly ifStates?: readonly KeyState[];
      readonly ifCurrentVersion?: number;
    }
  | { readonly kind: 'put-version'; readonly version: KeyVersionRecord }
  /** Sets (or, with null, deletes) the wrapped material of existing versions of a key. */
  | { readonly kind: 'set-material'; readonly arn: string; readonly version: number | 'all'; readonly wrappedMaterial: Buffer | null };

/** A page request: items strictly after `after` in the store's order, at most `limit`. */
export interface PageRequest {
  readonly after?: string;
  readonly limit: number;
}

/*
 * Narrow repositories (issue 13): each part of the port an operation, job or module may depend
 * on alone, so its deps type shows which data it touches. `Store` is their union; the method
 * names and signatures are the port's, unchanged, so every adapter implements `Store` as before.
 */

/** Opening and closing the database. */
export interface StoreLifetime {
  /** Applies pending numbered migrations, guarded by a database lock. */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

/** The change feed the one cache layer follows (src/store/cache.ts). */
export interface ChangeSource {
  /** Which entities any transaction (of any process or node) changed: the one cache layer follows it (src/store/cache.ts). */
  readonly changes: ChangeFeed;
}

/** Accounts, Organizations, IAM entities and policies, STS sessions. */
export interface IdentityRepository {
  /** Accounts, Organizations, IAM entities and policies, STS sessions (src/store/identity-store.ts). */
  readonly identity: IdentityStore;
}

/** The account rows every key belongs to. */
export interface AccountRepository {
  ensureAccount(accountId: string, createdAt: number): Promise<void>;
  /** Every account id, in order. */
  listAccounts(): Promise<string[]>;
}

/** Access keys (SigV4 credentials). */
export interface AccessKeyRepository {
  putAccessKey(record: AccessKeyRecord): Promise<void>;
  getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined>;
  listAccessKeys(accountId: string): Promise<AccessKeyRecord[]>;
}

/** Reading keys. */
export interface KeyReader {
  getKey(arn: string): Promise<KeyRecord | undefined>;
  /** Keys of one account and region ordered by key id. */
  listKeys(accountId: string, region: string, page: PageRequest): Promise<KeyRecord[]>;
  /** Every Region's row of a key id in one account (multi-Region keys). */
  listRelatedKeys(accountId: string, keyId: string): Promise<KeyRecord[]>;
}

/** Writing keys outside a transaction callback (each call atomic on its own). */
export interface KeyWriter {
  /** Creates a key with its first version (if any) and tags in one transaction. */
  createKey(key: KeyRecord, version: KeyVersionRecord | null, tags: readonly TagRecord[]): Promise<void>;
  /** Updates a key; with `ifStates`, only when its state is one of them. Returns whether a row changed. */
  updateKey(arn: string, patch: KeyPatch, ifStates?: readonly KeyState[]): Promise<boolean>;
  /** Applies writes in one transaction; returns false (and changes nothing) when a guard fails. */
  applyKeyWrites(writes: readonly KeyWrite[]): Promise<boolean>;
}

/** Keys: reading and writing. */
export interface KeyRepository extends KeyReader, KeyWriter {}

/** Key versions (backing material, wrapped). */
export interface KeyVersionRepository {
  getKeyVersion(arn: string, version: number): Promise<KeyVersionRecord | undefined>;
  listKeyVersions(arn: string): Promise<KeyVersionRecord[]>;
}

/** What the scheduler's jobs ask and do (src/lifecycle/): due keys and their guarded changes. */
export interface KeyLifecycleQueries {
  /** Keys pending deletion whose deletion date is at or before `now`. */
  listKeysDueForDeletion(now: number, limit: number): Promise<KeyRecord[]>;
  /** Enabled keys with automatic rotation whose next rotation date is at or before `now`. */
  listKeysDueForRotation(now: number, limit: number): Promise<KeyRecord[]>;
  /**
   * EXTERNAL keys whose material expires (valid_to) at or before `now` and still have material
   * (any state but PendingImport: material expires while a key is pending deletion too).
   */
  listKeysWithExpiringMaterial(now: number, limit: number): Promise<KeyRecord[]>;
  /**
   * In one transaction, if the key is still due (EXTERNAL, valid_to at or before `now`, not
   * PendingImport): deletes the material of every version, clears valid_to and moves the key to
   * PendingImport — a key pending (replica) deletion keeps its state. Returns whether it was due.
   */
  expireImportedMaterialIfDue(arn: string, now: number): Promise<boolean>;
  /** Deletes a key, its versions, aliases, tags and import tokens, if it is still pending deletion and due. */
  deleteKeyIfDue(arn: string, now: number): Promise<boolean>;
}

/** Reading aliases. */
export interface AliasReader {
  getAlias(accountId: string, region: string, aliasName: string): Promise<AliasRecord | undefined>;
  /** Aliases of one account and region ordered by name, optionally of one key (by ARN) only. */
  listAliases(accountId: string, region: string, keyArn: string | undefined, page: PageRequest): Promise<AliasRecord[]>;
}

/** Aliases: reading and the single-call writes (the per-key limit is `addAlias`, in a transaction). */
export interface AliasRepository extends AliasReader {
  /** Returns false when the alias name is taken. */
  createAlias(alias: AliasRecord): Promise<boolean>;
  /**
   * Re-points an alias if it still targets `expectedTargetKeyArn` (compare-and-swap); returns
   * false when it does not exist or targets another key.
   */
  updateAlias(
    accountId: string, region: string, aliasName: string, expectedTargetKeyArn: string, targetKeyId: string, targetKeyArn: string, at: number,
  ): Promise<boolean>;
  deleteAlias(accountId: string, region: string, aliasName: string): Promise<boolean>;
}

/** Reading a key's tags. */
export interface TagReader {
  /** Tags of a key ordered by tag key. */
  listTags(arn: string, page?: PageRequest): Promise<TagRecord[]>;
}

/** Tags: reading and writing (the per-key limit is `addTags`, in a transaction). */
export interface TagRepository extends TagReader {
  /** Adds or overwrites tags. */
  putTags(arn: string, tags: readonly TagRecord[]): Promise<void>;
  removeTags(arn: string, tagKeys: readonly string[]): Promise<void>;
}

/** GetParametersForImport's tokens. */
export interface ImportTokenRepository {
  putImportToken(token: ImportTokenRecord): Promise<void>;
  getImportToken(tokenId: string): Promise<ImportTokenRecord | undefined>;
  /** Removes tokens that expired before `now`. */
  pruneImportTokens(now: number): Promise<number>;
}

/** Reading grants (authorization and the listings). */
export interface GrantReader {
  /** Grants (issue 3), created in a transaction (src/keys/guarded-writes.ts `addGrant`); they go with their key (ON DELETE CASCADE). */
  getGrant(grantId: string): Promise<GrantRecord | undefined>;
  /** Grants of one key ordered by (creation date, grant id); `after` is a `grantPosition`. */
  listGrants(keyArn: string, filter: GrantFilter, page: PageRequest): Promise<GrantRecord[]>;
  /** Every grant of one key whose grantee principal is one of `granteePrincipals` (authorization). */
  listGrantsForGrantee(keyArn: string, granteePrincipals: readonly string[]): Promise<GrantRecord[]>;
  /** Grants on keys of any account in `region` whose retiring principal is `retiringPrincipal`, in the same order. */
  listRetirableGrants(region: string, retiringPrincipal: string, page: PageRequest): Promise<GrantRecord[]>;
}

/** The grant-token MAC key (grant tokens are checked on every operation that takes GrantTokens). */
export interface GrantTokenKeyRepository {
  /**
   * The grant-token MAC key, wrapped by the root of trust: stores `wrapped` if none is stored
   * yet and returns the one stored, so every process converges on the first writer's key.
   */
  ensureGrantTokenKey(wrapped: Buffer): Promise<Buffer>;
}

/** Grants: reading, deleting, and the grant-token MAC key. */
export interface GrantRepository extends GrantReader, GrantTokenKeyRepository {
  /** Deletes a grant of a key; returns whether it existed. */
  deleteGrant(keyArn: string, grantId: string): Promise<boolean>;
}

/** The persistence port: every repository, the change feed and transactions. */
export interface Store
  extends StoreLifetime,
    TransactionRunner,
    ChangeSource,
    IdentityRepository,
    AccountRepository,
    AccessKeyRepository,
    KeyRepository,
    KeyVersionRepository,
    KeyLifecycleQueries,
    AliasRepository,
    TagRepository,
    ImportTokenRepository,
    GrantRepository {}

/** ListGrants filters; absent members do not filter. */
export interface GrantFilter {
  readonly grantId?: string;
  readonly granteePrincipal?: string;
}

/**
 * A grant's place in the grant listings (creation date, then grant id): the `after` of the
 * next page. Decimal epoch milliseconds, a dot, the grant id.
 */
export function grantPosition(grant: Pick<GrantRecord, 'creationDate' | 'grantId'>): string {
  return `${grant.creationDate}.${grant.grantId}`;
}

/** Parses a `grantPosition`; undefined when `s` is not one. */
export function parseGrantPosition(s: string): { readonly creationDate: number; readonly grantId: string } | undefined {
  const m = /^(\d{1,15})\.([0-9a-f]{64})$/.exec(s);
  return m === null ? undefined : { creationDate: Number(m[1]), grantId: m[2] as string };
}

/** For both adapters' grant paging: the (creation date, grant id) position strictly after which a grant page starts. */
export function grantAfter(after: string | undefined): [number, string] {
  if (after === undefined) return [-1, ''];
  const p = parseGrantPosition(after);
  if (p === undefined) throw new Error('malformed grant page position');
  return [p.creationDate, p.grantId];
}

/** KeyPatch field to column: both adapters' `keys` tables name their columns alike. */
export const KEY_COLUMNS: Readonly<Record<keyof KeyPatch, string>> = Object.freeze({
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
