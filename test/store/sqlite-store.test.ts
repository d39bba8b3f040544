/** Runs the Store contract on SQLite, plus SQLite-specific cross-connection change detection. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import { removeDir, tempDir } from '../helpers/server';
import { storeContract } from './store-contract';

const dir = tempDir();
const path = join(dir, 'contract.db');
after(() => removeDir(dir));

storeContract('sqlite', async () => {
  const s = new SqliteStore({ path });
  await s.migrate();
  return s;
});

test('changeToken moves (from the next turn of the event loop) when another connection commits, not on its own writes', async () => {
  const a = new SqliteStore({ path });
  const b = new SqliteStore({ path });
  await a.migrate();
  const before = a.changeToken();
  await a.ensureAccount('123412341234', 1);
  assert.equal(a.changeToken(), before);
  await b.ensureAccount('432143214321', 1);
  // Read at most once per turn of the event loop: the next turn sees the other commit.
  assert.equal(a.changeToken(), before, 'the value read in this turn holds for the rest of it');
  await new Promise((r) => setImmediate(r));
  assert.notEqual(a.changeToken(), before);
  await a.close();
  await b.close();
});
