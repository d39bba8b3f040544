/**
 * The IdentityStore port contract (test/store/identity-store-contract.ts) on SQLite: every handle
 * is another SqliteStore (its own connections) on one database file, as another worker process
 * would open it.
 */
import { join } from 'node:path';
import { after } from 'node:test';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import { removeDir, tempDir } from '../helpers/server';
import { identityStorePortContract } from './identity-store-contract';

const dir = tempDir();
const path = join(dir, 'identity.db');
after(() => removeDir(dir));

identityStorePortContract('sqlite', async () => {
  const store = new SqliteStore({ path });
  await store.migrate();
  return {
    identity: store.identity,
    keys: { create: (k) => store.createKey(k, null, []), policy: async (arn) => (await store.getKey(arn))?.policy },
    close: () => store.close(),
  };
});
