/**
 * The primary's trail in process, with its real writer thread and the SQLite adapter on a manual
 * clock: service events as AWS records them (from the deletion job's callback), recovery of
 * requests whose record never landed, retention that prunes whole digest periods and leaves a
 * trail that still verifies, lookups that merge streams and the unindexed tail, and the
 * CloudTrail-style export with its signed digest files.
 */
import assert from 'node:assert/strict';
import { createPublicKey, randomUUID } from 'node:crypto';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { after, describe, test } from 'node:test';
import { chainLink, genesisHash } from '../../src/audit/chain';
import { apiCallRecord, serviceEventRecord } from '../../src/audit/event';
import { newEventId } from '../../src/audit/event-id';
import { exportTrail, verifyExport } from '../../src/audit/export';
import { OUTCOME_UNKNOWN_MESSAGE } from '../../src/audit/recorder';
import { PUBLIC_KEY_FILE, openSigningKey } from '../../src/audit/signing-key';
import { AuditTrail } from '../../src/audit/trail';
import { verifyTrail } from '../../src/audit/verify';
import { ManualClock } from '../../src/clock';
import { keyArn } from '../../src/keys/arn';
import { newKeyRecord } from '../../src/keys/new-key';
import { deletionJob } from '../../src/lifecycle/deletion-job';
import type { AuditAppend } from '../../src/store/audit-log';
import { SqliteAuditStore } from '../../src/store/sqlite/audit-log-sqlite';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import { openLocalRootOfTrust } from '../../src/trust/local';
import { REPO_ROOT, removeDir, tempDir } from '../helpers/server';
import { apiCallFixture, assertApiCallRecord } from './helpers';

const THREAD = join(REPO_ROOT, 'dist', 'src', 'cli', 'audit-writer-thread.js');
const ACCOUNT = '111122223333';
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const dirs: string[] = [];
const opened: AuditTrail[] = [];
after(async () => {
  // A test that failed before closing its trail would leave the writer thread running and the
  // file's process alive forever: close whatever is still open (closing twice is harmless).
  for (const t of opened) await t.close().catch(() => undefined);
  for (const d of dirs) removeDir(d);
});

async function openTrail(clock: ManualClock, retentionMs = 0, existing?: string): Promise<{ trail: AuditTrail; dataDir: string; dir: string }> {
  const dataDir = existing ?? tempDir('keyhold-trail-');
  if (existing === undefined) dirs.push(dataDir);
  const trust = openLocalRootOfTrust({ dataDir, passphrase: 'audit trail test' });
  const dir = join(dataDir, 'audit');
  const trail = await AuditTrail.open({
    store: new SqliteAuditStore({ dir }),
    dir,
    streams: [0, 1],
    threadScript: THREAD,
    trust,
    publicKeyPath: join(dataDir, PUBLIC_KEY_FILE),
    clock,
    logger: quiet,
    digestIntervalMs: 3_600_000,
    retentionMs,
  });
  opened.push(trail);
  return { trail, dataDir, dir };
}

function apiCall(time: number, name: string, extra: { arn?: string; requestId?: string } = {}): AuditAppend {
  return apiCallFixture(ACCOUNT, time, name, extra);
}

function readStore(dir: string): SqliteAuditStore {
  return new SqliteAuditStore({ dir, readonly: true });
}

function publicKey(dataDir: string): ReturnType<typeof createPublicKey> {
  return createPublicKey(readFileSync(join(dataDir, PUBLIC_KEY_FILE), 'utf8'));
}

