/** The local root of trust: sealing, unsealing with the right secret only, AAD binding. */
import assert from 'node:assert/strict';
import { readFileSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openLocalRootOfTrust } from '../../src/trust/local';
import { removeDir, tempDir } from '../helpers/server';

test('first open generates a 0600 key file, reopening unwraps what was wrapped', async () => {
  const dir = tempDir();
  try {
    let generated = '';
    const a = openLocalRootOfTrust({ dataDir: dir, onGenerated: (p) => (generated = p) });
    assert.equal(generated, join(dir, 'master.key'));
    assert.equal(statSync(generated).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'domain-key.sealed')).mode & 0o777, 0o600);
    const wrapped = await a.wrap(Buffer.from('secret material'), Buffer.from('aad-1'));
    assert.ok(!wrapped.includes(Buffer.from('secret material')));
    const b = openLocalRootOfTrust({ dataDir: dir });
    assert.equal((await b.unwrap(wrapped, Buffer.from('aad-1'))).toString(), 'secret material');
    await assert.rejects(b.unwrap(wrapped, Buffer.from('aad-2')));
    const tampered = Buffer.from(wrapped);
    tampered[tampered.length - 1]! ^= 1;
    await assert.rejects(b.unwrap(tampered, Buffer.from('aad-1')));
  } finally {
    removeDir(dir);
  }
});

test('a passphrase-sealed domain key opens only with that passphrase', async () => {
  const dir = tempDir();
  try {
    const a = openLocalRootOfTrust({ dataDir: dir, passphrase: 'correct horse' });
    assert.equal(existsSync(join(dir, 'master.key')), false);
    const wrapped = await a.wrap(Buffer.from('m'), Buffer.from('x'));
    assert.throws(() => openLocalRootOfTrust({ dataDir: dir, passphrase: 'wrong horse' }), /does not match/);
    const b = openLocalRootOfTrust({ dataDir: dir, passphrase: 'correct horse' });
    assert.equal((await b.unwrap(wrapped, Buffer.from('x'))).toString(), 'm');
    const sealed = readFileSync(join(dir, 'domain-key.sealed'), 'utf8');
    assert.match(sealed, /"kdf": "scrypt"/);
  } finally {
    removeDir(dir);
  }
});
