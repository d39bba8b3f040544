/**
 * Issue 13: a rotation wraps the new version for every Region's row before its transaction; a
 * replica that appears between that read and the transaction makes the preparation stale
 * (src/store/transaction.ts `transactionAfter`), and it is made again, so the replica gets the
 * version too — no re-check loop in the operation, no second write after the commit. Made
 * deterministic by hiding the replica from the first read only.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CreateKeyCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { ManualClock } from '../../src/clock';
import { Keyring } from '../../src/keys/keyring';
import { rotateKey, type RotationStore } from '../../src/keys/rotate';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import type { KeyRecord } from '../../src/store/store';
import { MAX_PREPARATIONS, StalePreparation, transactionAfter } from '../../src/store/transaction';
import { openLocalRootOfTrust } from '../../src/trust/local';
import { addFakeReplica } from '../helpers/fake-replica';
import { startServer, stopAndRemove, type TestServer } from '../helpers/server';

let server: TestServer;
let kms: KMSClient;
let eu: KMSClient;
let store: SqliteStore;

before(async () => {
  server = await startServer({ args: ['--regions', 'us-east-1,eu-west-1'] });
  kms = server.client();
  eu = server.client({ region: 'eu-west-1' });
  store = new SqliteStore({ path: join(server.dataDir, 'keyhold.db') });
});
after(async () => {
  kms?.destroy();
  eu?.destroy();
  await store?.close();
  await stopAndRemove(server, { exitCode: 0 });
});

test('a replica created after the rotation read its Regions makes the preparation stale: it is prepared again and the replica rotates too', async () => {
  const md = (await kms.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!;
  const replicaArn = await addFakeReplica(server.dataDir, md.Arn!, 'eu-west-1');
  const trust = openLocalRootOfTrust({ dataDir: server.dataDir });
  try {
    const key = (await store.getKey(md.Arn!)) as KeyRecord;
    let reads = 0;
    // The first read of the key's Regions misses the replica, as if ReplicateKey committed right after it.
    const racing: RotationStore = {
      listRelatedKeys: async (accountId, keyId) => {
        reads += 1;
        const rows = await store.listRelatedKeys(accountId, keyId);
        return reads === 1 ? rows.filter((r) => r.arn !== replicaArn) : rows;
      },
      transaction: (fn) => store.transaction(fn),
    };
    const version = await rotateKey(racing, new Keyring(store, trust, new ManualClock(Date.now())), key, 'ON_DEMAND', Date.now());
    assert.ok(version !== undefined, 'the rotation happened');
    assert.equal(reads, 2, 'prepared twice');
    assert.equal(version.version, 2);
    assert.equal((await store.getKey(replicaArn))?.currentVersion, 2);
    assert.equal((await store.getKeyVersion(replicaArn, 2))?.materialId, version.materialId);
    const primary = (await kms.send(new DescribeKeyCommand({ KeyId: md.KeyId }))).KeyMetadata!;
    assert.equal(primary.CurrentKeyMaterialId, version.materialId);
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: md.KeyId, Plaintext: Buffer.from('new version') }));
    const out = await eu.send(new DecryptCommand({ CiphertextBlob, KeyId: replicaArn }));
    assert.equal(Buffer.from(out.Plaintext!).toString(), 'new version');
  } finally {
    await trust.close();
  }
});

test('a preparation that stays stale gives up after MAX_PREPARATIONS rounds, changing nothing', async () => {
  let prepared = 0;
  await assert.rejects(
    transactionAfter(
      store,
      async () => ++prepared,
      async (tx, round) => {
        await tx.keys.lock(`never-${round}`);
        throw new StalePreparation(`round ${round}`);
      },
    ),
    (e: unknown) => e instanceof StalePreparation && e.message === `stale preparation: round ${MAX_PREPARATIONS}`,
  );
  assert.equal(prepared, MAX_PREPARATIONS);
});
