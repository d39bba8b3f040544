/**
 * The ChangeFeed port (docs/architecture.md §5, issue 13): tells every process which entities
 * other transactions — of this process, of another worker process, of another node — changed,
 * so one cache layer (src/store/cache.ts) drops exactly those entries and operations never
 * invalidate caches by hand.
 *
 * SQLite: triggers append each change to a `changes` table; `PRAGMA data_version` on the read
 * connection says cheaply whether anything was committed since the last look, and only then is
 * the table read. PostgreSQL (src/store/postgres/postgres-change-feed.ts): no table — triggers
 * NOTIFY each committed change, one LISTEN connection per process, the writer waits for its own
 * commit mark, the workers of a node share a marks file, and a lost or silent listener means
 * "everything changed".
 */

/**
 * What a change concerns:
 * - `key`: a key's row, versions or tags (id: key ARN);
 * - `alias`: one alias (id: `account:region:alias/name`);
 * - `key-aliases`: the set of aliases naming a key (id: key ARN);
 * - `grant`: the grants of a key (id: key ARN);
 * - `identity`: any account, IAM, Organizations or access-key data (id: empty).
 */
export type EntityKind = 'key' | 'alias' | 'key-aliases' | 'grant' | 'identity';

/** One changed entity. */
export interface Change {
  readonly entity: EntityKind;
  readonly id: string;
}

/** Receives changes in commit order; 'everything' when the feed lost track (its history was pruned past it). */
export type ChangeListener = (changes: readonly Change[] | 'everything') => void;

/** The port. */
export interface ChangeFeed {
  /** Adds a listener; it hears of changes committed after this call. */
  subscribe(listener: ChangeListener): void;
  /**
   * Delivers, synchronously, what was committed since the last delivery. Cheap when nothing
   * changed; the SQLite adapter looks at most once per turn of the event loop, and at once
   * after each of this process's own commits.
   */
  refresh(): void;
}

/** The id of an `alias` change. */
export function aliasEntityId(accountId: string, region: string, aliasName: string): string {
  return `${accountId}:${region}:${aliasName}`;
}