describe('service events', () => {
  test('a key deleted at the end of its waiting period is recorded as AWS records it', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const { trail, dataDir, dir } = await openTrail(clock);
    const store = new SqliteStore({ path: join(dataDir, 'keyhold.db') });
    await store.migrate();
    const keyId = randomUUID();
    const arn = keyArn('us-east-1', ACCOUNT, keyId);
    await store.ensureAccount(ACCOUNT, clock.now());
    await store.createKey(
      newKeyRecord(
        { keyId, arn, accountId: ACCOUNT, region: 'us-east-1', keySpec: 'SYMMETRIC_DEFAULT', keyUsage: 'ENCRYPT_DECRYPT', origin: 'AWS_KMS', keyManager: 'CUSTOMER', state: 'PendingDeletion', description: '', policy: '{}', creationDate: clock.now() - 10 * 86_400_000, currentVersion: 0 },
        { deletionDate: clock.now() - 1000, pendingWindowInDays: 7 },
      ),
      null,
      [],
    );
    const deleted = await deletionJob(store, quiet, (name, key, at) => trail.serviceEvent(name, key, at)).runOnce(clock.now());
    assert.equal(deleted, 1);
    await store.close();
    await trail.close();

    const s = readStore(dir);
    try {
      const rows = [...s.stream(0).events(1)];
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.eventName, 'DeleteKey');
      assert.equal(rows[0]!.readOnly, false);
      const r = JSON.parse(rows[0]!.body) as Record<string, any>;
      assert.deepEqual(r.userIdentity, { accountId: ACCOUNT, invokedBy: 'AWS Internal' });
      assert.equal(r.eventType, 'AwsServiceEvent');
      assert.equal(r.eventTime, '2026-06-01T00:00:00Z');
      assert.equal(r.sourceIPAddress, 'AWS Internal');
      assert.equal(r.userAgent, 'AWS Internal');
      assert.equal(r.requestParameters, null);
      assert.equal(r.responseElements, null);
      assert.deepEqual(r.resources, [{ accountId: ACCOUNT, type: 'AWS::KMS::Key', ARN: arn }]);
      assert.deepEqual(r.serviceEventDetails, { keyId });
      assert.equal(r.recipientAccountId, ACCOUNT);
      assert.equal(r.managementEvent, true);
      assert.equal(r.eventCategory, 'Management');
      assert.equal((await verifyTrail(s, publicKey(dataDir))).finding, undefined);
    } finally {
      s.close();
    }
  });
});

