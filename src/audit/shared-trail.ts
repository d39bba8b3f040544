/**
 * The audit trail as a node's primary process runs it when several nodes share one PostgreSQL
 * database (issue 14); trail.ts is the single-node (SQLite) counterpart with the same surface
 * for main.ts: `writer`, `serviceEvent`, `workerExited`, `close`.
 *
 * Streams: every process of every node claims its own stream from the database
 * (store/postgres/audit-stream-claim.ts) and appends to it through its own sink; a record is
 * durable in PostgreSQL (synchronous_commit on) before the request is answered. Orphaned intents
 * (a process killed between intent and record) are recovered by whichever live claimant's
 * heartbeat sees the dead claim expire, not by this object: on PostgreSQL a dead worker's
 * claim is indistinguishable from a dead node's.
 *
 * Digests — one chain for the whole deployment, each naming every stream's head, which is what
 * `keyhold audit verify` checks (a digest per stream would need another verifier and would let
 * a truncated stream's digests vanish with it):
 *  - Interval digests are written only by the holder of the `audit-digests` lease (src/store/lease.ts),
 *    so a deployment of N nodes adds one digest per interval, not N, and one node's clock times
 *    them. Every node can sign (the signing key is wrapped by the shared root of trust in the
 *    database), so when the holder dies another node takes the lease over and the chain continues.
 *  - Start and shutdown digests are written by every node: a stopping node's last records are
 *    signed before it goes, rather than an interval later by a node that may never come.
 *  - Whoever writes, the digest is built inside one transaction under an advisory lock from the
 *    previous digest and the heads read there (audit-log-postgres.ts `writeDigest`), so writers
 *    on two nodes at once make one chain, never a fork; a digest's end time is never earlier
 *    than its predecessor's, whatever the nodes' clocks say.
 *
 * Retention (KEYHOLD_AUDIT_RETENTION_DAYS), by the holder of the `audit-digests` lease after its
 * interval digest, as trail.ts does on SQLite: the newest digest that ended before the horizon
 * marks the cut. A signed `prune` digest declares it and the older digests are deleted, in one
 * transaction; the records through the cut are deleted after it, in chunks, so a crash midway
 * leaves only records the trail already says may be gone (the next round takes them).
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock';
import type { AuditDigestRow, PruneDecision, PruneView } from '../store/audit-log';
import type { Lease } from '../store/lease';
import type { KeyRecord } from '../store/records';
import type { RootOfTrust } from '../trust/root-of-trust';
import { nextDigest, signDigest, type Digest, type DigestReason, type NextDigest } from './chain';
import { deliverDigest, deliveredSeqs } from './digest-copy';
import { Periodic } from './periodic';
import { ServiceEvents, type TrailLogger } from './service-events';
import { openSigningKey, type SigningKey, type SigningKeySettings } from './signing-key';
import type { AuditSink } from './sink';

/** Name of the lease under which interval digests are written. */
export const DIGEST_LEASE = 'audit-digests';

/** The sink of one process of a shared deployment (its own claimed stream). */
export interface SharedTrailSink extends AuditSink {
  readonly stream: number;
  /** Waits until nothing is queued or in flight. */
  drain(): Promise<void>;
  /** Commits what is queued, then gives the stream up. */
  close(): Promise<void>;
}

/** The trail's settings and digests in the shared database (store/postgres/audit-log-postgres.ts). */
export interface SharedDigestLog extends SigningKeySettings {
  trailId(): Promise<string>;
  /** Writes the digest `build` returns from every stream's head and the newest digest, atomically and serialised across nodes. */
  writeDigest(
    build: (heads: ReadonlyMap<number, { seq: number; hash: Buffer }>, last: AuditDigestRow | undefined) => AuditDigestRow | undefined,
  ): Promise<AuditDigestRow | undefined>;
  digests(): Promise<AuditDigestRow[]>;
  /** Retention, step 1 (store/postgres/audit-log-postgres.ts): `decide` runs under the digests' lock; its digest and deletions are stored atomically. */
  declarePrune(decide: (view: PruneView) => Promise<PruneDecision>): Promise<PruneDecision>;
  /** Retention, step 2: deletes each stream's records through its declared cut; returns how many. */
  deletePruned(cuts: ReadonlyMap<number, number>): Promise<number>;
}

