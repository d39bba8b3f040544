/**
 * The PostgreSQL audit sink (issue 14) against a real, throwaway PostgreSQL cluster: the
 * `AuditSink` contract of src/audit/sink.ts — per-writer streams with the trail's hash chain
 * (src/audit/chain.ts) and record format (src/audit/event.ts), group commit, intents, durability
 * of every acknowledged record across a crash of the database, rejection within 2 s while the
 * database is down or hangs, and recovery of the same sink when it returns.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { chainLink, digestSignatureValid, genesisHash, nextDigest, publicKeyFingerprint, signDigest, type Digest } from '../../src/audit/chain';
import { apiCallRecord, operatorRecord } from '../../src/audit/event';
import { newEventId } from '../../src/audit/event-id';
import type { AuditSink } from '../../src/audit/sink';
import type { AuditAppend, AuditIntent } from '../../src/store/audit-log';
import { PostgresAuditLog } from '../../src/store/postgres/audit-log-postgres';
import { PostgresAuditSink, type RefusalSummary } from '../../src/store/postgres/audit-sink-postgres';
import { DatabaseUnavailableError, type PostgresPool } from '../../src/store/postgres/connection';
import { migrate } from '../../src/store/postgres/migrate';
import { openTestPool, usePostgres } from '../helpers/postgres';

const pg = usePostgres();
const quiet = { error: () => undefined, warn: () => undefined };

function openPool(database: string, realTimeouts = false): PostgresPool {
  return openTestPool(pg(), database, { realTimeouts });
}

/** The summary record, built as src/audit/writer.ts builds it. */
function refusalRecord(r: RefusalSummary, now: number): AuditAppend {
  return operatorRecord({
    time: now,
    eventId: newEventId(now),
    eventName: 'KeyholdAuditUnavailable',
    region: r.region,
    sourceIp: '',
    additionalEventData: { refusedRequests: r.count, firstRefusalTime: new Date(r.first).toISOString(), lastRefusalTime: new Date(r.last).toISOString() },
  });
}

/**
 * A sink; its deadline is the default (1500 ms) only where a test is about outages: elsewhere a
 * loaded CI machine must not turn a slow commit into a failure the test is not about.
 */
async function openSink(pool: PostgresPool, stream: number, extra: { deadlineMs?: number; retryMs?: number } = {}): Promise<PostgresAuditSink> {
  return PostgresAuditSink.open({
    deadlineMs: 60_000,
    log: new PostgresAuditLog(pool),
    stream,
    link: chainLink,
    genesis: genesisHash,
    refusalRecord,
    newTrailId: () => randomUUID(),
    logger: quiet,
    retryMs: 200,
    ...extra,
  });
}

/** A Decrypt-like record, in the trail's real format. */
function record(n: number, extra: Partial<{ completes: string; readOnly: boolean; eventName: string }> = {}): AuditAppend {
  const time = Date.UTC(2026, 11, 6, 12, 0, 0) + n;
  const r = apiCallRecord({
    time,
    eventId: newEventId(time),
    requestId: randomUUID(),
    userIdentity: { type: 'IAMUser', accountId: '111122223333', userName: 'alice' },
    username: 'alice',
    accessKeyId: 'AKIAEXAMPLE',
    eventSource: 'kms.amazonaws.com',
    eventName: extra.eventName ?? 'Decrypt',
    region: 'us-east-1',
    sourceIp: '127.0.0.1',
    userAgent: 'test',
    requestParameters: { n, text: 'quotes " and \\ backslashes, newline \n and unicode é' },
    responseElements: null,
    readOnly: extra.readOnly ?? true,
    resources: [
      { accountId: '111122223333', type: 'AWS::KMS::Key', arn: `arn:aws:kms:us-east-1:111122223333:key/${n}` },
      { accountId: '111122223333', type: 'AWS::KMS::Alias', arn: 'arn:aws:kms:us-east-1:111122223333:alias/a' },
    ],
    recipientAccountId: '111122223333',
  });
  return extra.completes === undefined ? r : { ...r, completes: extra.completes };
}

