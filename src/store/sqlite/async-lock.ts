/**
 * A FIFO async mutex. better-sqlite3 is synchronous and one connection has one transaction: an
 * async transaction callback that awaits (even only microtasks) would let another request of the
 * same process run statements inside it. Every use of the write connection therefore takes
 * this lock first (issue 13).
 */

/** Runs callbacks one at a time, in call order. */
export class AsyncLock {
  #tail: Promise<unknown> = Promise.resolve();

  /** Runs `fn` once every earlier `run` has settled; resolves or rejects as `fn` does. */
  run<T>(fn: () => T | Promise<T>): Promise<T> {
    const result = this.#tail.then(fn);
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
