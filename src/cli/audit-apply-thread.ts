/**
 * The write-behind thread of one audit writer (issue 11), started by its writer thread
 * (audit-writer-thread.ts). The writer thread's only job on a request's path is the journal:
 * one frame, one fdatasync, the acknowledgement. Everything SQLite does with those records —
 * applying them to the stream file, the lookup index, WAL checkpoints (which fsync) — runs here,
 * on its own connection, so it neither delays a commit nor waits for one: on a 2-core machine
 * the two overlap instead of taking turns on one thread (before, a checkpoint held every commit
 * behind it for tens of milliseconds).
 *
 * It applies only frames the writer has made durable: the writer publishes the number of its
 * last fdatasync'd frame in shared memory (`synced`), and frames past it — still being written,
 * or about to be rewritten after a failed fsync — are never read. SQLite trails the journal by
 * about APPLY_MS; readers read that tail from the journal meanwhile, and the writer thread
 * applies what waits itself when it needs SQLite current (journal wrap-around, recovery,
 * retention, shutdown). Both connections skip frames SQLite already has, under the stream's
 * write lock, so neither applies a frame twice.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openAuditJournalStore } from '../adapters';
import { SYNCED } from '../audit/thread-protocol';

/** workerData of the apply thread. */
export interface ApplyThreadData {
  readonly dir: string;
  readonly stream: number;
  readonly busyTimeoutMs: number;
  /** BigInt64s shared with the writer thread: [SYNCED] is the last journal frame made durable. */
  readonly synced: SharedArrayBuffer;
  /** Tests only: apply nothing (records stay in the journal until shutdown). */
  readonly holdApply: boolean;
}

/** Apply what the writer made durable this often; index in bulk; checkpoint every CHECKPOINT_MS. */
const APPLY_MS = 100;
const INDEX_BATCH = 2048;
const INDEX_MAX = 20_000;
const INDEX_MS = 500;
const CHECKPOINT_MS = 1000;

if (parentPort === null) throw new Error('audit-apply-thread must run as a worker thread');
const data = workerData as ApplyThreadData;
const synced = new BigInt64Array(data.synced);
const store = openAuditJournalStore(data.dir, { busyTimeoutMs: data.busyTimeoutMs, writesBehind: data.stream });
const stream = store.stream(data.stream);
let applied = 0;
let lastIndex = Date.now();
let lastCheckpoint = Date.now();
let sinceIndex = 0;

function step(): void {
  if (data.holdApply) return;
  const now = Date.now();
  const through = Number(Atomics.load(synced, SYNCED));
  try {
    if (through > applied) {
      sinceIndex += stream.applyThrough(through);
      applied = through;
    }
  } catch {
    // SQLite cannot be written now: the records stay in the journal; retried next time, and the
    // writer thread applies them itself before its journal starts over.
    return;
  }
  try {
    // (the writer thread also applies at times, so the clock decides too; an index with nothing
    // to do is one SELECT)
    if (sinceIndex >= INDEX_BATCH || now - lastIndex >= INDEX_MS) {
      stream.index(INDEX_MAX);
      sinceIndex = 0;
      lastIndex = now;
    }
    if (now - lastCheckpoint >= CHECKPOINT_MS) {
      stream.checkpoint();
      lastCheckpoint = now;
    }
  } catch {
    // retried next time
    lastIndex = now;
  }
}

setInterval(step, APPLY_MS);
parentPort.on('message', (m: { t: 'close' }) => {
  if (m.t !== 'close') return;
  store.close();
  process.exit(0);
});
