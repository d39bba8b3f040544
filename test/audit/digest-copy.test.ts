/**
 * Delivered digests (issue 11): with --audit-digest-copy every digest is written to a second
 * directory as it is made — at start, every interval (60 s by default) and at shutdown — and
 * `keyhold audit verify --digests DIR` checks the trail against them (tamper.test.ts drives the
 * truncations they expose).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { CreateKeyCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { loadConfig } from '../../src/config';
import { removeDir, startServer, tempDir } from '../helpers/server';
import { keyhold } from './helpers';

test('a digest is written every 60 s by default', () => {
  assert.equal(loadConfig({}, {}).auditDigestIntervalS, 60);
  assert.equal(loadConfig({}, {}).auditDigestCopy, undefined);
  assert.equal(loadConfig({ 'audit-digest-copy': '/mnt/elsewhere' }, {}).auditDigestCopy, '/mnt/elsewhere');
});

test('every digest is delivered to the copy directory as it is written, and the trail verifies against them', { timeout: 120_000 }, async () => {
  const copyDir = tempDir('keyhold-digest-copy-');
  const server = await startServer({ args: ['--audit-digest-copy', copyDir], env: { KEYHOLD_AUDIT_DIGEST_INTERVAL_S: '1' } });
  const kms = server.client();
  const files = (): string[] => readdirSync(copyDir).filter((f) => f.endsWith('.json')).sort();
  try {
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    await kms.send(new EncryptCommand({ KeyId: key, Plaintext: Buffer.from('signed soon') }));
    // The start digest and at least two interval digests arrive while the server runs (1 s interval; wide margin).
    const deadline = Date.now() + 60_000;
    while (files().length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.ok(files().length >= 3, `${files().length} digest copies while running`);
    // Each copy is byte for byte the stored digest of its number.
    const trail = new Database(join(server.dataDir, 'audit', 'trail.db'), { readonly: true });
    try {
      for (const f of files().slice(0, 3)) {
        const copy = JSON.parse(readFileSync(join(copyDir, f), 'utf8')) as { seq: number; body: string; signature: string };
        const stored = trail.prepare('SELECT body, signature FROM digests WHERE seq = ?').get(copy.seq) as { body: string; signature: string };
        assert.deepEqual({ body: copy.body, signature: copy.signature }, stored, f);
      }
    } finally {
      trail.close();
    }
  } finally {
    kms.destroy();
    assert.equal(await server.stop(), 0, server.output());
  }
  try {
    const trail = new Database(join(server.dataDir, 'audit', 'trail.db'), { readonly: true });
    const stored = (trail.prepare('SELECT count(*) AS n FROM digests').get() as { n: number }).n;
    const reasons = (trail.prepare('SELECT body FROM digests ORDER BY seq').all() as { body: string }[]).map((r) => JSON.parse(r.body).reason);
    trail.close();
    assert.equal(files().length, stored, 'the shutdown digest was delivered too');
    assert.equal(reasons[0], 'start');
    assert.equal(reasons[reasons.length - 1], 'shutdown');
    const v = await keyhold(['audit', 'verify', '--data-dir', server.dataDir, '--digests', copyDir]);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.match(v.stdout, new RegExp(`${stored} delivered digest\\(s\\)`));
  } finally {
    removeDir(server.dataDir);
    removeDir(copyDir);
  }
});
