/**
 * The audit trail's read port (issue 14): what `keyhold audit verify`, `keyhold audit export` and
 * CloudTrail LookupEvents need from a trail, asynchronous so one reader logic serves SQLite
 * (answered synchronously on the caller's thread, as before) and PostgreSQL (a round trip per
 * page). The write side stays where it was (audit-log.ts `AuditStream.commit`, the `AuditSink`
 * port of src/audit/sink.ts).
 *
 * `auditReaderOf` adapts any synchronous `AuditStore` (the SQLite trail) without changing what
 * it returns; the PostgreSQL reader is store/postgres/audit-log-postgres.ts `PostgresAuditReader`.
 */
import type { AuditDigestRow, AuditEventRow, AuditStore, ChainHead, LookupQuery } from './audit-log';

/** A trail as its readers see it. */
export interface AuditReader {
  /** The trail id; rejects if the trail was never created. */
  trailId(): Promise<string>;
  getSetting(name: string): Promise<string | undefined>;
  /** Stream numbers present, ascending. */
  streamIds(): Promise<number[]>;
  /** The head of stream `stream`'s chain as its bookkeeping records it. */
  head(stream: number): Promise<ChainHead>;
  /**
   * Records of `stream` with from <= seq <= to, in chain order, read a page at a time; ending the
   * iteration early (`return()`) releases what it holds.
   */
  events(stream: number, from: number, to?: number): AsyncIterableIterator<AuditEventRow>;
  /** The seq of the record of `stream` whose chain value is `hash` (verify asks only on a break). */
  findByHash(stream: number, hash: Buffer): Promise<number | undefined>;
  /** Whether the stream's lookup index holds exactly what its records imply (true where the adapter keeps none apart). */
  indexConsistent(stream: number): Promise<boolean>;
  /** Every stored digest, in order. */
  digests(): Promise<AuditDigestRow[]>;
  /** A LookupEvents page across every stream, newest first in (time, stream, seq) order. */
  lookup(q: LookupQuery): Promise<AuditEventRow[]>;
  /** Releases what the reader holds (not the trail it was made from, unless it owns it). */
  close(): Promise<void>;
}

/** Whether `t` is already a reader (rather than a synchronous store). */
export function isAuditReader(t: AuditReader | AuditStore): t is AuditReader {
  return typeof (t as Partial<AuditReader>).head === 'function';
}

/**
 * The reader of a synchronous trail: every answer is the store's own, unchanged; `close()`
 * closes the store only when `owns` says so.
 */
export function auditReaderOf(store: AuditStore, owns = false): AuditReader {
  return {
    trailId: async () => store.trailId(),
    getSetting: async (name) => store.getSetting(name),
    streamIds: async () => store.streamIds(),
    head: async (stream) => store.stream(stream).info().head,
    async *events(stream, from, to) {
      // The store's iterator runs to its end or is returned with this generator (its finally).
      yield* store.stream(stream).events(from, to);
    },
    findByHash: async (stream, hash) => store.stream(stream).findByHash(hash),
    indexConsistent: async (stream) => store.stream(stream).indexConsistent(),
    digests: async () => store.digests(),
    lookup: async (q) => store.lookup(q),
    close: async () => {
      if (owns) store.close();
    },
  };
}

/** `t` as a reader (a synchronous store adapted, not owned). */
export function toAuditReader(t: AuditReader | AuditStore): AuditReader {
  return isAuditReader(t) ? t : auditReaderOf(t);
}
