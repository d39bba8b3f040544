/**
 * The stream journal (issue 11, src/store/sqlite/audit-journal.ts): each commit is one
 * fdatasync'd frame in a preallocated, zero-filled file, and SQLite is written behind it without
 * syncing. These tests take SQLite back to an older state, as a power loss may, and check that
 * the records come back from the journal, that a torn frame ends the journal quietly, that
 * `verify` reads records still only in the journal, and that an edited journal record is found.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, openSync, readSync, rmSync, statSync, writeSync, closeSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { crc32 } from 'node:zlib';
import { chainLink, genesisHash } from '../../src/audit/chain';
import { verifyTrail } from '../../src/audit/verify';
import { JOURNAL_BYTES } from '../../src/store/sqlite/audit-journal';
import { SqliteAuditStore } from '../../src/store/sqlite/audit-log-sqlite';
import { removeDir, tempDir } from '../helpers/server';
import { apiCallFixture } from './helpers';

const ACCOUNT = '111122223333';
const dirs: string[] = [];
after(() => {
  for (const d of dirs) removeDir(d);
});

/** A trail with stream 0 written through its journal: `batches` commits of `per` records each. */
function writeBatches(dir: string, from: number, batches: number, per: number): void {
  const store = new SqliteAuditStore({ dir, journalOwner: 0 });
  try {
    const trailId = store.initialize(() => 'a0a0a0a0-0000-4000-8000-000000000000');
    const s = store.stream(0);
    s.initialize(trailId, genesisHash(trailId, 0));
    for (let b = 0; b < batches; b++) {
      const events = Array.from({ length: per }, (_, i) => apiCallFixture(ACCOUNT, 1_700_000_000_000 + (from + b) * 1000 + i, 'Encrypt'));
      s.commit(events, [], [], chainLink);
    }
  } finally {
    store.close();
  }
}

/** SQLite as it was when `snapshot` copied it: the newest commits lost, the journal kept. */
function snapshot(dir: string): () => void {
  const saved = tempDir('keyhold-journal-snap-');
  dirs.push(saved);
  for (const f of ['stream-0.db', 'stream-0.db-wal']) if (existsSync(join(dir, f))) copyFileSync(join(dir, f), join(saved, f));
  return () => {
    for (const f of ['stream-0.db', 'stream-0.db-wal', 'stream-0.db-shm']) rmSync(join(dir, f), { force: true });
    for (const f of ['stream-0.db', 'stream-0.db-wal']) if (existsSync(join(saved, f))) copyFileSync(join(saved, f), join(dir, f));
  };
}

function rows(dir: string): { seq: number; ok: boolean }[] {
  const store = new SqliteAuditStore({ dir, readonly: true });
  try {
    const out: { seq: number; ok: boolean }[] = [];
    let prev = genesisHash(store.trailId(), 0);
    for (const r of store.stream(0).events(1)) {
      out.push({ seq: r.seq, ok: r.prevHash.equals(prev) && chainLink(r.prevHash, r.body).equals(r.hash) });
      prev = r.hash;
    }
    return out;
  } finally {
    store.close();
  }
}

test('the journal is preallocated and zero-filled', () => {
  const dir = tempDir('keyhold-journal-');
  dirs.push(dir);
  writeBatches(dir, 0, 1, 1);
  assert.equal(statSync(join(dir, 'stream-0.journal')).size, JOURNAL_BYTES);
});

test('records SQLite lost are read from the journal by verify and restored when the stream is next opened', async () => {
  const dir = tempDir('keyhold-journal-');
  dirs.push(dir);
  writeBatches(dir, 0, 2, 3); // records 1..6, durable in SQLite at the next open
  const restore = snapshot(dir);
  writeBatches(dir, 2, 3, 4); // records 7..18, through the journal
  restore(); // SQLite back to records 1..6: as if its unsynced commits were lost
  // Read-only (verify) already sees every record: SQLite's, then the journal's.
  const seen = rows(dir);
  assert.deepEqual(seen.map((r) => r.seq), Array.from({ length: 18 }, (_, i) => i + 1));
  assert.ok(seen.every((r) => r.ok), 'every link holds');
  const pub = generateKeyPairSync('ed25519').publicKey;
  const before = new SqliteAuditStore({ dir, readonly: true });
  try {
    const report = await verifyTrail(before, pub);
    assert.equal(report.finding, undefined, JSON.stringify(report.finding));
    assert.equal(before.stream(0).info().head.seq, 18);
  } finally {
    before.close();
  }
  // The writer's next open applies the lost frames to SQLite, then new commits continue the chain.
  writeBatches(dir, 5, 1, 2);
  const db = new SqliteAuditStore({ dir, readonly: true });
  try {
    const s = db.stream(0);
    assert.equal([...s.events(1)].length, 20);
    assert.equal(s.info().head.seq, 20);
  } finally {
    db.close();
  }
  assert.ok(rows(dir).every((r) => r.ok));
});

