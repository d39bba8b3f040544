/**
 * A task run every `intervalMs` after the previous run ended (never two at once), on an unref'd
 * timer; `stop()` cancels the next run and waits for one in progress. The trails' digest,
 * retention and retry rounds (trail.ts, shared-trail.ts).
 */
export class Periodic {
  readonly #intervalMs: number;
  readonly #run: () => Promise<void>;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(intervalMs: number, run: () => Promise<void>) {
    this.#intervalMs = intervalMs;
    this.#run = run;
  }

  start(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.#run().finally(() => this.start());
    }, this.#intervalMs).unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}
