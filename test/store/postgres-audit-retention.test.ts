/**
 * Audit retention on a PostgreSQL trail (KEYHOLD_AUDIT_RETENTION_DAYS; src/audit/shared-trail.ts
 * `prune`), against a real, throwaway PostgreSQL cluster, as test/audit/trail.test.ts checks it on
 * SQLite: whole digest periods that ended before the horizon go, a signed digest declares the
 * cut, the rest still verifies from the cut, records a crash left below a declared cut are taken
 * by the next round, and a digest deleted beyond the declared cut is still detected.
 */
import assert from 'node:assert/strict';
import { createPublicKey, randomUUID, type KeyObject } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { chainLink, genesisHash, type Digest } from '../../src/audit/chain';
import { operatorRecord } from '../../src/audit/event';
import { newEventId } from '../../src/audit/event-id';
import { SharedAuditTrail, type SharedDigestLog } from '../../src/audit/shared-trail';
import { verifyTrail, type VerifyReport } from '../../src/audit/verify';
import { ManualClock } from '../../src/clock';
import type { AuditAppend } from '../../src/store/audit-log';
import { LocalLease } from '../../src/store/lease';
import { PostgresAuditLog, PostgresAuditReader } from '../../src/store/postgres/audit-log-postgres';
import { PostgresAuditSink } from '../../src/store/postgres/audit-sink-postgres';
import type { PostgresPool } from '../../src/store/postgres/connection';
import { migrate } from '../../src/store/postgres/migrate';
import { openLocalRootOfTrust } from '../../src/trust/local';
import { openTestPool, usePostgres } from '../helpers/postgres';
import { apiCallFixture } from '../audit/helpers';
import { tempDir } from '../helpers/server';

const pg = usePostgres();
const quiet = { info: () => undefined, error: () => undefined, warn: () => undefined };
const DAY = 86_400_000;

/** An Encrypt record at `time`, in the trail's real format. */
function record(time: number): AuditAppend {
  return apiCallFixture('111122223333', time, 'Encrypt', { arn: 'arn:aws:kms:us-east-1:111122223333:key/k' });
}

/** `audit verify` on one snapshot of the trail (its connection given back). */
async function verifySnapshot(pool: PostgresPool, publicKey: KeyObject): Promise<VerifyReport> {
  const reader = await PostgresAuditReader.snapshot(pool);
  try {
    return await verifyTrail(reader, publicKey);
  } finally {
    await reader.close();
  }
}

/** A sink on stream 1 of the trail in `log`'s database. */
function openSink(log: PostgresAuditLog): Promise<PostgresAuditSink> {
  return PostgresAuditSink.open({
    log, stream: 1, link: chainLink, genesis: genesisHash, newTrailId: () => randomUUID(), logger: quiet, deadlineMs: 60_000,
    refusalRecord: (_r, now) => operatorRecord({ time: now, eventId: newEventId(now), eventName: 'KeyholdAuditUnavailable', region: 'us-east-1', sourceIp: '', additionalEventData: {} }),
  });
}

test('retention on PostgreSQL: whole digest periods past the horizon go, a signed digest declares the cut, the rest verifies; a deleted digest beyond the cut is found', { timeout: 180_000 }, async () => {
  const database = await pg().createDatabase();
  const pool = openTestPool(pg(), database);
  const dir = tempDir('keyhold-pg-retention-');
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const open = async (log: SharedDigestLog & PostgresAuditLog): Promise<SharedAuditTrail> =>
    SharedAuditTrail.open({
      sink: await openSink(log), log, digestLease: new LocalLease('audit-digests'), trust: openLocalRootOfTrust({ dataDir: dir, passphrase: 'retention' }),
      publicKeyPath: join(dir, 'audit-signing-key.pem'), clock, logger: quiet, digestIntervalMs: 3_600_000, retentionMs: 2 * DAY,
    });
  const count = async (): Promise<{ n: number; first: number }> =>
    (await pool.query<{ n: number; first: number }>('SELECT count(*)::int AS n, min(seq)::int AS first FROM audit_events WHERE stream = 1'))[0]!;
  try {
    await migrate(pool);
    const log = new PostgresAuditLog(pool);
    // The first trail "crashes" between the two steps of retention: the cut is declared, no record deleted.
    const crashing = new Proxy(log, {
      get: (target, name) => (name === 'deletePruned' ? async () => 0 : ((v) => (typeof v === 'function' ? v.bind(target) : v))(Reflect.get(target, name, target))),
    });
    const trail = await open(crashing);
    try {
      // Five days of 20 records each, a digest at the end of each day (after the start digest).
      for (let d = 0; d < 5; d++) {
        await Promise.all(Array.from({ length: 20 }, (_, i) => trail.writer.append(record(clock.now() + i))));
        clock.advance(DAY);
        await trail.digest('interval');
      }
      assert.equal(await trail.prune(), 0);
    } finally {
      await trail.close();
    }
    assert.deepEqual(await count(), { n: 100, first: 1 }, 'the crash left every record');
    const digests = (await log.digests()).map((r) => JSON.parse(r.body) as Digest);
    // The digests of day 1 and day 2 ended before the horizon (day 3): their periods go.
    assert.equal(digests.at(-1)!.streams.find((s) => s.stream === 1)?.prunedThroughSeq, 40, 'the newest digest declares the cut');
    assert.equal(digests.find((d) => d.reason === 'prune')?.prunedThroughDigest, digests[0]!.digestSeq - 1, 'the oldest digest kept is the cut digest');
    const publicKey = createPublicKey(readFileSync(join(dir, 'audit-signing-key.pem')));
    assert.equal((await verifySnapshot(pool, publicKey)).finding, undefined, 'records below a declared cut are not a finding');

    // The next round deletes them, though the cut has not moved; the one after finds nothing to do.
    const again = await open(log);
    try {
      assert.equal(await again.prune(), 40);
      assert.equal(await again.prune(), 0, 'pruning again removes nothing');
    } finally {
      await again.close();
    }
    assert.deepEqual(await count(), { n: 60, first: 41 });
    const report = await verifySnapshot(pool, publicKey);
    assert.equal(report.finding, undefined, JSON.stringify(report));
    assert.equal(report.eventsChecked, 60);

    // Deleting the oldest remaining digest is not explained by the signed cut.
    await pool.query('DELETE FROM audit_digests WHERE seq = (SELECT min(seq) FROM audit_digests)');
    assert.equal((await verifySnapshot(pool, publicKey)).finding?.kind, 'DIGEST_MISSING');
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
