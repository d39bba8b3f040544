/**
 * The audit-log port (DESIGN §5, issue 4): the durable, hash-chained CloudTrail trail and its
 * signed digests, as the audit writer thread, `LookupEvents` and `keyhold audit verify|export`
 * see it. Synchronous on purpose: the SQLite adapter runs inside a worker thread (writes) or
 * answers small indexed queries (reads), so nothing here ever blocks an event loop on fsync.
 *
 * The trail is one chain shared by every process of a deployment: each commit takes the
 * database's write lock, reads the chain head, links its events after it and moves the head,
 * so processes interleave whole batches and the chain stays linear.
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

/** The end of the chain. */
export interface ChainHead {
  /** Position of the newest event (0 before the first). */
  readonly seq: number;
  /** Chain value after that event (the genesis value before the first). */
  readonly hash: Buffer;
}

/** A stored event. */
export interface AuditEventRow {
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
  readonly resourceTypes: string;
  readonly body: string;
  readonly prevHash: Buffer;
  readonly hash: Buffer;
}

/** A stored digest: its JSON text and the hex Ed25519 signature over its signing string. */
export interface AuditDigestRow {
  readonly seq: number;
  readonly body: string;
  readonly signature: string;
}

/** Link function: the chain value after appending `body` to a chain ending in `prev`. */
export type ChainLink = (prev: Buffer, body: string) => Buffer;

/** Builds the next digest from the head and the newest stored digest; undefined = write none. */
export type DigestBuilder = (head: ChainHead, last: AuditDigestRow | undefined) => AuditDigestRow | undefined;

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
  /** Continue strictly after this (time, seq) in newest-first order. */
  readonly after?: { readonly time: number; readonly seq: number };
  readonly limit: number;
}

/** What a full trail check needs besides the events themselves. */
export interface AuditLogMeta {
  readonly trailId: string;
  readonly publicKeyPem: string | undefined;
  readonly head: ChainHead;
  /** Set by retention: events up to this seq and digests up to this digest were pruned. */
  readonly prunedThroughSeq: number;
  readonly prunedThroughDigest: number;
}

/** The audit log. */
export interface AuditLog {
  /** Creates the trail's identity and genesis head unless they exist (the primary, at start). */
  initialize(create: () => { trailId: string; genesis: Buffer }): AuditLogMeta;
  /** Trail identity and chain head; throws if the trail was never initialized. */
  meta(): AuditLogMeta;
  /** A named setting (e.g. the wrapped signing key). */
  getSetting(name: string): string | undefined;
  /** A small durable write that changes nothing else: probes whether the database is writable. */
  touch(now: number): void;
  /** Sets `name` unless it exists; returns the stored value. */
  setSettingIfAbsent(name: string, value: string): string;
  /** Appends `events` after the head and stores `intents`, in one durable transaction. */
  commit(events: readonly AuditAppend[], intents: readonly AuditIntent[], link: ChainLink): ChainHead;
  /** Appends the events of the intents `pick` selects and removes them, in one transaction. */
  recoverIntents(pick: (intent: AuditIntent) => boolean, link: ChainLink): number;
  /** Writes the digest `build` returns, atomically with reading the head it covers. */
  writeDigest(build: DigestBuilder): AuditDigestRow | undefined;
  /**
   * Retention: deletes events through `eventSeq` and digests through `digestSeq`, records the
   * cut, and writes the digest `build` returns (which declares the cut), in one transaction.
   */
  prune(eventSeq: number, digestSeq: number, build: DigestBuilder): number;
  /** A LookupEvents page, newest first. */
  lookup(q: LookupQuery): AuditEventRow[];
  /** Events with from <= seq <= to, in chain order. */
  events(from: number, to?: number): IterableIterator<AuditEventRow>;
  /** Every stored digest, in order. */
  digests(): AuditDigestRow[];
  /** The seq of the event whose chain value is `hash`, if any (slow: a scan; verify uses it only on a break). */
  findByHash(hash: Buffer): number | undefined;
  /** Number of rows in the resource index. */
  resourceRows(): number;
  /** Pending intents (diagnostics and tests). */
  intents(): AuditIntent[];
  close(): void;
}
