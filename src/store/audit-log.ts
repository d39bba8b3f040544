/**
 * The audit-log port (docs/architecture.md §5, issue 4): the durable, hash-chained CloudTrail trail and its
 * signed digests, as the audit writer threads, `LookupEvents` and `keyhold audit verify|export`
 * see it. Synchronous on purpose: the SQLite adapter runs inside a worker thread (writes) or
 * answers small indexed queries (reads), so nothing here ever blocks an event loop on fsync.
 * Readers (verify, export, LookupEvents) go through the asynchronous `AuditReader` of
 * audit-reader.ts, which adapts this store as it is and is implemented for PostgreSQL too.
 *
 * Streams: every writing process (the primary is stream 0, worker slot k is stream k) appends to
 * its own stream — its own chain in its own file — so processes never wait on each other's
 * fsync. Digests (trail-wide, signed) name the head of every stream.
 *
 * A SQLite deployment makes commits durable through a per-stream journal (one fdatasync'd frame
 * per commit, sqlite/audit-journal.ts) with the SQLite files written behind it; a PostgreSQL
 * adapter (issue 14) would commit synchronously instead. The hot path of a commit only appends records. The lookup index is derived data, built in
 * bulk after the commit has been acknowledged; lookups also scan the few records not yet
 * indexed, so they always see every acknowledged record.
 */

/** A resource an event names (CloudTrail `resources[]`). */
export interface AuditResource {
  /** e.g. AWS::KMS::Key */
  readonly type: string;
  /** The resource ARN. */
  readonly name: string;
}

/** One event to append, with the columns LookupEvents filters on (all derived from `body`). */
export interface AuditAppend {
  /** The CloudTrail record, exactly as stored, hashed and returned. */
  readonly body: string;
  /** eventTime in epoch milliseconds. */
  readonly time: number;
  readonly eventId: string;
  /** recipientAccountId; '' when no account can be named (e.g. an unknown access key). */
  readonly account: string;
  readonly eventName: string;
  readonly eventSource: string;
  readonly readOnly: boolean;
  readonly username: string | null;
  readonly accessKeyId: string | null;
  readonly requestId: string | null;
  readonly resources: readonly AuditResource[];
  /** The intent this event completes; removed in the same transaction. */
  readonly completes?: string;
}

/**
 * A durable note written before a mutating operation runs: if the request's own event never
 * lands (crash, failing disk), recovery appends `event`, which records the outcome as unknown.
 */
export interface AuditIntent {
  readonly id: string;
  /** Process id of the writer that owns it. */
  readonly owner: number;
  readonly createdAt: number;
  readonly event: AuditAppend;
}

/** The end of a stream's chain. */
export interface ChainHead {
  /** Position of the newest event (0 before the first). */
  readonly seq: number;
  /** Chain value after that event (the genesis value before the first). */
  readonly hash: Buffer;
}

/** A stored event. */
export interface AuditEventRow {
  readonly stream: number;
  readonly seq: number;
  readonly time: number;
  readonly eventId: string;
  readonly account: string;
  readonly eventName: string;
  readonly eventSource: string;
  readonly readOnly: boolean;
  readonly username: string | null;
  readonly accessKeyId: string | null;
  readonly requestId: string | null;
  /** Distinct resource types, sorted, comma-joined. */
  readonly resourceTypes: string;
  /** Distinct resource ARNs, in record order, newline-joined. */
  readonly resourceNames: string;
  readonly body: string;
  readonly prevHash: Buffer;
  readonly hash: Buffer;
}

/** What retention's decision sees (a shared trail's retention: postgres/audit-log-postgres.ts declarePrune). */
export interface PruneView {
  readonly heads: ReadonlyMap<number, { seq: number; hash: Buffer }>;
  /** The newest digest (undefined: none yet). */
  readonly last: AuditDigestRow | undefined;
  /** The number of the oldest digest stored (0: none). */
  readonly first: number;
  digestAt(seq: number): Promise<AuditDigestRow | undefined>;
}

/** Retention's decision: a digest declaring a new cut (or none), and every stream's declared cut. */
export interface PruneDecision {
  readonly digest?: AuditDigestRow;
  /** Digests through this number are deleted with the new digest's insertion. */
  readonly throughDigest?: number;
  readonly cuts: ReadonlyMap<number, number>;
}

