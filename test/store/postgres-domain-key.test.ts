/**
 * The sealed domain key of a PostgreSQL deployment (issue 14, DESIGN §6) against a real,
 * throwaway cluster: the first node to start creates it in the database, every node unseals the
 * same key with the same operator secret, a wrong secret is refused, and the database holds only
 * the sealed form.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { PostgresPool } from '../../src/store/postgres/connection';
import { PostgresSealedDomainKey } from '../../src/store/postgres/domain-key';
import { migrate } from '../../src/store/postgres/migrate';
import { openSharedRootOfTrust } from '../../src/trust/local';
import { openTestPool, usePostgres } from '../helpers/postgres';
import { tempDir } from '../helpers/server';

const pg = usePostgres();

function openPool(database: string, realTimeouts = false): PostgresPool {
  return openTestPool(pg(), database, { realTimeouts });
}

test('four nodes starting at once share one domain key created by the first; a wrong secret is refused', { timeout: 120_000 }, async () => {
  const db = await pg().createDatabase();
  const pools = Array.from({ length: 4 }, () => openPool(db));
  const passphrase = 'correct horse battery staple';
  try {
    await Promise.all(pools.map((p) => migrate(p)));
    const trusts = await Promise.all(pools.map((p) => openSharedRootOfTrust({ passphrase }, new PostgresSealedDomainKey(p))));
    const rows = await pools[0]!.query<{ sealed: string }>('SELECT sealed FROM domain_key');
    assert.equal(rows.length, 1);
    const sealed = JSON.parse(rows[0]!.sealed) as Record<string, unknown>;
    assert.deepEqual(Object.keys(sealed).sort(), ['N', 'ct', 'iv', 'kdf', 'p', 'r', 'salt', 'secret', 'tag', 'v']);
    assert.equal(sealed.secret, 'passphrase');
    assert.ok(!rows[0]!.sealed.includes(passphrase));
    // What one node wraps every other unwraps: they hold the same domain key.
    const secret = randomBytes(32);
    const aad = Buffer.from('arn:aws:kms:us-east-1:111122223333:key/k#1');
    for (const from of trusts) {
      const wrapped = await from.wrap(secret, aad);
      for (const to of trusts) assert.ok((await to.unwrap(wrapped, aad)).equals(secret));
    }
    // A later start unseals the stored key.
    const later = await openSharedRootOfTrust({ passphrase }, new PostgresSealedDomainKey(pools[1]!));
    assert.ok((await later.unwrap(await trusts[0]!.wrap(secret, aad), aad)).equals(secret));
    await assert.rejects(openSharedRootOfTrust({ passphrase: 'wrong' }, new PostgresSealedDomainKey(pools[2]!)), {
      message: 'cannot unseal the domain key in the database (table domain_key): the master passphrase (KEYHOLD_MASTER_PASSPHRASE) does not match',
    });
    await assert.rejects(openSharedRootOfTrust({}, new PostgresSealedDomainKey(pools[2]!)), {
      message: 'nodes that share a database share one domain key: give every node the same KEYHOLD_MASTER_PASSPHRASE or --master-key-file',
    });
    for (const t of [...trusts, later]) await t.close();
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
});

test('a key file shared by the nodes seals it too; a missing key file is refused, never generated', { timeout: 120_000 }, async () => {
  const db = await pg().createDatabase();
  const pool = openPool(db);
  const dir = tempDir();
  try {
    await migrate(pool);
    const keyFile = join(dir, 'master.key');
    writeFileSync(keyFile, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
    const a = await openSharedRootOfTrust({ keyFile }, new PostgresSealedDomainKey(pool));
    const b = await openSharedRootOfTrust({ keyFile }, new PostgresSealedDomainKey(pool));
    const aad = Buffer.from('aad');
    assert.ok((await b.unwrap(await a.wrap(Buffer.from('x'), aad), aad)).equals(Buffer.from('x')));
    await assert.rejects(openSharedRootOfTrust({ keyFile: join(dir, 'missing.key') }, new PostgresSealedDomainKey(pool)), {
      message: `master key file ${join(dir, 'missing.key')} does not exist`,
    });
    await assert.rejects(openSharedRootOfTrust({ passphrase: 'p' }, new PostgresSealedDomainKey(pool)), /master key file does not match/);
    await a.close();
    await b.close();
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
