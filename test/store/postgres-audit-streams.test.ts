/**
 * Audit streams and intent owners across nodes sharing one PostgreSQL database (issue 14, from
 * review): streams are claimed from the database (src/store/postgres/audit-stream-claim.ts), so
 * two nodes never append to the same stream by accident; intents are owned by the claim, unique
 * across nodes (a PID is not); a lapsed node's intents are recovered once; and the trail that
 * nodes writing at once leave verifies (src/audit/verify.ts through the PostgreSQL reader).
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { test } from 'node:test';
import { chainLink, genesisHash, nextDigest, publicKeyFingerprint, signDigest } from '../../src/audit/chain';
import { apiCallRecord, operatorRecord } from '../../src/audit/event';
import { newEventId } from '../../src/audit/event-id';
import { verifyTrail } from '../../src/audit/verify';
import { ManualClock, type Clock } from '../../src/clock';
import type { AuditAppend, AuditIntent } from '../../src/store/audit-log';
import { PostgresAuditLog, PostgresAuditReader } from '../../src/store/postgres/audit-log-postgres';
import { PostgresAuditSink, type RefusalSummary } from '../../src/store/postgres/audit-sink-postgres';
import { claimAuditStream, type AuditStreamClaim } from '../../src/store/postgres/audit-stream-claim';
import type { PostgresPool } from '../../src/store/postgres/connection';
import { migrate } from '../../src/store/postgres/migrate';
import { openTestPool, usePostgres } from '../helpers/postgres';

const pg = usePostgres();
const quiet = { error: () => undefined, warn: () => undefined };

function refusalRecord(r: RefusalSummary, now: number): AuditAppend {
  return operatorRecord({ time: now, eventId: newEventId(now), eventName: 'KeyholdAuditUnavailable', region: r.region, sourceIp: '', additionalEventData: { refusedRequests: r.count } });
}

function record(n: number, eventName = 'Encrypt'): AuditAppend {
  const time = Date.UTC(2026, 11, 6, 12) + n;
  return apiCallRecord({
    time,
    eventId: newEventId(time),
    requestId: randomUUID(),
    userIdentity: { type: 'IAMUser', accountId: '111122223333', userName: 'alice', accessKeyId: 'AKIAEXAMPLE' },
    username: 'alice',
    accessKeyId: 'AKIAEXAMPLE',
    eventSource: 'kms.amazonaws.com',
    eventName,
    region: 'us-east-1',
    sourceIp: '127.0.0.1',
    userAgent: 'test',
    requestParameters: { n },
    responseElements: null,
    readOnly: eventName === 'Encrypt',
    resources: [{ accountId: '111122223333', type: 'AWS::KMS::Key', arn: `arn:aws:kms:us-east-1:111122223333:key/${n % 5}` }],
    recipientAccountId: '111122223333',
  });
}

/** An intent as the recorder writes it: its owner is this process's PID, the same on every "node" of this test. */
function intent(n: number): AuditIntent {
  return { id: `req-${n}-${randomUUID()}`, owner: process.pid, createdAt: Date.now(), event: record(n, 'DisableKey') };
}

/** One node: its own pool, log, stream claim and sink. */
interface Node {
  readonly pool: PostgresPool;
  readonly log: PostgresAuditLog;
  readonly claim: AuditStreamClaim;
  readonly sink: PostgresAuditSink;
  close(): Promise<void>;
}

async function startNode(db: string, holder: string, clock: Clock, ttlMs?: number): Promise<Node> {
  const pool = openTestPool(pg(), db);
  const log = new PostgresAuditLog(pool);
  const trailId = await log.initialize(() => randomUUID());
  const claim = await claimAuditStream({ pool, log, holder, clock, trailId, genesis: genesisHash, link: chainLink, ttlMs });
  const sink = await PostgresAuditSink.open({
    deadlineMs: 60_000,
    log,
    stream: claim.stream,
    link: chainLink,
    genesis: genesisHash,
    refusalRecord,
    newTrailId: () => randomUUID(),
    logger: quiet,
  });
  return {
    pool,
    log,
    claim,
    sink,
    close: async () => {
      await sink.close();
      await pool.close();
    },
  };
}

async function freshDatabase(): Promise<string> {
  const db = await pg().createDatabase('keyhold_streams');
  const pool = openTestPool(pg(), db);
  try {
    await migrate(pool);
  } finally {
    await pool.close();
  }
  return db;
}

async function digest(log: PostgresAuditLog, trailId: string, privateKey: KeyObject, fingerprint: string): Promise<void> {
  await log.writeDigest((heads, last) => {
    const d = nextDigest(heads, last, { trailId, reason: 'interval', now: Date.now(), fingerprint });
    const { body, signature } = signDigest(d, privateKey);
    return { seq: d.digestSeq, body, signature };
  });
}

async function verifyAll(pool: PostgresPool, publicKey: KeyObject): Promise<Awaited<ReturnType<typeof verifyTrail>>> {
  const reader = await PostgresAuditReader.snapshot(pool);
  try {
    return await verifyTrail(reader, publicKey);
  } finally {
    await reader.close();
  }
}

