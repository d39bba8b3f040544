/**
 * Bounded, off-thread key-pair generation (issue 9): a small pool of generation threads
 * (src/keys/key-pair-thread.ts), started on first use and unreferenced so they never keep a
 * process alive. Jobs beyond the pool's size wait in a FIFO queue, so 20 concurrent RSA-4096
 * CreateKey calls use at most `threads` CPUs between them.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { KeyPairJob, KeyPairResult } from './key-pair-thread';
import type { Generation } from './key-specs';

const THREAD_SCRIPT = join(__dirname, 'key-pair-thread.js');

interface Pending {
  readonly job: KeyPairJob;
  readonly resolve: (der: Buffer) => void;
  readonly reject: (e: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  current: Pending | undefined;
}

/** Generates key pairs on at most `threads` threads at a time. */
export class KeyPairGenerator {
  readonly #threads: number;
  readonly #slots: Slot[] = [];
  readonly #queue: Pending[] = [];
  #nextId = 1;
  #closed = false;

  constructor(threads = 1) {
    this.#threads = Math.max(1, threads);
  }

  /** Jobs waiting for a thread (for metrics and tests). */
  get queued(): number {
    return this.#queue.length;
  }

  /** A new private key (PKCS#8 DER) for `generation`. The caller wipes it. */
  generate(generation: Generation): Promise<Buffer> {
    if (this.#closed) return Promise.reject(new Error('key pair generator closed'));
    return new Promise<Buffer>((resolve, reject) => {
      this.#queue.push({ job: { id: this.#nextId++, generation }, resolve, reject });
      this.#pump();
    });
  }

  /** Stops the threads; queued jobs fail. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const p of this.#queue.splice(0)) p.reject(new Error('key pair generator closed'));
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
    worker.on('message', (r: KeyPairResult) => {
      const p = slot.current;
      slot.current = undefined;
      worker.unref();
      if (p !== undefined && p.job.id === r.id) {
        if (r.privateKey !== undefined) p.resolve(Buffer.from(r.privateKey.buffer, r.privateKey.byteOffset, r.privateKey.byteLength));
        else p.reject(new Error(`key pair generation failed: ${r.error ?? 'unknown'}`));
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
    worker.on('exit', (code) => fail(new Error(`key pair thread exited with code ${code}`)));
    this.#slots.push(slot);
    return slot;
  }
}