/** What the primary's shared trail needs (main.ts opens each through src/adapters.ts). */
export interface SharedAuditTrailOptions {
  /** This process's sink (its claimed stream): service events go here. */
  readonly sink: SharedTrailSink;
  readonly log: SharedDigestLog;
  /** The `audit-digests` lease, heartbeating; released at close. */
  readonly digestLease: Lease;
  readonly trust: RootOfTrust;
  /** Where this node keeps a copy of the public signing key (its data directory). */
  readonly publicKeyPath: string;
  readonly clock: Clock;
  readonly logger: TrailLogger;
  readonly digestIntervalMs: number;
  /** Where every digest this node writes (and any it has not delivered yet) is also delivered. */
  readonly digestCopyDir?: string;
  /** Records and digests older than this are pruned (0: kept forever). */
  readonly retentionMs?: number;
}

/** What a written digest covered (for the log). */
export interface SharedDigestSummary {
  readonly digestSeq: number;
  readonly streams: number;
}

/** The primary's trail on a shared database. */
export class SharedAuditTrail {
  readonly writer: SharedTrailSink;
  readonly #o: SharedAuditTrailOptions;
  readonly #key: SigningKey;
  readonly #trailId: string;
  readonly #rounds: Periodic;
  /** Lifecycle actions' records; a failed one is retried every interval and at shutdown. */
  readonly #serviceEvents: ServiceEvents;
  /** The newest digest known delivered to the copy directory (undefined until the first delivery). */
  #deliveredThrough: number | undefined;

  private constructor(o: SharedAuditTrailOptions, key: SigningKey, trailId: string) {
    this.#o = o;
    this.writer = o.sink;
    this.#serviceEvents = new ServiceEvents((r) => o.sink.append(r), o.logger);
    this.#key = key;
    this.#trailId = trailId;
    this.#rounds = new Periodic(o.digestIntervalMs, () => this.#periodic());
  }

  /** Opens the signing key (creating it if this node is the first), writes a start digest, and schedules interval digests. */
  static async open(o: SharedAuditTrailOptions): Promise<SharedAuditTrail> {
    const trailId = await o.log.trailId();
    const key = await openSigningKey(o.log, o.trust, o.publicKeyPath);
    const trail = new SharedAuditTrail(o, key, trailId);
    const d = await trail.digest('start');
    o.logger.info({ trailId, stream: o.sink.stream, digest: d?.digestSeq, streams: d?.streams, fingerprint: key.fingerprint }, 'audit trail open (PostgreSQL)');
    trail.#rounds.start();
    return trail;
  }

  async #periodic(): Promise<void> {
    try {
      await this.#serviceEvents.retry();
      if (!this.#o.digestLease.held()) return;
      await this.digest('interval');
      if ((this.#o.retentionMs ?? 0) > 0) await this.prune();
    } catch (err) {
      this.#o.logger.error({ err }, 'audit: periodic digest failed');
    }
  }

  /**
   * Writes a digest of every stream's head (see the file comment for who writes which): at start,
   * on the lease holder's interval and at shutdown; tests call it with a manual clock.
   */
  async digest(reason: DigestReason): Promise<SharedDigestSummary | undefined> {
    const row = await this.#o.log.writeDigest((heads, last) => this.#signNext(heads, last, reason).row);
    if (row === undefined) return undefined;
    await this.#deliver(row);
    return { digestSeq: row.seq, streams: (JSON.parse(row.body) as Digest).streams.length };
  }

  /**
   * Applies retention once (see the file comment); returns how many records were deleted. Runs
   * on the lease holder's interval; public for tests, which drive it with a manual clock.
   */
  async prune(): Promise<number> {
    const horizon = this.#o.clock.now() - (this.#o.retentionMs ?? 0);
    const decision = await this.#o.log.declarePrune(async ({ heads, last, first, digestAt }) => {
      if (last === undefined) return { cuts: new Map() };
      const declared = new Map((JSON.parse(last.body) as Digest).streams.map((s) => [s.stream, s.prunedThroughSeq]));
      const cut = await newestEndedBefore(horizon, first, last.seq, digestAt);
      if (cut === undefined) return { cuts: declared };
      const throughSeq = new Map(cut.streams.map((s) => [s.stream, Math.max(s.lastSeq, declared.get(s.stream) ?? 0)]));
      if ([...throughSeq].every(([s, seq]) => seq <= (declared.get(s) ?? 0))) return { cuts: declared };
      // Keep the cut digest: its end hashes anchor the first records that remain.
      const next = this.#signNext(heads, last, 'prune', { throughDigest: cut.digestSeq - 1, throughSeq });
      return { digest: next.row, throughDigest: cut.digestSeq - 1, cuts: new Map(next.digest.streams.map((s) => [s.stream, s.prunedThroughSeq])) };
    });
    if (decision.digest !== undefined) await this.#deliver(decision.digest);
    const removed = await this.#o.log.deletePruned(decision.cuts);
    if (removed > 0) this.#o.logger.info({ pruned: removed }, 'audit: pruned events past the retention period');
    return removed;
  }

