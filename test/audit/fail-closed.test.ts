/**
 * Fail closed (docs/architecture.md §1 promise 2): while the trail cannot be written — here another process
 * holds its write lock past the writer's busy timeout — no request is answered with success:
 * reads get a 500 and no result, mutating requests get a 503 and change nothing (their intent
 * could not be written, so they never ran), and once the writer is known to be failing they are
 * refused at once. When the lock goes, the server recovers by itself and the trail verifies.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { CreateKeyCommand, EncryptCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { removeDir, startServer } from '../helpers/server';
import { keyhold } from './helpers';

test('no success is answered while the trail cannot be written, and nothing changes', { timeout: 120_000 }, async () => {
  const server = await startServer();
  const kms = server.client();
  try {
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    await kms.send(new EncryptCommand({ KeyId: key, Plaintext: Buffer.from('before') }));

    const blocker = new Database(join(server.dataDir, 'audit', 'stream-0.db'));
    blocker.pragma('busy_timeout = 10000');
    blocker.exec('BEGIN EXCLUSIVE');
    let released = false;
    try {
      const [enc, create] = await Promise.allSettled([
        kms.send(new EncryptCommand({ KeyId: key, Plaintext: Buffer.from('during') })),
        kms.send(new CreateKeyCommand({ Description: 'must not exist' })),
      ]);
      assert.equal(enc.status, 'rejected');
      assert.equal((enc as PromiseRejectedResult).reason.name, 'KMSInternalException');
      assert.equal((enc as PromiseRejectedResult).reason.$metadata.httpStatusCode, 500);
      assert.equal(create.status, 'rejected');
      assert.equal((create as PromiseRejectedResult).reason.name, 'ServiceUnavailableException');
      assert.equal((create as PromiseRejectedResult).reason.$metadata.httpStatusCode, 503);

      // The writer now knows it is failing: mutating requests are refused before they run.
      const started = Date.now();
      await assert.rejects(kms.send(new CreateKeyCommand({ Description: 'must not exist either' })), { name: 'ServiceUnavailableException' });
      assert.ok(Date.now() - started < 2000, 'refused up front, without waiting for the disk');
      blocker.exec('ROLLBACK');
      released = true;
    } finally {
      if (!released) blocker.exec('ROLLBACK');
      blocker.close();
    }

    // A probe finds the trail writable again within about a second.
    let ok = false;
    for (let i = 0; i < 50 && !ok; i++) {
      try {
        await kms.send(new EncryptCommand({ KeyId: key, Plaintext: Buffer.from('after') }));
        ok = true;
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    assert.ok(ok, 'the server recovered when the trail became writable');
    const keys = await kms.send(new ListKeysCommand({}));
    assert.deepEqual(keys.Keys!.map((k) => k.KeyId), [key], 'no key was created while the trail was failing');
  } finally {
    kms.destroy();
    assert.equal(await server.stop(), 0, server.output());
  }
  try {
    const verify = await keyhold(['audit', 'verify', '--data-dir', server.dataDir]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  } finally {
    removeDir(server.dataDir);
  }
});
