/**
 * Entry point of an audit writer thread (see src/audit/writer.ts). Like the command line it is a
 * program entry, so it is the one that picks the SQLite adapter for the audit log. It owns the
 * database connection: every commit, digest, prune and recovery of this process runs here, so
 * fsync never blocks the event loop that serves requests.
 *
 * Commits that arrive while the thread is busy queue up as messages; they are gathered in one
 * transaction on the next turn (group commit), then each is acknowledged.
 */
import type { KeyObject } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { chainLink, genesisHash, nextDigest, signDigest, type Digest, type DigestReason } from '../audit/chain';
import type { DigestSummary, FromWriterThread, ToWriterThread, WriterThreadData } from '../audit/thread-protocol';
import type { AuditAppend, AuditDigestRow, AuditIntent } from '../store/audit-log';
import { SqliteAuditLog } from '../store/sqlite/audit-log-sqlite';

const port = parentPort;
if (port === null) throw new Error('audit-writer-thread must run as a worker thread');
const data = workerData as WriterThreadData;
const log = new SqliteAuditLog({ path: process.env.KEYHOLD_AUDIT_HACK ? `${data.dbPath}.${process.pid}` : data.dbPath, busyTimeoutMs: data.busyTimeoutMs });
if (process.env.KEYHOLD_AUDIT_HACK) log.initialize(() => ({ trailId: 'x', genesis: genesisHash('x') }));
const { trailId } = log.meta();
const genesis = genesisHash(trailId);
let signingKey: { privateKey: KeyObject; fingerprint: string } | undefined;

const DBG = { commits: 0, events: 0, msgs: 0, ns: 0 };
if (process.env.KEYHOLD_AUDIT_DEBUG) setInterval(() => { process.stderr.write(`audit-thread ${process.pid}: ${JSON.stringify(DBG)} avg batch ${(DBG.events / Math.max(1, DBG.commits)).toFixed(1)} avg commit ms ${(DBG.ns / 1e6 / Math.max(1, DBG.commits)).toFixed(2)}\n`); }, 2000).unref();
let queue: ToWriterThread[] = [];
let scheduled = false;

function reply(m: FromWriterThread): void {
  port!.postMessage(m);
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function digestBuilder(reason: DigestReason, now: number) {
  return (head: { seq: number; hash: Buffer }, last: AuditDigestRow | undefined): AuditDigestRow | undefined => {
    if (signingKey === undefined) throw new Error('no audit signing key');
    const d = nextDigest(head, last, {
      trailId,
      reason,
      now,
      fingerprint: signingKey.fingerprint,
      prunedThroughSeq: Number(log.getSetting('pruned_through_seq') ?? 0),
      prunedThroughDigest: Number(log.getSetting('pruned_through_digest') ?? 0),
    }, genesis);
    const { body, signature } = signDigest(d, signingKey.privateKey);
    return { seq: d.digestSeq, body, signature };
  };
}

function summary(row: AuditDigestRow | undefined): DigestSummary | undefined {
  if (row === undefined) return undefined;
  const d = JSON.parse(row.body) as Digest;
  return { digestSeq: d.digestSeq, firstSeq: d.firstSeq, lastSeq: d.lastSeq };
}

/** Retention: the newest digest that ended before the horizon marks the cut. */
function prune(now: number, retentionMs: number): number {
  const horizon = now - retentionMs;
  const digests = log.digests();
  let cut: Digest | undefined;
  for (const row of digests) {
    const d = JSON.parse(row.body) as Digest;
    if (Date.parse(d.digestEndTime) < horizon) cut = d;
  }
  if (cut === undefined || cut.lastSeq <= Number(log.getSetting('pruned_through_seq') ?? 0)) return 0;
  // Keep the cut digest itself: its end hash anchors the first event that remains.
  return log.prune(cut.lastSeq, cut.digestSeq - 1, digestBuilder('prune', now));
}

function handle(m: ToWriterThread): unknown {
  switch (m.t) {
    case 'key':
      signingKey = { privateKey: m.privateKey, fingerprint: m.fingerprint };
      return undefined;
    case 'digest':
      return summary(log.writeDigest(digestBuilder(m.reason, m.now)));
    case 'prune':
      return prune(m.now, m.retentionMs);
    case 'recover': {
      const dead = new Set(m.deadOwners);
      return log.recoverIntents(
        (i) => dead.has(i.owner) || i.createdAt < m.now - m.staleMs || (i.owner !== process.pid && !alive(i.owner)),
        chainLink,
      );
    }
    case 'probe':
      log.touch(Date.now());
      return undefined;
    case 'close':
    case 'commit':
      return undefined;
  }
}

function drain(): void {
  scheduled = false;
  const batch = queue;
  queue = [];
  // All commits queued since the last turn: one transaction, one fsync.
  const commits = batch.filter((m): m is Extract<ToWriterThread, { t: 'commit' }> => m.t === 'commit');
  if (commits.length > 0) {
    const events: AuditAppend[] = [];
    const intents: AuditIntent[] = [];
    for (const c of commits) {
      for (const e of c.events) events.push(e);
      for (const i of c.intents) intents.push(i);
    }
    let failure: string | undefined;
    DBG.commits++; DBG.events += events.length; DBG.msgs += commits.length;
    const t0 = process.hrtime.bigint();
    try {
      log.commit(events, intents, chainLink);
      DBG.ns += Number(process.hrtime.bigint() - t0);
    } catch (e) {
      failure = message(e);
    }
    for (const c of commits) reply(failure === undefined ? { t: 'ok', id: c.id } : { t: 'fail', id: c.id, message: failure });
  }
  for (const m of batch) {
    if (m.t === 'commit') continue;
    try {
      const value = handle(m);
      reply({ t: 'ok', id: m.id, value });
    } catch (e) {
      reply({ t: 'fail', id: m.id, message: message(e) });
    }
    if (m.t === 'close') {
      log.close();
      port!.close();
      return;
    }
  }
}

port.on('message', (m: ToWriterThread) => {
  queue.push(m);
  if (!scheduled) {
    scheduled = true;
    setImmediate(drain);
  }
});
