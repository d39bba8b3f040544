/**
 * Entry point of an audit writer thread (see src/audit/writer.ts). Like the command line it is a
 * program entry, so it is the one that picks the SQLite adapter for the audit trail. It owns its
 * process's stream and that stream's journal: every commit of this process runs here — one
 * journal frame and its fdatasync, on this dedicated thread rather than libuv's shared pool, where
 * key generation and file reads would queue behind it — so fsync never blocks the event loop
 * that serves requests. In the primary it also writes digests, applies retention and recovers
 * the records of requests whose process died.
 *
 * Commits that arrive while the thread is busy wait in its inbox; they are gathered into one
 * journal frame on the next turn (group commit), fdatasync'd here and acknowledged at once — the
 * journal is the durability point (issue 11). The thread sleeps in Atomics.wait between turns,
 * not in an event loop (see `loop`). The request threads prepare the next batch (records,
 * their serialisation) while this thread syncs the previous one; encoding the next frame here
 * waits for the sync. A separate sync thread that let this thread encode during the sync
 * (session 9) cost one more thread wake-up per commit, which on the 2-vCPU VM costs tens of
 * microseconds of CPU, more than the overlap saved (docs/performance.md, session 11).
 * Applying the records to SQLite, indexing them and checkpointing the WAL happen on a second
 * thread with its own connection (audit-apply-thread.ts), which this thread tells, through
 * shared memory, how far the journal is durable: that work neither delays a commit nor waits for
 * one. SQLite (and so the lookup index) trails the journal by about APPLY_MS; readers read that
 * tail from the journal meanwhile.
 */
import type { KeyObject } from 'node:crypto';
import { existsSync, fdatasyncSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, receiveMessageOnPort, Worker, workerData } from 'node:worker_threads';
import { chainLink, genesisHash, nextDigest, signDigest, type Digest, type DigestReason, type NextDigest } from '../audit/chain';
import {
  decodeAppend,
  SYNCED,
  type DigestSummary,
  type CommitAck,
  type FromWriterThread,
  type ToWriterThread,
  type WriterThreadData,
} from '../audit/thread-protocol';
import { deliverDigest, deliveredSeqs } from '../audit/digest-copy';
import type { AuditAppend, AuditDigestRow, AuditIntent } from '../store/audit-log';
import { openAuditJournalStore } from '../adapters';
import type { ApplyThreadData } from './audit-apply-thread';

const port = parentPort;
if (port === null) throw new Error('audit-writer-thread must run as a worker thread');
const data = workerData as WriterThreadData;
// This thread owns its stream's journal (issue 11): every commit is one fdatasync'd journal frame.
// Tests only (AuditTestHooks.journalBytes): a small journal, so a test reaches the point where the
// journal is full and SQLite must take its frames before it can start over.
const hooks = data.testHooks ?? {};
const testJournalBytes = hooks.journalBytes;
const store = openAuditJournalStore(data.dir, {
  busyTimeoutMs: data.busyTimeoutMs,
  journalOwner: data.stream,
  ...(testJournalBytes !== undefined && Number.isSafeInteger(testJournalBytes) && testJournalBytes > 0 ? { journalBytes: testJournalBytes } : {}),
});
const trailId = store.trailId();
const own = store.stream(data.stream);
own.initialize(trailId, genesisHash(trailId, data.stream));
let signingKey: { privateKey: KeyObject; fingerprint: string } | undefined;

/** How often this thread drops from memory the frames the apply thread has applied. */
const FORGET_MS = 100;
/** A dead apply thread is started again after this long. */
const RESTART_APPLY_MS = 1000;

/**
 * Tests only (issue 11, AuditTestHooks.failFile): while that file exists, every commit and probe
 * fails as an fsync error would, so the fail-closed path can be driven without a broken disk.
 */
const FAIL_FILE = hooks.failFile;
function injectedFailure(): void {
  if (FAIL_FILE !== undefined && FAIL_FILE !== '' && existsSync(FAIL_FILE)) {
    throw new Error('EIO: i/o error, fdatasync (injected by a test hook)');
  }
}

/**
 * Tests only (issue 11, AuditTestHooks.holdApply): journaled records are not applied to SQLite
 * (nor indexed) in the background, so a test can kill the process after the journal's fdatasync
 * and before the SQLite write, deterministically.
 */
const HOLD_APPLY = hooks.holdApply === true;

/**
 * Shared with the apply thread (audit-apply-thread.ts), which applies nothing past the last frame
 * made durable: [SYNCED] is that frame's number.
 */
const synced = new SharedArrayBuffer(8);
const big = new BigInt64Array(synced);
Atomics.store(big, SYNCED, BigInt(own.journaledThrough));

/** Requests arrive here, taken synchronously (receiveMessageOnPort); `signal` is bumped after each. */
const inbox = data.inbox;
const signal = new Int32Array(data.signal);
/** Commit acknowledgements go here (the writer's event loop, src/audit/writer.ts). */
const acks = data.acks;

