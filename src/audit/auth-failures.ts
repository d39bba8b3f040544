/**
 * Requests that never authenticated (issue 11): they are kept out of tenants' trails — anyone
 * can claim another tenant's access key id, so recording them under the account that owns it
 * would let anyone flood that tenant's trail — and recorded in the operator trail instead, one
 * record per source address and minute with the count of each error and the access key ids
 * claimed. The first failure of a source in a minute opens its bucket; the bucket's record is
 * written when the minute is over (checked every few seconds) and at shutdown. A request that
 * fails authentication is answered without waiting for that record: a crash can lose up to a
 * minute of these counts, never a record of an authenticated request.
 *
 * Memory is bounded: at most MAX_BUCKETS sources per minute (the rest share one bucket with
 * source "*"), and at most MAX_KEY_IDS claimed access key ids per bucket.
 */
import { operatorRecord } from './event';
import { newEventId } from './event-id';
import type { AuditSink } from './sink';

const MINUTE_MS = 60_000;
const MAX_BUCKETS = 10_000;
const MAX_KEY_IDS = 16;
/** How often buckets of past minutes are written. */
const FLUSH_EVERY_MS = 5_000;

interface Bucket {
  readonly minute: number;
  readonly sourceIp: string;
  count: number;
  readonly errors: Map<string, number>;
  readonly operations: Map<string, number>;
  readonly accessKeyIds: Set<string>;
  /** Claimed ids beyond MAX_KEY_IDS. */
  moreKeyIds: number;
}

/** One failed, unauthenticated request. */
export interface AuthFailure {
  readonly time: number;
  readonly sourceIp: string;
  readonly errorCode: string;
  readonly eventName: string;
  readonly accessKeyId: string | null;
}

/** Counts unauthenticated requests per source and minute and writes one operator record for each. */
export class AuthFailureLog {
  readonly #sink: AuditSink;
  readonly #region: string;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(sink: AuditSink, region: string, now: () => number) {
    this.#sink = sink;
    this.#region = region;
    this.#now = now;
  }

  /** Counts one failure (no I/O). */
  add(f: AuthFailure): void {
    const minute = Math.floor(f.time / MINUTE_MS) * MINUTE_MS;
    let key = `${minute}\0${f.sourceIp}`;
    let b = this.#buckets.get(key);
    if (b === undefined && this.#buckets.size >= MAX_BUCKETS) {
      key = `${minute}\0*`;
      b = this.#buckets.get(key);
    }
    if (b === undefined) {
      b = { minute, sourceIp: key.endsWith('\0*') ? '*' : f.sourceIp, count: 0, errors: new Map(), operations: new Map(), accessKeyIds: new Set(), moreKeyIds: 0 };
      this.#buckets.set(key, b);
    }
    b.count += 1;
    b.errors.set(f.errorCode, (b.errors.get(f.errorCode) ?? 0) + 1);
    if (b.operations.size < MAX_KEY_IDS || b.operations.has(f.eventName)) b.operations.set(f.eventName, (b.operations.get(f.eventName) ?? 0) + 1);
    if (f.accessKeyId !== null && !b.accessKeyIds.has(f.accessKeyId)) {
      if (b.accessKeyIds.size < MAX_KEY_IDS) b.accessKeyIds.add(f.accessKeyId);
      else b.moreKeyIds += 1;
    }
    this.#timer ??= setInterval(() => void this.flush(false), FLUSH_EVERY_MS).unref();
  }

  /** Writes the records of past minutes (all buckets with `all`); a bucket whose write fails is kept for the next try. */
  flush(all: boolean): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#flush(all));
    return this.#flushing;
  }

  async #flush(all: boolean): Promise<void> {
    const current = Math.floor(this.#now() / MINUTE_MS) * MINUTE_MS;
    const due: [string, Bucket][] = [];
    for (const [k, b] of this.#buckets) if (all || b.minute < current) due.push([k, b]);
    if (due.length === 0) {
      if (this.#buckets.size === 0 && this.#timer !== undefined) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
      return;
    }
    for (const [k] of due) this.#buckets.delete(k);
    const results = await Promise.allSettled(due.map(([, b]) => this.#sink.append(this.#record(b))));
    results.forEach((r, i) => {
      if (r.status === 'rejected') {
        const [k, b] = due[i] as [string, Bucket];
        if (!this.#buckets.has(k)) this.#buckets.set(k, b);
      }
    });
  }

  #record(b: Bucket): ReturnType<typeof operatorRecord> {
    const time = Math.min(this.#now(), b.minute + MINUTE_MS - 1);
    return operatorRecord({
      time,
      eventId: newEventId(time),
      eventName: 'KeyholdUnauthenticatedRequests',
      region: this.#region,
      sourceIp: b.sourceIp,
      additionalEventData: {
        minuteStart: new Date(b.minute).toISOString(),
        requests: b.count,
        errorCodes: Object.fromEntries(b.errors),
        eventNames: Object.fromEntries(b.operations),
        claimedAccessKeyIds: [...b.accessKeyIds],
        ...(b.moreKeyIds > 0 ? { moreClaimedAccessKeyIds: b.moreKeyIds } : {}),
      },
    });
  }

  /** Shutdown: writes every bucket. */
  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush(true);
  }
}