/** A stored digest: its JSON text and the hex Ed25519 signature over its signing string. */
export interface AuditDigestRow {
  readonly seq: number;
  readonly body: string;
  readonly signature: string;
}

/** Link function: the chain value after appending `body` to a chain ending in `prev`. */
export type ChainLink = (prev: Buffer, body: string) => Buffer;

/** LookupEvents attribute keys (CloudTrail API reference, LookupAttribute). */
export type LookupAttributeKey =
  | 'EventId'
  | 'EventName'
  | 'ReadOnly'
  | 'Username'
  | 'ResourceType'
  | 'ResourceName'
  | 'EventSource'
  | 'AccessKeyId';

/** One LookupEvents page request. Times are epoch ms, inclusive. */
export interface LookupQuery {
  readonly account: string;
  readonly attribute?: { readonly key: LookupAttributeKey; readonly value: string };
  readonly startTime?: number;
  readonly endTime?: number;
  /** Continue strictly after this event in newest-first (time, stream, seq) order. */
  readonly after?: { readonly time: number; readonly stream: number; readonly seq: number };
  readonly limit: number;
}

/** A stream's bookkeeping. */
export interface StreamInfo {
  readonly trailId: string;
  readonly stream: number;
  readonly head: ChainHead;
  /** Records up to here are in the lookup index. */
  readonly indexedThrough: number;
  /** Records up to here were removed by retention. */
  readonly prunedThrough: number;
}

/** One stream: a chain of records in its own file. */
export interface AuditStream {
  readonly stream: number;
  /** Creates the stream's bookkeeping unless it exists. */
  initialize(trailId: string, genesis: Buffer): StreamInfo;
  /** Throws if the stream was never initialized. */
  info(): StreamInfo;
  /**
   * Appends `events` after the head, stores `intents`, and appends the events of the intents
   * `recover` names (removing them), in one durable transaction.
   */
  commit(events: readonly AuditAppend[], intents: readonly AuditIntent[], recover: readonly string[], link: ChainLink): ChainHead;
  /** Adds up to `max` not yet indexed records to the lookup index (no fsync: derived data); returns how many. */
  index(max: number): number;
  /** Moves committed WAL content into the database file without blocking writers. */
  checkpoint(): void;
  /** A small durable write that changes nothing else: probes whether the file is writable. */
  touch(now: number): void;
  /** Appends the events of the intents `pick` selects and removes them, in one transaction. */
  recoverIntents(pick: (intent: AuditIntent) => boolean, link: ChainLink): number;
  /** Retention: deletes records through `seq` (and their index rows). */
  prune(seq: number): number;
  /** Records with from <= seq <= to, in chain order. */
  events(from: number, to?: number): IterableIterator<AuditEventRow>;
  /** The seq of the record whose chain value is `hash` (a scan; verify uses it only on a break). */
  findByHash(hash: Buffer): number | undefined;
  /** Whether the lookup index holds exactly the entries its indexed records imply (a full scan). */
  indexConsistent(): boolean;
  /** Pending intents (diagnostics and tests). */
  intents(): AuditIntent[];
  close(): void;
}

/** The trail: its streams, its settings and its digests. */
export interface AuditStore {
  /** Trail identity (creating it on first use by the primary). */
  initialize(create: () => string): string;
  /** The trail id; throws if the trail was never created. */
  trailId(): string;
  getSetting(name: string): string | undefined;
  /** Sets `name` unless it exists; returns the stored value. */
  setSettingIfAbsent(name: string, value: string): string;
  /** Stream numbers present (re-read each call: workers may add streams). */
  streamIds(): number[];
  /** A stream (opened on first use, created when the store is writable). */
  stream(n: number): AuditStream;
  /** Every stored digest, in order. */
  digests(): AuditDigestRow[];
  /** Writes the digest `build` returns (given the newest stored one), atomically. */
  writeDigest(build: (last: AuditDigestRow | undefined) => AuditDigestRow | undefined): AuditDigestRow | undefined;
  /** Retention: deletes digests through `seq`. */
  deleteDigestsThrough(seq: number): void;
  /** A LookupEvents page across every stream, newest first. */
  lookup(q: LookupQuery): AuditEventRow[];
  close(): void;
}