test('nodes starting at once on one database each claim a different stream; a released stream is reused with a newer owner', { timeout: 180_000 }, async () => {
  const db = await freshDatabase();
  const clock = new ManualClock(Date.UTC(2026, 11, 7));
  // Six nodes; every one is "PID" process.pid here, as two hosts' processes may well be.
  const nodes = await Promise.all(Array.from({ length: 6 }, (_, i) => startNode(db, `host-${i}:${process.pid}`, clock)));
  try {
    assert.deepEqual(nodes.map((n) => n.claim.stream).sort((a, b) => a - b), [0, 1, 2, 3, 4, 5]);
    assert.ok(nodes.every((n) => n.claim.held()));
    const gone = nodes[2] as Node;
    const stream = gone.claim.stream;
    await gone.claim.release();
    assert.equal(gone.claim.held(), false);
    const next = await startNode(db, `host-6:${process.pid}`, clock);
    try {
      assert.equal(next.claim.stream, stream, 'the lowest free stream is reused');
      assert.ok(next.claim.owner > gone.claim.owner, `owner ${next.claim.owner} after ${gone.claim.owner}`);
    } finally {
      await next.close();
    }
  } finally {
    for (const n of nodes) await n.close();
  }
});

test('two nodes writing at once on one database: separate streams, intents owned by their claims, and the trail verifies', { timeout: 180_000 }, async () => {
  const db = await freshDatabase();
  const clock = new ManualClock(Date.UTC(2026, 11, 7));
  const [a, b] = [await startNode(db, `host-a:${process.pid}`, clock), await startNode(db, `host-b:${process.pid}`, clock)] as [Node, Node];
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const fingerprint = publicKeyFingerprint(publicKey);
  try {
    assert.notEqual(a.claim.stream, b.claim.stream);
    // Records and intents from both nodes, interleaved, in waves while commits are in flight.
    const pendingA = [intent(1), intent(2)];
    const pendingB = [intent(3)];
    const work: Promise<void>[] = [...pendingA.map((i) => a.sink.intend(i)), ...pendingB.map((i) => b.sink.intend(i))];
    for (let w = 0; w < 30; w++) {
      for (let i = 0; i < 10; i++) {
        work.push(a.sink.append(record(w * 100 + i)));
        work.push(b.sink.append(record(w * 100 + 50 + i)));
      }
      if (w === 15) work.push(digest(a.log, a.sink.trailId, privateKey, fingerprint));
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(work);
    await digest(b.log, b.sink.trailId, privateKey, fingerprint);
    // The pending intents are stored with their claim's owner, not the (shared) PID.
    const stored = await a.log.intents();
    assert.deepEqual(
      stored.map((i) => [i.id, i.stream, i.owner]).sort(),
      [...pendingA.map((i) => [i.id, a.claim.stream, a.claim.owner]), ...pendingB.map((i) => [i.id, b.claim.stream, b.claim.owner])].sort(),
    );
    // Neither node treats the other's live intents as orphans.
    assert.equal(await a.claim.recoverOrphans(), 0);
    assert.equal(await b.claim.recoverOrphans(), 0);
    const report = await verifyAll(a.pool, publicKey);
    assert.equal(report.finding, undefined, JSON.stringify(report.finding));
    assert.equal(report.eventsChecked, 600);
    assert.equal(report.streamsChecked, 2);
    assert.equal(report.digestsChecked, 2);
  } finally {
    await a.close();
    await b.close();
  }
});

test('a node whose claim lapsed leaves its intents to the next claimants: each becomes an outcome-unknown record once, a live node\'s stay', { timeout: 180_000 }, async () => {
  const db = await freshDatabase();
  const clock = new ManualClock(Date.UTC(2026, 11, 7));
  const a = await startNode(db, `host-a:${process.pid}`, clock, 1000);
  const b = await startNode(db, `host-b:${process.pid}`, clock, 3_600_000);
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  try {
    await a.sink.append(record(1));
    const orphans = [intent(10), intent(11), intent(12)];
    await Promise.all(orphans.map((i) => a.sink.intend(i)));
    const live = [intent(20), intent(21)];
    await Promise.all(live.map((i) => b.sink.intend(i)));
    await digest(a.log, a.sink.trailId, privateKey, publicKeyFingerprint(publicKey));
    // Node A stops renewing (a dead host): its claim lapses; B's does not.
    await a.sink.close();
    clock.advance(2000);
    assert.equal(a.claim.held(), false);
    assert.equal(b.claim.held(), true);
    // Two nodes start at once: one takes A's stream, one a new stream; both look for orphans.
    const [c, d] = await Promise.all([startNode(db, `host-c:${process.pid}`, clock), startNode(db, `host-d:${process.pid}`, clock)]);
    try {
      assert.deepEqual([c.claim.stream, d.claim.stream].sort(), [a.claim.stream, 2].sort());
      const reused = c.claim.stream === a.claim.stream ? c : d;
      assert.ok(reused.claim.owner > a.claim.owner);
      // A's intents became records exactly once, across both streams; B's are still pending.
      const reader = PostgresAuditReader.live(c.pool);
      const recovered: string[] = [];
      for (const s of await reader.streamIds()) {
        for await (const r of reader.events(s, 1)) if (r.eventName === 'DisableKey') recovered.push(r.body);
      }
      assert.deepEqual(recovered.sort(), orphans.map((i) => i.event.body).sort());
      assert.deepEqual((await c.log.intents()).map((i) => i.id).sort(), live.map((i) => i.id).sort());
      assert.equal(await c.claim.recoverOrphans(), 0);
      assert.equal(await d.claim.recoverOrphans(), 0);
      // The reused stream continues A's chain: one record of A, then the new node's.
      await reused.sink.append(record(99));
      await digest(c.log, c.sink.trailId, privateKey, publicKeyFingerprint(publicKey));
      const report = await verifyAll(c.pool, publicKey);
      assert.equal(report.finding, undefined, JSON.stringify(report.finding));
      assert.equal(report.eventsChecked, 1 + orphans.length + 1);
    } finally {
      await c.close();
      await d.close();
    }
  } finally {
    await a.pool.close();
    await b.close();
  }
});
