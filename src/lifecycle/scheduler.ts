/**
 * The lifecycle scheduler (DESIGN §5): deletes keys whose deletion window has ended. It runs in
 * the primary process only, reads time from a Clock, and catches up after downtime because each
 * pass takes every key that is due, however late.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock';
import type { Store } from '../store/store';

const BATCH = 100;

/** Periodic lifecycle work. */
export class Scheduler {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #logger: Pick<Logger, 'info' | 'error'>;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> | undefined;

  constructor(store: Store, clock: Clock, logger: Pick<Logger, 'info' | 'error'>, intervalMs: number) {
    this.#store = store;
    this.#clock = clock;
    this.#logger = logger;
    this.#intervalMs = intervalMs;
  }

  /** Deletes every key that is due now; returns how many were deleted. */
  async runOnce(): Promise<number> {
    let deleted = 0;
    for (;;) {
      const now = this.#clock.now();
      const due = await this.#store.listKeysDueForDeletion(now, BATCH);
      if (due.length === 0) return deleted;
      for (const key of due) {
        if (await this.#store.deleteKeyIfDue(key.arn, now)) {
          deleted += 1;
          this.#logger.info({ keyArn: key.arn, event: 'DeleteKey' }, 'deleted key at the end of its waiting period');
        }
      }
      if (due.length < BATCH) return deleted;
    }
  }

  /** Runs now and then every interval until stopped. */
  start(): void {
    const tick = (): void => {
      this.#running = this.runOnce().catch((err: unknown) => {
        this.#logger.error({ err }, 'scheduler pass failed');
        return 0;
      });
      void this.#running.finally(() => {
        if (this.#timer !== undefined) this.#timer = setTimeout(tick, this.#intervalMs).unref();
      });
    };
    this.#timer = setTimeout(tick, 0).unref();
  }

  /** Stops and waits for a pass in progress. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}