  /** The signed digest after `last` (its end never before its predecessor's, whatever this node's clock says). */
  #signNext(heads: ReadonlyMap<number, { seq: number; hash: Buffer }>, last: AuditDigestRow | undefined, reason: DigestReason, prune?: NextDigest['prune']): { digest: Digest; row: AuditDigestRow } {
    const prevEnd = last === undefined ? Number.NEGATIVE_INFINITY : Date.parse((JSON.parse(last.body) as Digest).digestEndTime);
    const now = Math.max(this.#o.clock.now(), prevEnd);
    const digest = nextDigest(heads, last, { trailId: this.#trailId, reason, now, fingerprint: this.#key.fingerprint, ...(prune === undefined ? {} : { prune }) });
    return { digest, row: { seq: digest.digestSeq, ...signDigest(digest, this.#key.privateKey) } };
  }

  /** Delivers `row` to the copy directory, with every stored digest not there yet after a failure or a start. */
  async #deliver(row: AuditDigestRow): Promise<void> {
    const dir = this.#o.digestCopyDir;
    if (dir === undefined) return;
    try {
      if (this.#deliveredThrough === row.seq - 1) {
        deliverDigest(dir, this.#trailId, row);
      } else {
        const have = deliveredSeqs(dir, this.#trailId);
        for (const r of await this.#o.log.digests()) if (!have.has(r.seq)) deliverDigest(dir, this.#trailId, r);
      }
      this.#deliveredThrough = row.seq;
    } catch (e) {
      this.#deliveredThrough = undefined;
      this.#o.logger.error({ digest: row.seq, dir, reason: (e as Error).message }, 'audit: the digest could not be delivered to the copy directory; retried with the next digest');
    }
  }

  /**
   * Records a lifecycle action the service took on its own (as trail.ts does): a record that
   * fails is kept and retried every interval and at shutdown.
   */
  async serviceEvent(eventName: string, key: KeyRecord, at: number): Promise<void> {
    await this.#serviceEvents.record(eventName, key, at);
  }

  /**
   * A worker died. Nothing to do here: its stream's claim lapses within the claim's expiry and
   * the next heartbeat of any live claimant on any node records its orphaned intents
   * (audit-stream-claim.ts), exactly once.
   */
  async workerExited(_pid: number): Promise<void> {}

  /** Shutdown: waits for queued records, writes the closing digest, gives up the stream and the lease. */
  async close(): Promise<void> {
    await this.#rounds.stop();
    await this.#serviceEvents.flush();
    await this.writer.drain();
    try {
      await this.digest('shutdown');
    } catch (err) {
      this.#o.logger.error({ err }, 'audit: the shutdown digest could not be written');
    }
    await this.writer.close();
    await this.#o.digestLease.release();
  }
}

/**
 * The newest stored digest (numbers first..last, contiguous) that ended before `horizon`, by
 * binary search: end times never decrease along the chain.
 */
async function newestEndedBefore(
  horizon: number, first: number, last: number, digestAt: (seq: number) => Promise<AuditDigestRow | undefined>,
): Promise<Digest | undefined> {
  let found: Digest | undefined;
  for (let lo = first, hi = last; lo <= hi; ) {
    const mid = Math.floor((lo + hi) / 2);
    const row = await digestAt(mid);
    const d = row === undefined ? undefined : (JSON.parse(row.body) as Digest);
    if (d !== undefined && Date.parse(d.digestEndTime) < horizon) {
      found = d;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/** A new trail id (the first node to open the shared trail creates it). */
export function newTrailId(): string {
  return randomUUID();
}
