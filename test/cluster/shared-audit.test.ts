/**
 * The audit trail of a PostgreSQL deployment through the wire (issue 14): two nodes of two
 * workers each, started at the same moment on an empty database.
 *  - Provisioning under an advisory lock: exactly one account and one administrator key, and
 *    exactly one node writes DATA_DIR/credentials.
 *  - Every process appends to a stream of its own in PostgreSQL (no node writes a local trail);
 *    every acknowledged request's record is in the database when its response arrives, so
 *    LookupEvents on either node finds the records of both at once.
 *  - Interval digests come from the holder of one lease, not from every node.
 *  - After both stop, `keyhold audit verify --store URL` finds the trail intact.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CreateKeyCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { usePostgres } from '../helpers/postgres';
import { keyhold } from '../helpers/keyhold-cli';
import { readCredentials, stopAndRemove, type TestServer } from '../helpers/server';
import { cloudTrail, lookupRequestIds, startNode } from './pg-cluster';

const pg = usePostgres();
const servers: TestServer[] = [];
after(async () => {
  for (const s of servers) await stopAndRemove(s).catch(() => undefined);
}, { timeout: 60_000 });

const DIGEST_INTERVAL_S = 1;

test('two nodes started at once: one administrator; every record in PostgreSQL, LookupEvents on either node sees both; digests from one lease holder; audit verify --store passes', { timeout: 240_000 }, async (t) => {
  const database = await pg().createDatabase('keyhold_shared_audit');
  const env = { KEYHOLD_AUDIT_DIGEST_INTERVAL_S: String(DIGEST_INTERVAL_S) };
  const started = await Promise.allSettled([startNode(pg(), database, 2, env), startNode(pg(), database, 2, env)]);
  for (const s of started) if (s.status === 'fulfilled') servers.push(s.value);
  for (const s of started) if (s.status === 'rejected') throw s.reason;
  const [a, b] = servers as [TestServer, TestServer];

  // Exactly one administrator, written by exactly one node; the other says why it made none.
  const writers = servers.filter((s) => existsSync(join(s.dataDir, 'credentials')));
  assert.equal(writers.length, 1, 'exactly one node wrote DATA_DIR/credentials');
  const other = servers.find((s) => s !== writers[0]) as TestServer;
  assert.match(other.output(), /no administrator was created \(the store already holds accounts\)/);
  assert.deepEqual(await pg().query('SELECT count(*)::int AS n FROM accounts', [], database), [{ n: 1 }]);
  assert.deepEqual(await pg().query('SELECT count(*)::int AS n FROM access_keys', [], database), [{ n: 1 }]);
  const creds = readCredentials((writers[0] as TestServer).dataDir);

  // Each process of each node (a primary and two workers per node) holds a stream of its own.
  const claims = await pg().query("SELECT count(*)::int AS n FROM leases WHERE name LIKE 'audit-stream/%'", [], database);
  assert.deepEqual(claims, [{ n: 6 }]);

  const ka = a.client(creds);
  const kb = b.client(creds);
  const key = (await ka.send(new CreateKeyCommand({ Description: 'shared audit' }))).KeyMetadata;
  const keyId = key?.KeyId as string;
  const acknowledged = new Map<string, string>();
  const windowStart = Date.now();
  for (let i = 0; i < 20; i++) {
    const client = i % 2 === 0 ? ka : kb;
    const out = await client.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from(`record ${i}`) }));
    acknowledged.set(out.$metadata.requestId as string, i % 2 === 0 ? 'a' : 'b');
  }
  // Every record is in the database already (acknowledged means committed): no wait, from either node.
  for (const node of [a, b]) {
    const found = await lookupRequestIds(cloudTrail(node, creds), 'ResourceName', key?.Arn as string);
    for (const [id, from] of acknowledged) assert.equal(found.get(id), 'Encrypt', `request ${id} (served by ${from}) in LookupEvents on ${node === a ? 'a' : 'b'}`);
  }
  // The records came from streams of both nodes' workers, none from a local SQLite trail.
  const streams = await pg().query('SELECT count(DISTINCT stream)::int AS n FROM audit_events WHERE request_id = ANY($1::text[])', [[...acknowledged.keys()]], database);
  assert.ok(((streams[0] as { n: number }).n) >= 2, `records of several streams: ${JSON.stringify(streams)}`);
  for (const s of servers) assert.ok(!existsSync(join(s.dataDir, 'audit')), 'no local audit trail in a PostgreSQL deployment');

  // Interval digests: one lease holder writes them, so their number follows the interval, not
  // the number of nodes (two writers would make about twice as many).
  const before = await pg().query("SELECT count(*)::int AS n FROM audit_digests WHERE body::json->>'reason' = 'interval'", [], database);
  const waitStart = Date.now();
  await new Promise((r) => setTimeout(r, 5000));
  const afterWait = await pg().query("SELECT count(*)::int AS n FROM audit_digests WHERE body::json->>'reason' = 'interval'", [], database);
  const elapsedS = (Date.now() - waitStart) / 1000;
  const written = (afterWait[0] as { n: number }).n - (before[0] as { n: number }).n;
  t.diagnostic(`${written} interval digests in ${elapsedS.toFixed(1)} s at one per ${DIGEST_INTERVAL_S} s, two nodes (${Date.now() - windowStart} ms since the first request)`);
  assert.ok(written >= 1, 'the lease holder writes interval digests');
  assert.ok(written <= Math.ceil(elapsedS / DIGEST_INTERVAL_S) + 1, `${written} interval digests in ${elapsedS} s: more than one writer`);
  const holders = await pg().query("SELECT holder FROM leases WHERE name = 'audit-digests' AND expires_at > $1", [Date.now()], database);
  assert.equal(holders.length, 1);

  assert.equal(await a.stop(), 0);
  assert.equal(await b.stop(), 0);
  const verify = await keyhold(['audit', 'verify', '--store', pg().url(database), '--store-password-file', pg().passwordFile, '--public-key', join(a.dataDir, 'audit-signing-key.pem')], {
    env: { PGPASSWORD: '', PGPASSFILE: '/nonexistent' },
  });
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  assert.match(verify.stdout, /intact: \d+ record\(s\) in 6 stream\(s\), \d+ digest\(s\)/);
  // Both shutdown digests signed everything: nothing after the newest digest.
  assert.doesNotMatch(verify.stdout, /after the newest digest/);
  const shutdowns = await pg().query("SELECT count(*)::int AS n FROM audit_digests WHERE body::json->>'reason' = 'shutdown'", [], database);
  assert.deepEqual(shutdowns, [{ n: 2 }]);
});
