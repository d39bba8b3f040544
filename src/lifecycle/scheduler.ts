/**
 * The lifecycle scheduler (docs/architecture.md §5): runs lifecycle jobs — deletion at the end of a waiting
 * period, automatic rotation, expiry of imported material — in the primary process only, on an
 * injected Clock. Each pass takes everything that is due, however late, so it catches up after
 * downtime.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock';

/** One kind of lifecycle work. */
export interface LifecycleJob {
  readonly name: string;
  /** Does everything due at `now`; returns how many items it handled. */
  runOnce(now: number): Promise<number>;
}

/** Periodic lifecycle work. */
export class Scheduler {
  readonly #jobs: readonly LifecycleJob[];
  readonly #clock: Clock;
  readonly #logger: Pick<Logger, 'info' | 'error'>;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> | undefined;

  constructor(jobs: readonly LifecycleJob[], clock: Clock, logger: Pick<Logger, 'info' | 'error'>, intervalMs: number) {
    this.#jobs = jobs;
    this.#clock = clock;
    this.#logger = logger;
    this.#intervalMs = intervalMs;
  }

  /** Runs every job once at the clock's current time; returns the items handled. */
  async runOnce(): Promise<number> {
    let handled = 0;
    for (const job of this.#jobs) {
      try {
        handled += await job.runOnce(this.#clock.now());
      } catch (err) {
        this.#logger.error({ err, job: job.name }, 'lifecycle job failed');
      }
    }
    return handled;
  }

  /** Runs now and then every interval until stopped. */
  start(): void {
    const tick = (): void => {
      this.#running = this.runOnce();
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