function intent(n: number, stream: number): AuditIntent {
  return { id: `intent-${stream}-${n}-${randomUUID()}`, owner: process.pid, createdAt: Date.now(), event: record(100_000 + n, { readOnly: false, eventName: 'DisableKey' }) };
}

/** Checks stream `stream`'s chain from genesis and returns its bodies in order. */
async function verifiedChain(log: PostgresAuditLog, trailId: string, stream: number): Promise<string[]> {
  const rows = await log.events(stream);
  let prev = genesisHash(trailId, stream);
  rows.forEach((r, i) => {
    assert.equal(r.seq, i + 1, `stream ${stream}: seq ${r.seq} at position ${i}`);
    assert.ok(r.prevHash.equals(prev), `stream ${stream}: record ${r.seq} does not continue the chain`);
    assert.ok(r.hash.equals(chainLink(prev, r.body)), `stream ${stream}: record ${r.seq} hash`);
    prev = r.hash;
  });
  const info = await log.info(stream);
  assert.equal(info.head.seq, rows.length);
  assert.ok(info.head.hash.equals(prev));
  return rows.map((r) => r.body);
}

/**
 * Runs `f` until it succeeds (30 s at most): steps before an outage, or after it, where the
 * 1500 ms deadline of a sink under test may meet a loaded machine.
 */
