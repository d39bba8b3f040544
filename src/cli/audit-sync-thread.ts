/**
 * The fdatasync thread of one audit writer (issue 11: "CPU work of the next batch overlapping
 * the fsync of the previous one"). The writer thread (audit-writer-thread.ts) chains a batch,
 * encodes its journal frame and writes it, then hands the frame to this thread and goes on to
 * the next batch; this thread fdatasyncs the journal — one call covers every frame written before
 * it started, however many — and acknowledges those commits to the event loop directly. A frame
 * is acknowledged only after an fdatasync that began after its write returned.
 *
 * It blocks in Atomics.wait, not on an event loop and not on libuv's shared pool (where key
 * generation and file reads would wait behind the disk). Shared state (SharedArrayBuffer):
 *   ctl (Int32):  [SEQ] bumped by the writer after each frame, [HEAD] commit ids published,
 *                 [BROKEN] set here when an fdatasync failed, [STOP] set by the writer to end;
 *   big (BigInt64): [WRITTEN] last frame written, [SYNCED] last frame made durable — the
 *                 apply thread (audit-apply-thread.ts) reads SYNCED and applies nothing past it;
 *   ids (Float64): a ring of the commit ids the written frames carry.
 * After a failed fdatasync nothing written since can be trusted (the kernel may have dropped
 * the dirty pages and report success next time): every commit waiting and every later one is
 * failed until the writer thread, seeing BROKEN, exits and is restarted from what is on disk.
 */
import { fdatasyncSync } from 'node:fs';
import type { MessagePort } from 'node:worker_threads';
import { workerData } from 'node:worker_threads';
import type { FromSyncThread } from '../audit/thread-protocol';

export const SEQ = 0;
export const HEAD = 1;
export const BROKEN = 2;
export const STOP = 3;
export const WRITTEN = 0;
export const SYNCED = 1;
/** Commit ids the ring holds: far more than the commits a writer has in flight (two). */
export const RING = 1 << 14;

/** workerData of the sync thread. */
export interface SyncThreadData {
  readonly fd: number;
  readonly ctl: SharedArrayBuffer;
  readonly big: SharedArrayBuffer;
  readonly ids: SharedArrayBuffer;
  /** Where acknowledgements go: the writer's event loop (src/audit/writer.ts). */
  readonly port: MessagePort;
}


/** Shared memory of a writer and its sync thread. */
export function syncShared(): { ctl: SharedArrayBuffer; big: SharedArrayBuffer; ids: SharedArrayBuffer } {
  return { ctl: new SharedArrayBuffer(4 * 4), big: new SharedArrayBuffer(2 * 8), ids: new SharedArrayBuffer(RING * 8) };
}

function run(d: SyncThreadData): void {
  const ctl = new Int32Array(d.ctl);
  const big = new BigInt64Array(d.big);
  const ids = new Float64Array(d.ids);
  let tail = 0;
  let failure: string | undefined;
  for (;;) {
    const seq = Atomics.load(ctl, SEQ);
    const head = Atomics.load(ctl, HEAD);
    if (head === tail) {
      if (Atomics.load(ctl, STOP) === 1) break;
      // Sleeps until the writer bumps SEQ (a frame written, or STOP).
      Atomics.wait(ctl, SEQ, seq);
      continue;
    }
    const written = Atomics.load(big, WRITTEN);
    if (failure === undefined) {
      try {
        fdatasyncSync(d.fd);
      } catch (e) {
        failure = e instanceof Error ? e.message : String(e);
        Atomics.store(ctl, BROKEN, 1);
      }
    }
    const done: number[] = [];
    for (; tail !== head; tail = (tail + 1) % RING) done.push(ids[tail] as number);
    if (failure === undefined) {
      Atomics.store(big, SYNCED, written);
      d.port.postMessage({ t: 'synced', ids: done } satisfies FromSyncThread);
    } else {
      d.port.postMessage({ t: 'sync-failed', ids: done, message: failure } satisfies FromSyncThread);
    }
  }
  d.port.close();
}

if (workerData !== null && typeof workerData === 'object' && 'ctl' in (workerData as object)) run(workerData as SyncThreadData);
