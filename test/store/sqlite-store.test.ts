/** Runs the Store contract on SQLite, plus SQLite-specific cross-connection change detection. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import { removeDir, tempDir } from '../helpers/server';
import { storeContract } from './store-contract';
import { storeInvariantsContract } from './store-invariants-contract';

const dir = tempDir();
const path = join(dir, 'contract.db');
after(() => removeDir(dir));

async function open(): Promise<SqliteStore> {
  const s = new SqliteStore({ path });
  await s.migrate();
  return s;
}

storeContract('sqlite', open);
storeInvariantsContract('sqlite', open);

test('the change feed names what changed: own commits before the write returns, another connection\'s at the next turn\'s refresh', async () => {
  const a = await open();
  const b = await open();
  const seen: string[] = [];
  a.changes.subscribe((c) => seen.push(...(c === 'everything' ? ['everything'] : c.map((x) => `${x.entity} ${x.id}`))));
  await a.ensureAccount('123412341234', 1);
  assert.deepEqual(seen, ['identity '], 'own commit, delivered at once');
  seen.length = 0;
  const arn = 'arn:aws:kms:us-east-1:123412341234:key/11111111-2222-3333-4444-555555555555';
  await b.createKey(
    {
      keyId: '11111111-2222-3333-4444-555555555555', arn, accountId: '123412341234', region: 'us-east-1', keySpec: 'SYMMETRIC_DEFAULT',
      keyUsage: 'ENCRYPT_DECRYPT', origin: 'AWS_KMS', keyManager: 'CUSTOMER', state: 'Enabled', description: '', policy: '{}', multiRegion: false,
      creationDate: 1, deletionDate: null, pendingWindowInDays: null, currentVersion: 1, rotationEnabled: false, rotationPeriodInDays: null,
      nextRotationDate: null, onDemandRotationStartDate: null, expirationModel: null, validTo: null, multiRegionKeyType: null, primaryRegion: null,
    },
    null,
    [{ TagKey: 'k', TagValue: 'v' }],
  );
  a.changes.refresh();
  await new Promise((r) => setImmediate(r));
  a.changes.refresh();
  assert.deepEqual(seen, [`key ${arn}`, `key ${arn}`], 'the key row and its tag');
  seen.length = 0;
  await b.createAlias({ accountId: '123412341234', region: 'us-east-1', aliasName: 'alias/x', targetKeyId: 'k', targetKeyArn: arn, creationDate: 1, lastUpdatedDate: 1 });
  await new Promise((r) => setImmediate(r));
  a.changes.refresh();
  assert.deepEqual([...seen].sort(), ['alias 123412341234:us-east-1:alias/x', `key-aliases ${arn}`]);
  seen.length = 0;
  await b.updateKey(arn, { state: 'PendingDeletion', deletionDate: 1 });
  await b.deleteKeyIfDue(arn, 2);
  await new Promise((r) => setImmediate(r));
  a.changes.refresh();
  assert.ok(seen.includes('alias 123412341234:us-east-1:alias/x'), 'a cascaded alias delete is reported too');
  await a.close();
  await b.close();
});