async function eventually(f: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await f();
    } catch (e) {
      if (!(e instanceof DatabaseUnavailableError) || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function timed(p: Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const t0 = Date.now();
  try {
    await p;
    return { ms: Date.now() - t0, error: undefined };
  } catch (e) {
    return { ms: Date.now() - t0, error: e };
  }
}

test('per-writer streams: call order kept, chains continuous, columns as SQLite stores them, group commit under concurrency', { timeout: 120_000 }, async () => {
  const db = await pg().createDatabase();
  const pool = openPool(db);
  try {
    await migrate(pool);
    const a = await openSink(pool, 0);
    const b = await openSink(pool, 1);
    const port: AuditSink = a; // the sink is an AuditSink (src/audit/sink.ts)
    assert.equal(port.healthy, true);
    assert.equal(b.trailId, a.trailId);
    // 600 records handed in at once per stream, 1200 in all.
    const ra = Array.from({ length: 600 }, (_, i) => record(i));
    const rb = Array.from({ length: 600 }, (_, i) => record(1000 + i));
    await Promise.all([...ra.map((r) => a.append(r)), ...rb.map((r) => b.append(r))]);
    // Then in waves while commits are in flight: each wave joins the next commit.
    const waves: Promise<void>[] = [];
    const rc: AuditAppend[] = [];
    for (let w = 0; w < 20; w++) {
      for (let i = 0; i < 10; i++) {
        const r = record(2000 + w * 10 + i);
        rc.push(r);
        waves.push(a.append(r));
      }
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(waves);
    const log = new PostgresAuditLog(pool);
    assert.deepEqual(await verifiedChain(log, a.trailId, 0), [...ra, ...rc].map((r) => r.body));
    assert.deepEqual(await verifiedChain(log, a.trailId, 1), rb.map((r) => r.body));
    assert.deepEqual(await log.streamIds(), [0, 1]);
    // Group commit: 800 records in far fewer commits.
    assert.equal(a.stats().records, 800);
    assert.ok(a.stats().commits <= 25, `${a.stats().commits} commits for 800 records`);
    // The columns LookupEvents reads, derived as the SQLite adapter derives them.
    const first = (await log.events(0, 1, 1))[0]!;
    assert.equal(first.eventId, ra[0]!.eventId);
    assert.equal(first.account, '111122223333');
    assert.equal(first.readOnly, true);
    assert.equal(first.resourceTypes, 'AWS::KMS::Alias,AWS::KMS::Key');
    assert.equal(first.resourceNames, 'arn:aws:kms:us-east-1:111122223333:key/0\narn:aws:kms:us-east-1:111122223333:alias/a');
    assert.equal(first.time, ra[0]!.time);
    await a.close();
    await b.close();
    await assert.rejects(a.append(record(9)), /the audit sink is closed/);
  } finally {
    await pool.close();
  }
});

test('two writers that share one stream by mistake still make one continuous chain', { timeout: 120_000 }, async () => {
  const db = await pg().createDatabase();
  const p1 = openPool(db);
  const p2 = openPool(db);
  try {
    await migrate(p1);
    const s1 = await openSink(p1, 7);
    const s2 = await openSink(p2, 7);
    const all: Promise<void>[] = [];
    for (let i = 0; i < 300; i++) all.push((i % 2 === 0 ? s1 : s2).append(record(i)));
    await Promise.all(all);
    const bodies = await verifiedChain(new PostgresAuditLog(p1), s1.trailId, 7);
    assert.equal(bodies.length, 300);
    assert.equal(new Set(bodies).size, 300);
  } finally {
    await p1.close();
    await p2.close();
  }
});

test('intents: durable before the operation, removed by the record that completes them; a digest signs every stream head', { timeout: 120_000 }, async () => {
  const db = await pg().createDatabase();
  const pool = openPool(db);
  try {
    await migrate(pool);
    const sink = await openSink(pool, 3);
    const log = new PostgresAuditLog(pool);
    const i1 = intent(1, 3);
    const i2 = intent(2, 3);
    await Promise.all([sink.intend(i1), sink.intend(i2)]);
    assert.deepEqual((await log.intents(3)).map((i) => i.id).sort(), [i1.id, i2.id].sort());
    assert.deepEqual((await log.intents(3)).find((i) => i.id === i1.id)?.event, i1.event);
    await sink.append(record(1, { completes: i1.id, readOnly: false }));
    assert.deepEqual((await log.intents()).map((i) => i.id), [i2.id]);
    assert.equal((await verifiedChain(log, sink.trailId, 3)).length, 1);

    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const fingerprint = publicKeyFingerprint(publicKey);
    const write = (now: number) =>
      log.writeDigest((heads, last) => {
        const d = nextDigest(heads, last, { trailId: sink.trailId, reason: 'interval', now, fingerprint });
        const { body, signature } = signDigest(d, privateKey);
        return { seq: d.digestSeq, body, signature };
      });
    // Two nodes writing at once make one chain of digests.
    await Promise.all([write(Date.now()), write(Date.now())]);
    await sink.append(record(2));
    await write(Date.now());
    const digests = await log.digests();
    assert.deepEqual(digests.map((d) => d.seq), [1, 2, 3]);
    for (const d of digests) assert.ok(digestSignatureValid(d.body, d.signature, publicKey));
    const lastDigest = JSON.parse(digests[2]!.body) as Digest;
    const info = await log.info(3);
    assert.deepEqual(lastDigest.streams.map((s) => [s.stream, s.firstSeq, s.lastSeq, s.endHash]), [[3, 2, 2, info.head.hash.toString('hex')]]);
    assert.equal(lastDigest.previousDigestSeq, 2);
  } finally {
    await pool.close();
  }
});

test('every acknowledged record survives a crash of the database; a new pool and sink continue the chain', { timeout: 120_000 }, async () => {
  const db = await pg().createDatabase();
  let pool = openPool(db);
  try {
    await migrate(pool);
    // Little WAL to replay after the crash: recovery time is not what this test measures.
    await pg().query('CHECKPOINT');
    let sink = await openSink(pool, 0);
    const trailId = sink.trailId;
    const acked: string[] = [];
    const pending: Promise<void>[] = [];
    for (let i = 0; i < 400; i++) {
      const r = record(i);
      pending.push(sink.append(r).then(() => void acked.push(r.eventId)));
      if (i % 40 === 39) await new Promise((res) => setImmediate(res));
    }
    await Promise.all(pending);
    assert.equal(acked.length, 400);
    // SIGQUIT: no checkpoint, no clean shutdown — what was acknowledged must be in the WAL.
    await pg().stop('immediate');
    await pool.close().catch(() => undefined);
    await pg().start();
    pool = openPool(db);
    const log = new PostgresAuditLog(pool);
    const ids = (await log.events(0)).map((r) => r.eventId);
    for (const id of acked) assert.ok(ids.includes(id), `acknowledged record ${id} lost`);
    sink = await openSink(pool, 0);
    assert.equal(sink.trailId, trailId);
    await sink.append(record(500));
    assert.equal((await verifiedChain(log, trailId, 0)).length, 401);
  } finally {
    await pool.close();
  }
});

test('database down: appends reject within 2 s, the sink turns unhealthy, then recovers by itself; refusals and lost completions are recorded', { timeout: 120_000 }, async () => {
  const db = await pg().createDatabase();
  const pool = openPool(db, true);
  try {
    await migrate(pool);
    const sink = await openSink(pool, 0, { retryMs: 200, deadlineMs: 1500 });
    const log = new PostgresAuditLog(pool);
    await eventually(() => sink.append(record(0)));
    const pendingIntent = intent(1, 0);
    await eventually(() => sink.intend(pendingIntent));

    await pg().stop('fast');
    const r2 = record(2);
    const attempts = await Promise.all([
      timed(sink.append(record(1, { completes: pendingIntent.id, readOnly: false }))),
      timed(sink.append(r2)),
      timed(sink.intend(intent(3, 0))),
    ]);
    for (const a of attempts) {
      assert.ok(a.error instanceof DatabaseUnavailableError, String(a.error));
      assert.ok(a.ms < 2000, `rejected after ${a.ms} ms`);
    }
    assert.equal(sink.healthy, false);
    sink.refused(Date.now(), 'eu-west-1');
    sink.refused(Date.now(), 'eu-west-1');
    const later = await timed(sink.append(record(4)));
    assert.ok(later.error instanceof DatabaseUnavailableError && later.ms < 2000, `${String(later.error)} after ${later.ms} ms`);

    await pg().start();
    // The probe finds the database again without any request; no new sink.
    const deadline = Date.now() + 30_000;
    while (!sink.healthy) {
      assert.ok(Date.now() < deadline, 'the sink did not recover within 30 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    await eventually(() => sink.append(record(5)));
    await sink.drain();
    const bodies = (await verifiedChain(log, sink.trailId, 0)).map((b) => JSON.parse(b) as Record<string, unknown>);
    const names = bodies.map((b) => b.eventName);
    // The record completing the intent was lost: the intent's own (outcome-unknown) record stands in.
    assert.ok(names.includes('DisableKey'), names.join(','));
    assert.deepEqual(await log.intents(0), []);
    const summary = bodies.find((b) => b.eventName === 'KeyholdAuditUnavailable');
    assert.ok(summary !== undefined, names.join(','));
    assert.equal((summary.additionalEventData as { refusedRequests: number }).refusedRequests, 2);
    assert.equal(summary.awsRegion, 'eu-west-1');
    assert.equal(sink.pendingRefusals, 0);
    // A record refused while the database was unreachable was not written.
    assert.ok(!bodies.some((b) => b.eventID === r2.eventId));
    await sink.close();
  } finally {
    await pool.close();
  }
});

test('database hanging: appends reject within 2 s instead of waiting, and succeed again once it runs', { timeout: 120_000 }, async () => {
  const db = await pg().createDatabase();
  const pool = openPool(db, true);
  try {
    await migrate(pool);
    const sink = await openSink(pool, 0, { retryMs: 200, deadlineMs: 1500 });
    await eventually(() => sink.append(record(0)));
    pg().freeze(true);
    let results: { ms: number; error: unknown }[];
    try {
      results = await Promise.all([timed(sink.append(record(1))), timed(sink.append(record(2)))]);
      // A record arriving while the first attempt still hangs gets its own bound too.
      results.push(await timed(sink.append(record(3))));
    } finally {
      pg().freeze(false);
    }
    for (const r of results) {
      assert.ok(r.error instanceof DatabaseUnavailableError, String(r.error));
      assert.ok(r.ms < 2000, `rejected after ${r.ms} ms`);
    }
    const r4 = record(4);
    await eventually(() => sink.append(r4));
    const bodies = await verifiedChain(new PostgresAuditLog(pool), sink.trailId, 0);
    assert.equal(bodies.filter((b) => b === r4.body).length, 1);
    await sink.close();
  } finally {
    await pool.close();
  }
});
