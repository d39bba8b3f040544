/**
 * The post-quantum thread (issue 10: "run it off the request thread"): runs the jobs of
 * src/keys/pq-jobs.ts (ML-DSA, ML-KEM key expansion), which would otherwise hold the event loop
 * for milliseconds per call. Each message is one job; the answer carries the job's id. Like the
 * key-pair thread, this thread lowers its own priority so a flood of post-quantum requests yields
 * the CPU to the request thread (the Encrypt p99 promise of issue 10).
 */
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { runPostQuantumJob, wipeJob, type PostQuantumJob, type PostQuantumResult } from './pq-jobs';

export type { PostQuantumJob, PostQuantumResult } from './pq-jobs';

/** Nice value of the thread (0 normal … 19 lowest), as the key-pair thread. */
const NICE = 10;

if (parentPort !== null) {
  try {
    setPriority(NICE);
  } catch {
    // Not permitted (some containers): the work still runs off the request thread.
  }
  const port = parentPort;
  port.on('message', (job: PostQuantumJob) => {
    try {
      const result = runPostQuantumJob(job);
      // Fresh copies, each on its own ArrayBuffer, so they can be transferred (never a view of
      // the cache or of another output).
      const out = result.out?.map((b) => Uint8Array.from(b));
      result.out?.forEach((b) => b.fill(0));
      port.postMessage({ id: job.id, out, valid: result.valid } satisfies PostQuantumResult, (out ?? []).map((b) => b.buffer as ArrayBuffer));
    } catch (e) {
      port.postMessage({ id: job.id, error: (e as Error).message } satisfies PostQuantumResult);
    } finally {
      wipeJob(job);
    }
  });
}
