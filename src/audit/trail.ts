/**
 * The audit trail as the primary process runs it (issue 4): creates the trail and its signing
 * key on first start, recovers the records of requests whose processes died before their record
 * landed, writes signed digests (at start, every interval, on shutdown), applies retention, and
 * records the service's own lifecycle actions as `AwsServiceEvent`s.
 *
 * Streams: every process (the primary and each worker slot) has its own writer thread appending
 * to its own stream — a hash chain in its own file — so no process ever waits for another's
 * fsync. Only the primary holds the unwrapped signing key; its digests name every stream's head.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock';
import type { AuditStore } from '../store/audit-log';
import type { KeyRecord } from '../store/records';
import type { RootOfTrust } from '../trust/root-of-trust';
import { genesisHash, type DigestReason } from './chain';
import type { AuditTestHooks, DigestSummary } from './thread-protocol';
import { Periodic } from './periodic';
import { ServiceEvents, type TrailLogger } from './service-events';
import { openSigningKey } from './signing-key';
import { AuditWriter } from './writer';

/** Intents older than this are orphans even if their process seems alive (requests time out after 60 s). */
export const STALE_INTENT_MS = 5 * 60_000;

/** Options of the primary's trail. */
export interface AuditTrailOptions {
  /** The trail, opened read-write by main.ts (it chooses the adapter). */
  readonly store: AuditStore;
  /** The trail's directory (for the writer thread). */
  readonly dir: string;
  /** Streams to create before workers start: 0 (the primary) and one per worker slot. */
  readonly streams: readonly number[];
  /** The compiled writer-thread entry. */
  readonly threadScript: string;
  readonly trust: RootOfTrust;
  /** Where the public signing key is kept beside the trail. */
  readonly publicKeyPath: string;
  readonly clock: Clock;
  readonly logger: TrailLogger;
  readonly digestIntervalMs: number;
  /** Where every digest is also delivered as it is written (--audit-digest-copy), if anywhere. */
  readonly digestCopyDir?: string;
  /** 0 = keep everything. */
  readonly retentionMs: number;
  /** Tests only: injected failures and limits for the writer thread (thread-protocol.ts). */
  readonly testHooks?: AuditTestHooks;
}

/** The primary's audit trail. */
export class AuditTrail {
  readonly writer: AuditWriter;
  readonly #opts: AuditTrailOptions;
  readonly #rounds: Periodic;
  /** Lifecycle actions' records; a failed one is retried every interval and at shutdown. */
  readonly #serviceEvents: ServiceEvents;

  private constructor(opts: AuditTrailOptions, writer: AuditWriter) {
    this.#opts = opts;
    this.writer = writer;
    this.#serviceEvents = new ServiceEvents((r) => writer.append(r), opts.logger);
    this.#rounds = new Periodic(opts.digestIntervalMs, () => this.#periodic());
  }

  /** Opens (creating if needed) the trail, recovers orphaned intents and writes a start digest. */
  static async open(opts: AuditTrailOptions): Promise<AuditTrail> {
    const trailId = opts.store.initialize(() => randomUUID());
    for (const n of opts.streams) opts.store.stream(n).initialize(trailId, genesisHash(trailId, n));
    const key = await openSigningKey(opts.store, opts.trust, opts.publicKeyPath);
    const writer = new AuditWriter({
      threadScript: opts.threadScript,
      dir: opts.dir,
      stream: 0,
      logger: opts.logger,
      digestCopyDir: opts.digestCopyDir,
      ...(opts.testHooks === undefined ? {} : { testHooks: opts.testHooks }),
    });
    await writer.setSigningKey(key.privateKey, key.fingerprint);
    const trail = new AuditTrail(opts, writer);
    const now = opts.clock.now();
    // This process holds the data directory's lock and has started no worker yet, so every
    // intent left by another process is an orphan, whatever its pid now names (a zombie, or a
    // reused pid) — no liveness guess needed.
    const recovered = await writer.recover(now, STALE_INTENT_MS, [], true);
    if (recovered > 0) opts.logger.warn({ recovered }, 'audit: recorded requests whose outcome is unknown (their process stopped before their record was written)');
    const d = await trail.#digest('start', now);
    opts.logger.info({ trailId, digest: d?.digestSeq, streams: d?.streams.length, fingerprint: key.fingerprint }, 'audit trail open');
    trail.#rounds.start();
    return trail;
  }

  async #periodic(): Promise<void> {
    const now = this.#opts.clock.now();
    try {
      await this.#serviceEvents.retry();
      await this.writer.recover(now, STALE_INTENT_MS);
      await this.#digest('interval', now);
      if (this.#opts.retentionMs > 0) {
        const pruned = await this.writer.prune(now, this.#opts.retentionMs);
        if (pruned > 0) this.#opts.logger.info({ pruned }, 'audit: pruned events past the retention period');
      }
    } catch (err) {
      this.#opts.logger.error({ err }, 'audit: periodic digest failed');
    }
  }

  /**
   * Records a lifecycle action the service took on its own, once it is done (resolves once
   * durable). The action cannot be undone, so a record that fails is kept and retried every
   * interval and at shutdown rather than failing the job; only a crash while the trail is failing
   * can lose it.
   */
  async serviceEvent(eventName: string, key: KeyRecord, at: number): Promise<void> {
    await this.#serviceEvents.record(eventName, key, at);
  }

  /** Writes a digest; a copy that could not be delivered is logged (the digest itself is stored). */
  async #digest(reason: DigestReason, now: number): Promise<DigestSummary | undefined> {
    const d = await this.writer.digest(reason, now);
    if (d?.copyError !== undefined) {
      this.#opts.logger.error({ digest: d.digestSeq, dir: this.#opts.digestCopyDir, reason: d.copyError }, 'audit: the digest could not be delivered to the copy directory; retried with the next digest');
    }
    return d;
  }

  /** A worker process died: record its requests that never got their own record. */
  async workerExited(pid: number): Promise<void> {
    try {
      const n = await this.writer.recover(this.#opts.clock.now(), STALE_INTENT_MS, [pid]);
      if (n > 0) this.#opts.logger.warn({ pid, recovered: n }, 'audit: recorded requests of a dead worker whose outcome is unknown');
    } catch (err) {
      this.#opts.logger.error({ err, pid }, 'audit: recovery after a worker exit failed');
    }
  }

  /** Shutdown: waits for queued records, writes the closing digest, stops the writer. */
  async close(): Promise<void> {
    await this.#rounds.stop();
    await this.#serviceEvents.flush();
    await this.writer.drain();
    try {
      await this.#digest('shutdown', this.#opts.clock.now());
    } catch (err) {
      this.#opts.logger.error({ err }, 'audit: the shutdown digest could not be written');
    }
    await this.writer.close();
    this.#opts.store.close();
  }
}