let closing = false;
let applier: Worker | undefined;
function startApplier(): void {
  const applyData: ApplyThreadData = { dir: data.dir, stream: data.stream, busyTimeoutMs: data.busyTimeoutMs, synced, holdApply: HOLD_APPLY };
  const w = new Worker(join(__dirname, 'audit-apply-thread.js'), { workerData: applyData });
  applier = w;
  // Its failure costs only lag: SQLite catches up from the journal when it runs again.
  w.on('error', () => undefined);
  w.once('exit', () => {
    if (applier === w) applier = undefined;
    if (!closing) setTimeout(() => closing || startApplier(), RESTART_APPLY_MS).unref();
  });
}
startApplier();

function reply(m: FromWriterThread): void {
  port!.postMessage(m);
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Whether process `pid` still runs. A killed process whose parent died too can linger as a
 * zombie until init reaps it, and kill(pid, 0) succeeds on a zombie: on Linux its state in
 * /proc says so.
 */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function heads(): Map<number, { seq: number; hash: Buffer }> {
  const out = new Map<number, { seq: number; hash: Buffer }>();
  for (const n of store.streamIds()) {
    try {
      out.set(n, store.stream(n).info().head);
    } catch {
      // a stream file whose writer has not initialized it yet: nothing to cover
    }
  }
  return out;
}

function writeDigest(reason: DigestReason, now: number, prune?: NextDigest['prune']): AuditDigestRow | undefined {
  const key = signingKey;
  if (key === undefined) throw new Error('no audit signing key');
  return store.writeDigest((last) => {
    const d = nextDigest(heads(), last, { trailId, reason, now, fingerprint: key.fingerprint, prune });
    const { body, signature } = signDigest(d, key.privateKey);
    return { seq: d.digestSeq, body, signature };
  });
}

/** The newest digest known delivered (undefined until the first delivery of this thread). */
let deliveredThrough: number | undefined;

/**
 * Delivers the digest just written to the copy directory (issue 11; digest-copy.ts), and first
 * every stored digest not there yet when an earlier delivery failed or this thread just started.
 * Returns why delivery failed, if it did.
 */
function deliver(row: AuditDigestRow): string | undefined {
  const dir = data.digestCopyDir;
  if (dir === undefined) return undefined;
  try {
    if (deliveredThrough === row.seq - 1) {
      deliverDigest(dir, trailId, row);
    } else {
      const have = deliveredSeqs(dir, trailId);
      for (const r of store.digests()) if (!have.has(r.seq)) deliverDigest(dir, trailId, r);
    }
    deliveredThrough = row.seq;
    return undefined;
  } catch (e) {
    deliveredThrough = undefined;
    return message(e);
  }
}

function summary(row: AuditDigestRow | undefined): DigestSummary | undefined {
  if (row === undefined) return undefined;
  const d = JSON.parse(row.body) as Digest;
  const copyError = deliver(row);
  return { digestSeq: d.digestSeq, streams: d.streams.map((s) => [s.stream, s.firstSeq, s.lastSeq] as const), ...(copyError === undefined ? {} : { copyError }) };
}

/**
 * Retention: the newest digest that ended before the horizon marks the cut. The cut is first
 * declared in a signed digest, then records and older digests are deleted, so a crash midway
 * leaves only records the trail already says may be gone.
 */
function prune(now: number, retentionMs: number): number {
  const horizon = now - retentionMs;
  const digests = store.digests().map((r) => JSON.parse(r.body) as Digest);
  let cut: Digest | undefined;
  for (const d of digests) if (Date.parse(d.digestEndTime) < horizon) cut = d;
  const newest = digests[digests.length - 1];
  if (cut === undefined || newest === undefined) return 0;
  const declared = new Map(newest.streams.map((s) => [s.stream, s.prunedThroughSeq]));
  const throughSeq = new Map(cut.streams.map((s) => [s.stream, Math.max(s.lastSeq, declared.get(s.stream) ?? 0)]));
  if ([...throughSeq].every(([s, seq]) => seq <= (declared.get(s) ?? 0))) return 0;
  // Keep the cut digest: its end hashes anchor the first records that remain.
  writeDigest('prune', now, { throughDigest: cut.digestSeq - 1, throughSeq });
  let removed = 0;
  for (const [s, seq] of throughSeq) removed += store.stream(s).prune(seq);
  store.deleteDigestsThrough(cut.digestSeq - 1);
  return removed;
}

function handle(m: ToWriterThread): unknown {
  switch (m.t) {
    case 'key':
      signingKey = { privateKey: m.privateKey, fingerprint: m.fingerprint };
      return undefined;
    case 'digest':
      return summary(writeDigest(m.reason, m.now));
    case 'prune':
      return prune(m.now, m.retentionMs);
    case 'recover': {
      const dead = new Set(m.deadOwners);
      const pick = (i: AuditIntent): boolean =>
        dead.has(i.owner) || i.createdAt < m.now - m.staleMs || (i.owner !== process.pid && (m.allOthers || !alive(i.owner)));
      let n = own.recoverIntents(pick, chainLink);
      // Another stream's chain is appended to by its own writer only (it keeps its head in
      // memory and writes SQLite behind its journal): the outcome-unknown records of that
      // stream's orphaned intents go into this stream, and the intents are then removed there.
      // A crash between the two leaves the intent to be recorded once more, never lost.
      for (const s of store.streamIds()) {
        if (s === data.stream) continue;
        const other = store.stream(s);
        other.catchUp();
        const chosen = other.intents().filter(pick);
        if (chosen.length === 0) continue;
        own.commit(chosen.map((i) => i.event), [], [], chainLink);
        other.forgetIntents(chosen.map((i) => i.id));
        n += chosen.length;
      }
      return n;
    }
    case 'probe':
      injectedFailure();
      own.touch(Date.now());
      return undefined;
    case 'close':
    case 'commit':
      return undefined;
  }
}

/** Acknowledges (or fails) commits to the writer's event loop. */
function ack(m: CommitAck): void {
  acks.postMessage(m);
}

/**
 * One turn: every request received since the last. The commits among them become one journal
 * frame and one fdatasync (group commit); the other requests run in order after it.
 * Returns false once the thread is closing.
 */
function drain(batch: readonly ToWriterThread[]): boolean {
  const commits = batch.filter((m): m is Extract<ToWriterThread, { t: 'commit' }> => m.t === 'commit');
  let commitFailure: string | undefined;
  if (commits.length > 0) {
    const events: AuditAppend[] = [];
    const intents: AuditIntent[] = [];
    const recover: string[] = [];
    for (const c of commits) {
      for (const e of c.events) events.push(decodeAppend(e));
      for (const i of c.intents) intents.push(i);
      for (const r of c.recover) recover.push(r);
    }
    const ids = commits.map((c) => c.id);
    try {
      injectedFailure();
      own.commitUnsynced(events, intents, recover, chainLink);
    } catch (e) {
      commitFailure = message(e);
    }
    if (commitFailure !== undefined) {
      ack({ t: 'sync-failed', ids, message: commitFailure });
    } else {
      try {
        fdatasyncSync(own.journalFd);
      } catch (e) {
        // What was written since the last good fdatasync cannot be trusted (the kernel may have
        // dropped the dirty pages and report success next time): fail these commits and end
        // this thread; the writer starts it again from what is on disk.
        ack({ t: 'sync-failed', ids, message: message(e) });
        process.exit(1);
      }
      Atomics.store(big, SYNCED, BigInt(own.journaledThrough));
      ack({ t: 'synced', ids });
    }
  }
  let probed = false;
  for (const m of batch) {
    if (m.t === 'commit') continue;
    if (m.t === 'probe' && (probed || commitFailure !== undefined)) {
      // A commit in this turn (or an earlier probe) already said whether the file is writable.
      reply(commitFailure === undefined ? { t: 'ok', id: m.id } : { t: 'fail', id: m.id, message: commitFailure });
      continue;
    }
    if (m.t === 'probe') probed = true;
    try {
      const value = handle(m);
      reply({ t: 'ok', id: m.id, value });
    } catch (e) {
      reply({ t: 'fail', id: m.id, message: message(e) });
    }
    if (m.t === 'close') {
      closing = true;
      const last = applier === undefined ? Promise.resolve(0) : applier.terminate();
      void last.then(() => {
        try {
          own.index(Number.MAX_SAFE_INTEGER);
          own.checkpoint();
        } catch {
          // indexed again at the next start
        }
        store.close();
        inbox.close();
        acks.close();
        port!.close();
      });
      return false;
    }
  }
  // Recovery and probes write (and fdatasync) journal frames too: the apply thread may take them.
  if (batch.length > commits.length) Atomics.store(big, SYNCED, BigInt(own.journaledThrough));
  return true;
}

/** How long the loop blocks for requests before the event loop gets a turn (timers, the apply thread's exit). */
const SLICE_MS = 50;

/**
 * The thread's loop (issue 11). Requests are taken from the inbox synchronously and the thread
 * sleeps in Atomics.wait between them, not in its event loop: waking a thread costs tens of
 * microseconds of CPU on a VM, and an event loop's wake-up (the port's async handle, the
 * message event, an immediate to gather the turn) cost more again on every commit. The sender
 * bumps `signal` after each request, so a request posted between the inbox being found empty
 * and the wait is never slept through. Every SLICE_MS the event loop runs once.
 */
function loop(): void {
  const until = Date.now() + SLICE_MS;
  for (;;) {
    const seen = Atomics.load(signal, 0);
    const batch: ToWriterThread[] = [];
    for (let r = receiveMessageOnPort(inbox); r !== undefined; r = receiveMessageOnPort(inbox)) batch.push(r.message as ToWriterThread);
    if (batch.length > 0 && !drain(batch)) return;
    // (under a steady load the inbox is never empty: the event loop still gets its turn)
    const left = until - Date.now();
    if (left <= 0) break;
    if (batch.length === 0) Atomics.wait(signal, 0, seen, left);
  }
  setImmediate(loop);
}
setImmediate(loop);
// Frames the apply thread has applied need not stay in memory.
setInterval(() => {
  if (closing) return;
  try {
    own.forgetApplied();
  } catch {
    // the database is busy or failing: kept for next time
  }
}, FORGET_MS).unref();