describe('recovery', () => {
  test('an intent whose request never got its record becomes an outcome-unknown record, once', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const { trail, dataDir, dir } = await openTrail(clock);
    const requestId = randomUUID();
    const unknown = apiCallRecord({
      ...JSON.parse(JSON.stringify({})),
      time: clock.now(),
      eventId: newEventId(clock.now()),
      requestId,
      userIdentity: { type: 'Root', principalId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:root`, accountId: ACCOUNT, accessKeyId: 'AKIATESTTESTTEST0001' },
      username: 'root',
      accessKeyId: 'AKIATESTTESTTEST0001',
      eventSource: 'kms.amazonaws.com',
      eventName: 'CreateKey',
      region: 'us-east-1',
      sourceIp: '127.0.0.1',
      userAgent: 'test',
      error: { code: 'KMSInternalException', message: OUTCOME_UNKNOWN_MESSAGE },
      requestParameters: { description: 'x' },
      responseElements: null,
      additionalEventData: { outcome: 'unknown' },
      readOnly: false,
      resources: [],
      recipientAccountId: ACCOUNT,
    });
    // A process (pid 2^22 + 1: never a live pid here) wrote an intent and died.
    const dead = 4_194_305;
    await trail.writer.intend({ id: requestId, owner: dead, createdAt: clock.now(), event: unknown });
    assert.equal(await trail.writer.recover(clock.now(), 300_000, [dead]), 1);
    assert.equal(await trail.writer.recover(clock.now(), 300_000, [dead]), 0);
    await trail.close();
    const s = readStore(dir);
    try {
      const rows = [...s.stream(0).events(1)];
      assert.equal(rows.length, 1);
      const r = JSON.parse(rows[0]!.body) as Record<string, any>;
      assertApiCallRecord(r);
      assert.equal(r.requestID, requestId);
      assert.equal(r.errorCode, 'KMSInternalException');
      assert.deepEqual(r.additionalEventData, { outcome: 'unknown' });
      assert.deepEqual(s.stream(0).intents(), []);
      assert.equal((await verifyTrail(s, publicKey(dataDir))).finding, undefined);
    } finally {
      s.close();
    }
  });
});

describe('recovery at start', () => {
  test('every intent of another process is recovered when the trail opens, even if that pid is alive', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const first = await openTrail(clock);
    const requestId = randomUUID();
    // The owner pid names a live process that is not this server (here: the test runner's parent).
    // After kill -9 the dead worker's pid can look like this: a zombie not yet reaped, or reused.
    const other = process.ppid;
    await first.trail.writer.intend({ id: requestId, owner: other, createdAt: clock.now(), event: apiCall(clock.now(), 'CreateKey', { requestId }) });
    assert.equal(await first.trail.writer.recover(clock.now(), 300_000), 0, 'while running, a live owner keeps its intent');
    await first.trail.close();

    const again = await openTrail(clock, 0, first.dataDir);
    await again.trail.close();
    const s = readStore(first.dir);
    try {
      assert.deepEqual(s.stream(0).intents(), []);
      const rows = [...s.stream(0).events(1)].map((r) => JSON.parse(r.body) as Record<string, any>);
      assert.deepEqual(rows.map((r) => r.requestID), [requestId]);
      assert.equal((await verifyTrail(s, publicKey(first.dataDir))).finding, undefined);
    } finally {
      s.close();
    }
  });
});

describe('retention', () => {
  test('whole digest periods past the retention are pruned and the rest still verifies from the cut', async () => {
    const day = 86_400_000;
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const { trail, dataDir, dir } = await openTrail(clock, 2 * day);
    try {
      for (let d = 0; d < 5; d++) {
        for (let i = 0; i < 20; i++) await trail.writer.append(apiCall(clock.now() + i, 'Encrypt'));
        clock.advance(day);
        await trail.writer.digest('interval', clock.now());
      }
      // Pruned at once after the appends: records still only in the journal (SQLite is written
      // behind it) are applied first, so the whole periods go.
      const removed = await trail.writer.prune(clock.now(), 2 * day);
      // The digests at day 1 and day 2 ended before the horizon (day 3): their periods go.
      assert.equal(removed, 40, 'the periods that ended more than two days ago');
      assert.equal(await trail.writer.prune(clock.now(), 2 * day), 0, 'pruning again removes nothing');
    } finally {
      await trail.close();
    }

    const s = readStore(dir);
    try {
      const rows = [...s.stream(0).events(1)];
      assert.equal(rows.length, 60);
      assert.equal(rows[0]!.seq, 41);
      const report = await verifyTrail(s, publicKey(dataDir));
      assert.equal(report.finding, undefined, JSON.stringify(report));
      assert.equal(report.eventsChecked, 60);
    } finally {
      s.close();
    }
    // Deleting the oldest remaining digest is not explained by the signed cut.
    const raw = new (await import('better-sqlite3')).default(join(dir, 'trail.db'));
    const oldest = (raw.prepare('SELECT min(seq) AS s FROM digests').get() as { s: number }).s;
    raw.prepare('DELETE FROM digests WHERE seq = ?').run(oldest);
    raw.close();
    const s2 = readStore(dir);
    try {
      assert.equal((await verifyTrail(s2, publicKey(dataDir))).finding?.kind, 'DIGEST_MISSING');
    } finally {
      s2.close();
    }
  });
});

describe('lookups across streams', () => {
  test('pages merge streams newest first, indexed records and the unindexed tail alike', async () => {
    const dir = join(tempDir('keyhold-lookup-'), 'audit');
    dirs.push(join(dir, '..'));
    const store = new SqliteAuditStore({ dir });
    const trailId = store.initialize(() => 'lookup-trail');
    const a = store.stream(1);
    const b = store.stream(2);
    a.initialize(trailId, genesisHash(trailId, 1));
    b.initialize(trailId, genesisHash(trailId, 2));
    const arn = keyArn('us-east-1', ACCOUNT, randomUUID());
    const t0 = Date.UTC(2026, 2, 1);
    // Same milliseconds in both streams: the order is (time, stream, seq), newest first.
    for (let i = 0; i < 12; i++) {
      a.commit([apiCall(t0 + Math.floor(i / 2), 'Encrypt', { arn })], [], [], chainLink);
      b.commit([apiCall(t0 + Math.floor(i / 2), i % 3 === 0 ? 'Decrypt' : 'Encrypt', { arn })], [], [], chainLink);
      if (i === 5) a.index(1000); // stream 1 half indexed, stream 2 not at all
    }
    const all: string[] = [];
    let after: { time: number; stream: number; seq: number } | undefined;
    for (;;) {
      const page = store.lookup({ account: ACCOUNT, attribute: { key: 'ResourceName', value: arn }, after, limit: 5 });
      all.push(...page.map((r) => `${r.time}/${r.stream}/${r.seq}`));
      if (page.length < 5) break;
      const last = page[page.length - 1]!;
      after = { time: last.time, stream: last.stream, seq: last.seq };
    }
    assert.equal(all.length, 24);
    assert.equal(new Set(all).size, 24);
    const keys = all.map((k) => k.split('/').map(Number) as [number, number, number]);
    for (let i = 1; i < keys.length; i++) {
      const [t1, s1, q1] = keys[i - 1]!;
      const [t2, s2, q2] = keys[i]!;
      assert.ok(t1 > t2 || (t1 === t2 && (s1 > s2 || (s1 === s2 && q1 > q2))), `order at ${i}`);
    }
    assert.equal(store.lookup({ account: ACCOUNT, attribute: { key: 'EventName', value: 'Decrypt' }, limit: 50 }).length, 4);
    assert.equal(store.lookup({ account: ACCOUNT, attribute: { key: 'EventName', value: 'Decrypt' }, startTime: t0 + 4, limit: 50 }).length, 1);
    assert.equal(store.lookup({ account: '999999999999', limit: 50 }).length, 0);
    b.index(1000);
    assert.equal(store.lookup({ account: ACCOUNT, attribute: { key: 'ResourceName', value: arn }, limit: 50 }).length, 24);
    assert.ok(a.indexConsistent() && b.indexConsistent());
    store.close();
  });
});

describe('export', () => {
  test('CloudTrail-style gzipped log files and signed digest files that verify, and a changed log file that does not', async () => {
    const clock = new ManualClock(Date.UTC(2026, 3, 1));
    const { trail, dataDir, dir } = await openTrail(clock);
    for (let i = 0; i < 30; i++) await trail.writer.append(apiCall(clock.now() + i, i % 2 === 0 ? 'Encrypt' : 'Decrypt'));
    clock.advance(3_600_000);
    await trail.writer.digest('interval', clock.now());
    await trail.writer.append(apiCall(clock.now(), 'Encrypt'));
    await trail.close();
    const store = new SqliteAuditStore({ dir, readonly: true });
    const trust = openLocalRootOfTrust({ dataDir, passphrase: 'audit trail test' });
    const out = join(dataDir, 'export');
    try {
      const key = await openSigningKey(store, trust, join(dataDir, PUBLIC_KEY_FILE));
      const report = await exportTrail(store, out, key);
      // The interval digest covers 30 records, the shutdown digest the last one.
      assert.deepEqual(report, { logFiles: 2, digestFiles: 2, records: 31 });
    } finally {
      store.close();
      await trust.close();
    }
    const files = (function walk(d: string): string[] {
      return readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)]));
    })(out);
    const logs = files.filter((f) => /\/CloudTrail\/us-east-1\/2026\/04\/01\/111122223333_CloudTrail_us-east-1_2026040\dT\d{4}Z_[0-9a-f]{16}\.json\.gz$/.test(f));
    assert.equal(logs.length, 2);
    const records = logs.flatMap((f) => (JSON.parse(gunzipSync(readFileSync(f)).toString('utf8')) as { Records: unknown[] }).Records);
    assert.equal(records.length, 31);
    const digests = files
      .filter((f) => f.includes('/CloudTrail-Digest/') && f.endsWith('.json.gz'))
      .map((f) => JSON.parse(gunzipSync(readFileSync(f)).toString('utf8')) as Record<string, any>)
      .sort((x, y) => x.digestEndTime.localeCompare(y.digestEndTime));
    assert.equal(digests.length, 2);
    const digest = digests[0]!;
    assert.equal(digest.awsAccountId, ACCOUNT);
    assert.equal(digest.logFiles.length, 1);
    assert.equal(digest.digestSignatureAlgorithm, 'Ed25519');
    assert.equal(digest.previousDigestSignature, null);
    assert.equal(digests[1]!.previousDigestS3Object, digest.digestS3Object);
    assert.equal(digests[1]!.previousDigestSignature, readFileSync(join(out, `${digest.digestS3Object}.sig`), 'utf8').trim());
    const pub = createPublicKey(readFileSync(join(out, 'keyhold-audit-signing-key.pem'), 'utf8'));
    assert.deepEqual(verifyExport(out, pub), []);
    // One record changed in the signed log file.
    const signed = join(out, digest.logFiles[0].s3Object);
    const text = gunzipSync(readFileSync(signed)).toString('utf8').replace('"Decrypt"', '"Encrypt"');
    writeFileSync(signed, gzipSync(text));
    assert.match(verifyExport(out, pub).join('\n'), /hash does not match/);
  });
});
