/**
 * A small pool of post-quantum threads (src/keys/pq-thread.ts): ML-DSA and ML-KEM key expansion
 * run there, off the request thread and off libuv's shared pool (issue 10). Each thread runs one
 * job at a time; further jobs wait in one FIFO queue. Threads start on first use and are
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
  current: Pending | undefined;
}

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

/** Runs `job` on this thread; outputs are fresh copies (never views of the library's or the cache's memory). */
function runInline(job: PostQuantumJob): Promise<PostQuantumResult> {
  try {
    const result = inlineJobs().runPostQuantumJob(job);
    const out = result.out?.map((b) => Uint8Array.from(b));
    result.out?.forEach((b) => b.fill(0));
    return Promise.resolve({ id: job.id, out, valid: result.valid });
  } catch (e) {
    return Promise.reject(new Error(`post-quantum job failed: ${(e as Error).message}`));
  }
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

  #pump(): void {
    while (this.#queue.length > 0) {
      let slot = this.#slots.find((s) => s.current === undefined);
      if (slot === undefined && this.#slots.length < this.#threads) slot = this.#spawn();
      if (slot === undefined) return;
      const next = this.#queue.shift() as Pending;
      slot.current = next;
      slot.worker.ref();
      slot.worker.postMessage(next.job);
    }
  }

  #spawn(): Slot {
    const worker = new Worker(THREAD_SCRIPT);
    const slot: Slot = { worker, current: undefined };
    worker.unref();
    worker.on('message', (r: PostQuantumResult) => {
      const p = slot.current;
      slot.current = undefined;
      worker.unref();
      if (p !== undefined && p.job.id === r.id) {
        if (r.error === undefined) p.resolve(r);
        else p.reject(new Error(`post-quantum job failed: ${r.error}`));
      }
      this.#pump();
    });
    const fail = (e: Error): void => {
      const i = this.#slots.indexOf(slot);
      if (i >= 0) this.#slots.splice(i, 1);
      slot.current?.reject(e);
      slot.current = undefined;
      if (!this.#closed) this.#pump();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`post-quantum thread exited with code ${code}`)));
    this.#slots.push(slot);
    return slot;
  }
}
