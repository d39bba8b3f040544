/**
 * Journal first, SQLite behind (issue 11): a request is answered once its record's journal frame
 * is fdatasync'd; the SQLite stream file (records and lookup index) is written behind it and
 * rebuilt from the journal after a crash. The holdApply test hook keeps the writer threads
 * from applying frames to SQLite, so the kill -9 lands after the journal's fsync and before the
 * SQLite write every time, not by chance: LookupEvents must already show the records (read from
 * the journal), the SQLite files must not hold them, and after a restart both must.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { CreateKeyCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { killAll } from '../helpers/processes';
import { removeDir, startServer, tempDir, type TestServer } from '../helpers/server';
import { keyhold, lookupAll, trailRows } from './helpers';

let dataDir: string | undefined;
let current: TestServer | undefined;
after(async () => {
  if (current && current.process.exitCode === null && current.process.signalCode === null) await killAll(current);
  if (dataDir) removeDir(dataDir);
});

/** Request ids in the SQLite stream files themselves (records table), and how many of them are indexed. */
function inSqlite(dir: string, ids: readonly string[]): { records: number; indexed: number } {
  let records = 0;
  let indexed = 0;
  for (const f of readdirSync(join(dir, 'audit'))) {
    if (!/^stream-\d+\.db$/.test(f)) continue;
    const db = new Database(join(dir, 'audit', f), { readonly: true });
    try {
      for (const id of ids) {
        const r = db.prepare('SELECT seq FROM events WHERE request_id = ?').get(id) as { seq: number } | undefined;
        if (r === undefined) continue;
        records += 1;
        const through = (db.prepare('SELECT indexed_through FROM stream_info').get() as { indexed_through: number }).indexed_through;
        if (r.seq <= through && db.prepare('SELECT 1 FROM lookup_index WHERE kind = 1 AND seq = ?').get(r.seq) !== undefined) indexed += 1;
      }
    } finally {
      db.close();
    }
  }
  return { records, indexed };
}

test('kill -9 after the journal fsync and before the SQLite write: LookupEvents has every answered request before and after the restart', { timeout: 120_000 }, async () => {
  dataDir = tempDir('keyhold-audit-write-behind-');
  current = await startServer({ dataDir, workers: 2, auditTestHooks: { holdApply: true } });
  const kms = current.client();
  const creds = current.credentials;
  const key = (await kms.send(new CreateKeyCommand({ Description: 'write-behind' }))).KeyMetadata!.KeyId!;
  const ids: string[] = [];
  for (let i = 0; i < 8; i++) ids.push((await kms.send(new EncryptCommand({ KeyId: key, Plaintext: randomBytes(16) }))).$metadata.requestId!);
  kms.destroy();

  // Answered, so durable in the journal; not in SQLite yet; LookupEvents reads the journal tail.
  assert.deepEqual(inSqlite(dataDir, ids), { records: 0, indexed: 0 }, 'the writers were told not to apply yet');
  const seen = (await lookupAll(current.port, creds, { AttributeKey: 'EventName', AttributeValue: 'Encrypt' })).map((r) => r.requestID as string);
  for (const id of ids) assert.ok(seen.includes(id), `LookupEvents before the kill misses ${id}`);

  await killAll(current);
  assert.deepEqual(inSqlite(dataDir, ids), { records: 0, indexed: 0 }, 'the kill came before any SQLite write');
  // Offline readers (verify, export) read the journal too.
  const offline = new Set(trailRows(dataDir).map((r) => r.requestId));
  for (const id of ids) assert.ok(offline.has(id), `the journal holds ${id}`);

  // Restart: every stream's writer applies its journal to SQLite at open.
  current = await startServer({ dataDir, workers: 2 });
  const again = (await lookupAll(current.port, current.credentials, { AttributeKey: 'EventName', AttributeValue: 'Encrypt' })).map((r) => r.requestID as string);
  for (const id of ids) assert.equal(again.filter((x) => x === id).length, 1, `LookupEvents after the restart has ${id} once`);
  assert.equal(await current.stop(), 0, current.output());
  // After a clean stop the index has caught up too.
  assert.deepEqual(inSqlite(dataDir, ids), { records: ids.length, indexed: ids.length });
  const verify = await keyhold(['audit', 'verify', '--data-dir', dataDir]);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
});
