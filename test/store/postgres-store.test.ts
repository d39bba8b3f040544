/**
 * The Store contract suites run unchanged against PostgreSQL (issue 14), on a throwaway cluster
 * (test/helpers/postgres.ts), plus what only the PostgreSQL change feed does: LISTEN/NOTIFY
 * across connections, the marks file shared by a node's workers, and 'everything' after the
 * listening connection was lost.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { PostgresIdentityStore } from '../../src/store/postgres/postgres-identity-store';
import { PostgresStore } from '../../src/store/postgres/postgres-store';
import type { KeyRecord } from '../../src/store/store';
import { usePostgres } from '../helpers/postgres';
import { removeDir, tempDir } from '../helpers/server';
import { storeContract } from './store-contract';
import { storeInvariantsContract } from './store-invariants-contract';

const pg = usePostgres();
let database = '';
let created: Promise<void> | undefined;
const dir = tempDir();
after(() => removeDir(dir));

/** One database for the file, made by the first test that needs it (the cluster starts in a hook). */
function ensureDatabase(): Promise<void> {
  created ??= pg().createDatabase().then(async (name) => {
    database = name;
    const s = make();
    await s.migrate();
    await s.close();
  });
  return created;
}

function make(marks?: { path: string; slot: number }): PostgresStore {
  const c = pg();
  return new PostgresStore({
    url: c.url(database),
    passwordFile: c.passwordFile,
    env: {},
    max: 4,
    // Patient bounds: a loaded CI machine must not turn a slow answer into a failure the test is not about.
    connectTimeoutMs: 30_000,
    queryTimeoutMs: 30_000,
    deadlineMs: 60_000,
    identity: (pool) => new PostgresIdentityStore(pool),
    ...(marks === undefined ? {} : { marks }),
  });
}

async function open(): Promise<PostgresStore> {
  await ensureDatabase();
  const s = make();
  await s.migrate();
  await s.changes.ready();
  return s;
}

storeContract('postgres', open);
storeInvariantsContract('postgres', open);

function key(): KeyRecord {
  const keyId = randomUUID();
  return {
    keyId, arn: `arn:aws:kms:us-east-1:123412341234:key/${keyId}`, accountId: '123412341234', region: 'us-east-1', keySpec: 'SYMMETRIC_DEFAULT',
    keyUsage: 'ENCRYPT_DECRYPT', origin: 'AWS_KMS', keyManager: 'CUSTOMER', state: 'Enabled', description: '', policy: '{}', multiRegion: false,
    creationDate: 1, deletionDate: null, pendingWindowInDays: null, currentVersion: 1, rotationEnabled: false, rotationPeriodInDays: null,
    nextRotationDate: null, onDemandRotationStartDate: null, expirationModel: null, validTo: null, multiRegionKeyType: null, primaryRegion: null,
  };
}

function recorder(s: PostgresStore): string[] {
  const seen: string[] = [];
  s.changes.subscribe((c) => seen.push(...(c === 'everything' ? ['everything'] : c.map((x) => `${x.entity} ${x.id}`))));
  return seen;
}

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('the change feed: own commits before the write returns, another node\'s by NOTIFY, cascades included', { timeout: 60_000 }, async () => {
  const a = await open();
  const b = await open();
  try {
    const seenA = recorder(a);
    const seenB = recorder(b);
    await a.ensureAccount('123412341234', 1);
    assert.deepEqual(seenA, ['identity '], 'own commit, delivered before the call returned');
    const k = key();
    await b.createKey(k, null, [{ TagKey: 'k', TagValue: 'v' }]);
    await until('A hears B\'s key', () => seenA.filter((x) => x === `key ${k.arn}`).length === 1);
    assert.ok(seenB.includes(`key ${k.arn}`), 'B\'s own change was delivered before createKey returned');
    seenA.length = 0;
    await b.createAlias({ accountId: '123412341234', region: 'us-east-1', aliasName: 'alias/x', targetKeyId: k.keyId, targetKeyArn: k.arn, creationDate: 1, lastUpdatedDate: 1 });
    await until('A hears the alias', () => seenA.length >= 2);
    assert.deepEqual([...seenA].sort(), ['alias 123412341234:us-east-1:alias/x', `key-aliases ${k.arn}`]);
    seenA.length = 0;
    await b.updateKey(k.arn, { state: 'PendingDeletion', deletionDate: 1 });
    await b.deleteKeyIfDue(k.arn, 2);
    await until('A hears the cascaded alias delete', () => seenA.includes('alias 123412341234:us-east-1:alias/x'));
    // A rolled-back transaction notifies nobody.
    seenA.length = 0;
    const k2 = key();
    await a.createKey(k2, null, []);
    seenA.length = 0;
    await assert.rejects(b.transaction(async (tx) => {
      await tx.keys.update(k2.arn, { description: 'never' });
      throw new Error('refused');
    }), /refused/);
    await b.updateKey(k2.arn, { description: 'after' });
    await until('A hears the later commit', () => seenA.includes(`key ${k2.arn}`));
    assert.deepEqual(seenA, [`key ${k2.arn}`], 'only the committed update');
  } finally {
    await a.close();
    await b.close();
  }
});

test('sibling workers of a node: after a write returns, the other worker has its changes or treats everything as changed at once', { timeout: 60_000 }, async () => {
  await ensureDatabase();
  const path = join(dir, `marks-${randomUUID()}`);
  const w1 = make({ path, slot: 1 });
  const w2 = make({ path, slot: 2 });
  await w1.changes.ready();
  await w2.changes.ready();
  try {
    const seen2 = recorder(w2);
    for (let i = 0; i < 30; i++) {
      const k = key();
      seen2.length = 0;
      await w1.createKey(k, null, []);
      // What a request to the sibling does first, in the same turn the write was acknowledged.
      w2.changes.refresh();
      assert.ok(seen2.includes(`key ${k.arn}`) || seen2.includes('everything'), `round ${i}: ${JSON.stringify(seen2)}`);
      await new Promise((r) => setImmediate(r));
    }
    // Once heard, a refresh says nothing more.
    await new Promise((r) => setTimeout(r, 200));
    seen2.length = 0;
    w2.changes.refresh();
    assert.deepEqual(seen2, []);
  } finally {
    await w1.close();
    await w2.close();
  }
});

test('a lost listening connection: everything is changed once it listens again, and the feed keeps working', { timeout: 60_000 }, async () => {
  const a = await open();
  const b = await open();
  try {
    const seenA = recorder(a);
    await pg().query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'keyhold-changes' AND datname = $1", [database]);
    await until('A treats everything as changed', () => seenA.includes('everything'));
    await until('A listens again', () => a.changes.healthy);
    seenA.length = 0;
    const k = key();
    await b.createKey(k, null, []);
    await until('A hears B again', () => seenA.includes(`key ${k.arn}`));
  } finally {
    await a.close();
    await b.close();
  }
});