/** Offsets of the frames in a journal (header: magic, frame number, length, CRC-32). */
function frames(path: string): { offset: number; length: number }[] {
  const fd = openSync(path, 'r');
  try {
    const out: { offset: number; length: number }[] = [];
    const head = Buffer.alloc(20);
    for (let at = 0; ; ) {
      readSync(fd, head, 0, 20, at);
      if (head.readUInt32LE(0) !== 0x314a484b) return out;
      const length = head.readUInt32LE(12);
      out.push({ offset: at, length });
      at += 20 + length;
    }
  } finally {
    closeSync(fd);
  }
}

test('a torn last frame ends the journal: its records are absent, nothing is reported, writing continues', () => {
  const dir = tempDir('keyhold-journal-');
  dirs.push(dir);
  writeBatches(dir, 0, 1, 2);
  const restore = snapshot(dir);
  writeBatches(dir, 1, 2, 2); // two frames: records 3..4 and 5..6
  restore();
  const path = join(dir, 'stream-0.journal');
  const last = frames(path).at(-1)!;
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.from('##'), 0, 2, last.offset + 20 + Math.floor(last.length / 2)); // torn mid-frame
  closeSync(fd);
  assert.deepEqual(rows(dir).map((r) => r.seq), [1, 2, 3, 4]);
  writeBatches(dir, 3, 1, 1);
  const after = rows(dir);
  assert.deepEqual(after.map((r) => r.seq), [1, 2, 3, 4, 5]);
  assert.ok(after.every((r) => r.ok));
});

test('a record edited in the journal, its CRC recomputed: verify names it EVENT_EDITED', async () => {
  const dir = tempDir('keyhold-journal-');
  dirs.push(dir);
  writeBatches(dir, 0, 1, 2);
  const restore = snapshot(dir);
  writeBatches(dir, 1, 1, 2); // records 3..4 only in the journal once SQLite is restored
  restore();
  const path = join(dir, 'stream-0.journal');
  const f = frames(path).at(-1)!;
  const fd = openSync(path, 'r+');
  try {
    const payload = Buffer.alloc(f.length);
    readSync(fd, payload, 0, f.length, f.offset + 20);
    const edited = Buffer.from(payload.toString('utf8').replace('Encrypt', 'Decrypt'), 'utf8');
    assert.equal(edited.length, payload.length);
    writeSync(fd, edited, 0, edited.length, f.offset + 20);
    const crc = Buffer.alloc(4);
    crc.writeUInt32LE(crc32(edited));
    writeSync(fd, crc, 0, 4, f.offset + 16);
  } finally {
    closeSync(fd);
  }
  const store = new SqliteAuditStore({ dir, readonly: true });
  try {
    const report = await verifyTrail(store, generateKeyPairSync('ed25519').publicKey);
    assert.equal(report.finding?.kind, 'EVENT_EDITED', JSON.stringify(report.finding));
    assert.equal(report.finding?.seq, 3);
  } finally {
    store.close();
  }
});

test('journal first: a committed record is in the journal before SQLite has it, readers see it, and the next writer rebuilds SQLite from it', () => {
  const dir = tempDir('keyhold-journal-');
  dirs.push(dir);
  const writer = new SqliteAuditStore({ dir, journalOwner: 0 });
  const trailId = writer.initialize(() => 'a0a0a0a0-0000-4000-8000-000000000000');
  const s = writer.stream(0);
  s.initialize(trailId, genesisHash(trailId, 0));
  const events = Array.from({ length: 3 }, (_, i) => apiCallFixture(ACCOUNT, 1_700_000_000_000 + i, 'Encrypt'));
  assert.equal(s.commit(events, [], [], chainLink).seq, 3);
  assert.equal(s.pendingRecords, 3, 'acknowledged (durable in the journal), not applied to SQLite yet');
  const sqliteRows = (): number => {
    const db = new Database(join(dir, 'stream-0.db'), { readonly: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
    } finally {
      db.close();
    }
  };
  assert.equal(sqliteRows(), 0);
  // Readers take the unapplied frames from the journal: verify's view and LookupEvents.
  assert.deepEqual(rows(dir).map((r) => r.seq), [1, 2, 3]);
  const reader = new SqliteAuditStore({ dir, readonly: true });
  try {
    assert.equal(reader.lookup({ account: ACCOUNT, attribute: { key: 'EventName', value: 'Encrypt' }, limit: 10 }).length, 3);
    assert.equal(reader.lookup({ account: ACCOUNT, attribute: { key: 'EventName', value: 'Decrypt' }, limit: 10 }).length, 0);
    assert.equal(reader.stream(0).info().head.seq, 3);
  } finally {
    reader.close();
  }
  // The writer "crashes" (never applies); the next writer to open the stream rebuilds SQLite.
  const next = new SqliteAuditStore({ dir, journalOwner: 0 });
  try {
    next.stream(0);
    assert.equal(sqliteRows(), 3, 'rebuilt from the journal at open');
    assert.equal(next.stream(0).commit([apiCallFixture(ACCOUNT, 1_700_000_000_010, 'Encrypt')], [], [], chainLink).seq, 4);
  } finally {
    next.close();
  }
  writer.close(); // its frames are already applied: nothing is applied twice
  assert.equal(sqliteRows(), 4);
  assert.ok(rows(dir).every((r) => r.ok));
});
