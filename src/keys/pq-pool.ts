/**
 * A small pool of post-quantum threads (src/keys/pq-thread.ts): ML-DSA and ML-KEM key expansion
 * run there, off the request thread and off libuv's shared pool (issue 10). Each thread runs one
 * job at a time and holds at most one more (`DEPTH`); further jobs wait in one FIFO queue. Threads start on first use and are
 * unreferenced while idle, so the pool never keeps a process alive.
 *
 * ML-KEM encapsulation and decapsulation run on the calling thread instead (`INLINE_OPS`).
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { PostQuantumJob, PostQuantumResult } from './pq-jobs';

const THREAD_SCRIPT = join(__dirname, 'pq-thread.js');

/** A job as callers give it (the pool numbers it). */
export type PostQuantumRequest = PostQuantumJob extends infer J ? (J extends PostQuantumJob ? Omit<J, 'id'> : never) : never;

interface Pending {
  readonly job: PostQuantumJob;
  readonly resolve: (r: PostQuantumResult) => void;
  readonly reject: (e: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  /** Jobs posted to the thread, oldest first (it answers them in order). */
  readonly inFlight: Pending[];
}

/**
 * Jobs a thread holds at once: the one it runs and the next, already in its message queue, so it
 * starts the next signature as soon as it finishes one instead of idling until this event loop
 * has taken the answer and posted another job (a wait of a turn of a busy loop; longer when the
 * niced thread and the loop compete for 2 cores with other processes). Queued jobs go to the
 * idlest thread first; a second job is posted only when every thread is busy.
 */
const DEPTH = 2;

/**
 * Jobs run on the calling thread. An ML-KEM-768 decapsulation takes ~0.6 ms of CPU
 * (@noble/post-quantum 0.7.1 on this project's 2-core test machine; encapsulation less, ML-KEM-1024
 * ~1 ms): about what the hop to a thread and back costs (structured clone, two wake-ups), and a
 * niced thread waits behind every other runnable process, so through the pool the API reached
 * only 28% of the library's own rate (issue 10, target ≥ 70%). Run inline, a decapsulation holds
 * the event loop about as long as a few requests' HTTP and SigV4 work, which keeps concurrent
 * requests' latency in the low milliseconds (bench/post-quantum.ts measures Encrypt during a
 * Decapsulate flood). ML-DSA (a signature ~9 ms) and key expansion stay on the threads. The
 * expanded key is cached per thread (src/keys/pq-jobs.ts), so the first decapsulation with a key
 * in a process expands it here once.
 */
const INLINE_OPS: ReadonlySet<PostQuantumJob['op']> = new Set(['encapsulate', 'decapsulate']);

let jobs: typeof import('./pq-jobs') | undefined;
/** The job runner, loaded on first inline use: `@noble/post-quantum` stays out of processes that never need it. */
function inlineJobs(): typeof import('./pq-jobs') {
  jobs ??= require('./pq-jobs') as typeof import('./pq-jobs');
  return jobs;
}

/**
 * Runs `job` on this thread, after the requests this turn of the event loop has read have run
 * (setImmediate): a turn that reads several Decapsulates and an Encrypt serves the Encrypt first,
 * and its audit batch leaves before the decapsulations hold the loop (issue 10: Encrypt p99
 * during a flood). Outputs are fresh copies (never views of the library's or the cache's memory).
 */
function runInline(job: PostQuantumJob): Promise<PostQuantumResult> {
  return new Promise((resolve, reject) => {
    setImmediate(() => {
      try {
        const result = inlineJobs().runPostQuantumJob(job);
        const out = result.out?.map((b) => Uint8Array.from(b));
        result.out?.forEach((b) => b.fill(0));
        resolve({ id: job.id, out, valid: result.valid });
      } catch (e) {
        reject(new Error(`post-quantum job failed: ${(e as Error).message}`));
      }
    });
  });
}

/** Default size: one thread per core, at most four. */
export function defaultPostQuantumThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/** Runs post-quantum jobs on at most `threads` threads. */
export class PostQuantumPool {
  readonly #threads: number;
  readonly #slots: Slot[] = [];
  readonly #queue: Pending[] = [];
  #nextId = 1;
  #closed = false;

  constructor(threads = defaultPostQuantumThreads()) {
    this.#threads = Math.max(1, threads);
  }

  /** Jobs waiting for a thread. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Runs `request`; rejects when the thread reports an error. */
  run(request: PostQuantumRequest): Promise<PostQuantumResult> {
    if (this.#closed) return Promise.reject(new Error('post-quantum pool closed'));
    if (INLINE_OPS.has(request.op)) return runInline({ ...request, id: this.#nextId++ } as PostQuantumJob);
    return new Promise<PostQuantumResult>((resolve, reject) => {
      this.#queue.push({ job: { ...request, id: this.#nextId++ } as PostQuantumJob, resolve, reject });
      this.#pump();
    });
  }

  /** Stops the threads; queued jobs fail. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const p of this.#queue.splice(0)) p.reject(new Error('post-quantum pool closed'));
    await Promise.all(this.#slots.splice(0).map((s) => s.worker.terminate()));
  }

  /** The thread for the next job: an idle one, else a new one, else the least loaded below DEPTH. */
  #slotForNext(): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.#slots) if (best === undefined || s.inFlight.length < best.inFlight.length) best = s;
    if (best !== undefined && best.inFlight.length === 0) return best;
    if (this.#slots.length < this.#threads) return this.#spawn();
    return best !== undefined && best.inFlight.length < DEPTH ? best : undefined;
  }

  #pump(): void {
    while (this.#queue.length > 0) {
      const slot = this.#slotForNext();
      if (slot === undefined) return;
      const next = this.#queue.shift() as Pending;
      slot.inFlight.push(next);
      slot.worker.ref();
      slot.worker.postMessage(next.job);
    }
  }

  #spawn(): Slot {
    const worker = new Worker(THREAD_SCRIPT);
    const slot: Slot = { worker, inFlight: [] };
    worker.unref();
    worker.on('message', (r: PostQuantumResult) => {
      const p = slot.inFlight.shift();
      if (slot.inFlight.length === 0) worker.unref();
      if (p !== undefined && p.job.id === r.id) {
        if (r.error === undefined) p.resolve(r);
        else p.reject(new Error(`post-quantum job failed: ${r.error}`));
      } else {
        p?.reject(new Error('post-quantum thread answered out of order'));
      }
      this.#pump();
    });
    const fail = (e: Error): void => {
      const i = this.#slots.indexOf(slot);
      if (i >= 0) this.#slots.splice(i, 1);
      for (const p of slot.inFlight.splice(0)) p.reject(e);
      if (!this.#closed) this.#pump();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`post-quantum thread exited with code ${code}`)));
    this.#slots.push(slot);
    return slot;
  }
}
