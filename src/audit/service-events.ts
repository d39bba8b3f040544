/**
 * Records of lifecycle actions the service took on its own (deletion, rotation, import expiry).
 * The action cannot be undone, so a record that fails is kept and retried every interval and at
 * shutdown rather than failing the job; only a crash while the trail is failing can lose it. One
 * copy for both trails (trail.ts on SQLite, shared-trail.ts on PostgreSQL).
 */
import type { KeyRecord } from '../store/records';
import type { AuditAppend } from '../store/audit-log';
import { serviceEventRecord } from './event';
import { newEventId } from './event-id';

/** What the trails log through (pino's Logger has it). */
export interface TrailLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export class ServiceEvents {
  #unrecorded: AuditAppend[] = [];

  constructor(
    private readonly append: (record: AuditAppend) => Promise<unknown>,
    private readonly logger: TrailLogger,
  ) {}

  /** Records `eventName` on `key` at `at` (resolves once durable, or once kept for a retry). */
  async record(eventName: string, key: KeyRecord, at: number): Promise<void> {
    const record = serviceEventRecord({
      time: at,
      eventId: newEventId(at),
      eventName,
      accountId: key.accountId,
      region: key.region,
      keyArn: key.arn,
      keyId: key.keyId,
    });
    try {
      await this.append(record);
    } catch (err) {
      this.#unrecorded.push(record);
      this.logger.error({ err, eventName, keyArn: key.arn }, 'audit: a service event could not be recorded yet; retrying');
    }
  }

  /** Tries the kept records again. */
  async retry(): Promise<void> {
    const pending = this.#unrecorded.splice(0);
    const results = await Promise.allSettled(pending.map((r) => this.append(r)));
    results.forEach((r, i) => {
      if (r.status === 'rejected') this.#unrecorded.push(pending[i] as AuditAppend);
    });
  }

  /** At shutdown: a last try, then says how many records are lost. */
  async flush(): Promise<void> {
    await this.retry();
    if (this.#unrecorded.length > 0) this.logger.error({ lost: this.#unrecorded.length }, 'audit: service events could not be recorded');
  }
}
