/**
 * The tamper matrix (issue 4): a trail made by a real server, then changed behind its back the
 * way an attacker with write access to the data directory could — a flipped byte, a deleted
 * record, two records swapped, a forged record inserted, the tail truncated, a digest dropped or
 * edited, records rewritten with fresh hashes, the lookup index edited. `keyhold audit verify`
 * must name the first changed record or digest and exit with that finding's status.
 */
import assert from 'node:assert/strict';
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { CreateKeyCommand, DecryptCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { chainLink } from '../../src/audit/chain';
import { FINDING_EXIT } from '../../src/audit/verify';
import { removeDir, startServer, tempDir } from '../helpers/server';
import { keyhold, type Run } from './helpers';

type Row = Record<string, any>;

let fixture: string;
const copies: string[] = [];

/** Where the fixture server delivered its digests (--audit-digest-copy), inside the fixture so each copy has its own. */
const DELIVERED = 'delivered-digests';

/**
 * A copy of the fixture trail, changed by `tamper` on its stream 0 and trail databases (and the
 * copy's directory, for the delivered digests). `extra` may name the delivered digests as
 * `{delivered}`.
 */
async function verifyAfter(tamper: (stream: Database.Database, trail: Database.Database, dir: string) => void, extra: string[] = []): Promise<Run> {
  const dir = tempDir('keyhold-tamper-');
  copies.push(dir);
  cpSync(fixture, dir, { recursive: true });
  const stream = new Database(join(dir, 'audit', 'stream-0.db'));
  const trail = new Database(join(dir, 'audit', 'trail.db'));
  try {
    tamper(stream, trail, dir);
  } finally {
    stream.close();
    trail.close();
  }
  return keyhold(['audit', 'verify', '--data-dir', dir, ...extra.map((a) => a.replace('{delivered}', join(dir, DELIVERED)))]);
}

function row(db: Database.Database, seq: number): Row {
  return db.prepare('SELECT * FROM events WHERE seq = ?').get(seq) as Row;
}

function lastSeq(db: Database.Database): number {
  return (db.prepare('SELECT max(seq) AS n FROM events').get() as Row).n as number;
}

/** Rewrites records from `from` on so every link holds again (what a careful forger does). */
function relink(db: Database.Database, from: number): void {
  let prev = row(db, from - 1).hash as Buffer;
  const rows = db.prepare('SELECT seq, body FROM events WHERE seq >= ? ORDER BY seq').all(from) as Row[];
  const upd = db.prepare('UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?');
  for (const r of rows) {
    const h = chainLink(prev, r.body as string);
    upd.run(prev, h, r.seq);
    prev = h;
  }
  db.prepare('UPDATE stream_info SET head_seq = ?, head_hash = ?, indexed_through = min(indexed_through, ?) WHERE id = 1').run(rows.length > 0 ? rows[rows.length - 1]!.seq : from - 1, prev, from - 1);
}

describe('keyhold audit verify names what was changed', () => {
  before(async () => {
    const dataDir = tempDir('keyhold-tamper-fixture-');
    // The interval is long so the fixture holds exactly two digests (start and shutdown).
    const server = await startServer({
      dataDir,
      args: ['--audit-digest-copy', join(dataDir, DELIVERED)],
      env: { KEYHOLD_AUDIT_DIGEST_INTERVAL_S: '3600' },
    });
    fixture = server.dataDir;
    const kms = server.client();
    try {
      const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Description: 'tamper fixture' }));
      for (let i = 0; i < 10; i++) {
        const enc = await kms.send(new EncryptCommand({ KeyId: KeyMetadata!.KeyId!, Plaintext: Buffer.from(`record ${i}`) }));
        await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }));
      }
    } finally {
      kms.destroy();
      assert.equal(await server.stop(), 0);
    }
  });

  after(() => {
    for (const d of copies) removeDir(d);
    if (fixture) removeDir(fixture);
  });

  test('an untouched trail verifies (exit 0)', async () => {
    const r = await verifyAfter(() => undefined);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /intact: 21 record\(s\) in 1 stream\(s\), 2 digest\(s\)/);
  });

  test('a flipped byte: EVENT_EDITED at that record', async () => {
    const r = await verifyAfter((s) => {
      const body = row(s, 5).body as string;
      const i = body.indexOf('"Decrypt"') >= 0 ? body.indexOf('"Decrypt"') + 2 : 10;
      s.prepare('UPDATE events SET body = ? WHERE seq = 5').run(body.slice(0, i) + 'X' + body.slice(i + 1));
    });
    assert.equal(r.code, FINDING_EXIT.EVENT_EDITED, r.stdout + r.stderr);
    assert.match(r.stdout, /EVENT_EDITED: stream 0 record 5 /);
  });

  test('a deleted record: EVENT_DELETED naming the gap', async () => {
    const r = await verifyAfter((s) => s.prepare('DELETE FROM events WHERE seq = 7').run());
    assert.equal(r.code, FINDING_EXIT.EVENT_DELETED, r.stdout + r.stderr);
    assert.match(r.stdout, /EVENT_DELETED: stream 0: records 7\.\.7 before record 8 deleted/);
  });

  test('two records swapped: EVENT_REORDERED at the first', async () => {
    const r = await verifyAfter((s) => {
      const a = row(s, 4);
      const b = row(s, 9);
      const cols = Object.keys(a).filter((c) => c !== 'seq');
      const upd = s.prepare(`UPDATE events SET ${cols.map((c) => `${c} = @${c}`).join(', ')} WHERE seq = @seq`);
      s.transaction(() => {
        upd.run({ ...b, seq: 4 });
        upd.run({ ...a, seq: 9 });
      })();
    });
    assert.equal(r.code, FINDING_EXIT.EVENT_REORDERED, r.stdout + r.stderr);
    assert.match(r.stdout, /EVENT_REORDERED: stream 0 record 4 .* it follows record 8/);
  });

  test('a forged record inserted with a valid link: EVENT_INSERTED naming it', async () => {
    const r = await verifyAfter((s) => {
      s.transaction(() => {
        const last = lastSeq(s);
        for (let seq = last; seq >= 6; seq--) s.prepare('UPDATE events SET seq = seq + 1 WHERE seq = ?').run(seq);
        const template = row(s, 5);
        const body = (template.body as string).replace(/"eventID":"[^"]+"/, '"eventID":"01900000-0000-7000-8000-000000000000"');
        const prev = template.hash as Buffer;
        s.prepare(
          `INSERT INTO events (seq, event_time, event_id, account, event_name, event_source, read_only, username, access_key_id, request_id,
             resource_types, resource_names, body, prev_hash, hash) VALUES (6, @event_time, '01900000-0000-7000-8000-000000000000', @account,
             @event_name, @event_source, @read_only, @username, @access_key_id, @request_id, @resource_types, @resource_names, @body, @prev, @hash)`,
        ).run({ ...template, body, prev, hash: chainLink(prev, body) });
        s.prepare('UPDATE stream_info SET head_seq = head_seq + 1 WHERE id = 1').run();
      })();
    });
    assert.equal(r.code, FINDING_EXIT.EVENT_INSERTED, r.stdout + r.stderr);
    assert.match(r.stdout, /EVENT_INSERTED: stream 0 record 6 was inserted/);
  });

  test('the signed tail truncated, head moved back too: TRUNCATED', async () => {
    const r = await verifyAfter((s) => {
      const last = lastSeq(s);
      s.prepare('DELETE FROM events WHERE seq > ?').run(last - 3);
      const tail = row(s, last - 3);
      s.prepare('UPDATE stream_info SET head_seq = ?, head_hash = ? WHERE id = 1').run(last - 3, tail.hash);
    });
    assert.equal(r.code, FINDING_EXIT.TRUNCATED, r.stdout + r.stderr);
    assert.match(r.stdout, /TRUNCATED: stream 0: records 19\.\.21, which digest 2 signed, are missing/);
  });

  test('the newest records and the digest that signed them removed together: only the delivered digests tell (TRUNCATED)', async () => {
    const cut = (s: Database.Database, t: Database.Database): void => {
      const last = lastSeq(s);
      s.prepare('DELETE FROM events WHERE seq > ?').run(last - 3);
      s.prepare('DELETE FROM lookup_index WHERE seq > ?').run(last - 3);
      const tail = row(s, last - 3);
      s.prepare('UPDATE stream_info SET head_seq = ?, head_hash = ?, indexed_through = min(indexed_through, ?) WHERE id = 1').run(last - 3, tail.hash, last - 3);
      t.prepare('DELETE FROM digests WHERE seq = 2').run();
    };
    // The trail alone cannot tell (the window README states): records newer than the newest digest.
    const alone = await verifyAfter(cut);
    assert.equal(alone.code, 0, alone.stdout + alone.stderr);
    const r = await verifyAfter(cut, ['--digests', '{delivered}']);
    assert.equal(r.code, FINDING_EXIT.TRUNCATED, r.stdout + r.stderr);
    assert.match(r.stdout, /TRUNCATED: stream 0: records 19\.\.21, which digest 2 signed, are missing/);
  });

  test('a digest dropped from the trail but delivered: DIGEST_MISSING', async () => {
    const r = await verifyAfter((_s, t) => t.prepare('DELETE FROM digests WHERE seq = 2').run(), ['--digests', '{delivered}']);
    assert.equal(r.code, FINDING_EXIT.DIGEST_MISSING, r.stdout + r.stderr);
    assert.match(r.stdout, /DIGEST_MISSING: digest 2, which was delivered to the copy directory, is missing from the trail/);
  });

  test('a forged delivered copy: DIGEST_INVALID; an intact trail with its copies verifies', async () => {
    const ok = await verifyAfter(() => undefined, ['--digests', '{delivered}']);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /2 delivered digest\(s\)/);
    const r = await verifyAfter((_s, _t, dir) => {
      const copyDir = join(dir, DELIVERED);
      const file = readdirSync(copyDir).find((f) => f.endsWith('-digest-0000000002.json'))!;
      const text = readFileSync(join(copyDir, file), 'utf8');
      writeFileSync(join(copyDir, file), text.replace('shutdown', 'interval'));
    }, ['--digests', '{delivered}']);
    assert.equal(r.code, FINDING_EXIT.DIGEST_INVALID, r.stdout + r.stderr);
    assert.match(r.stdout, /DIGEST_INVALID: the delivered copy of digest 2: the signature does not verify/);
  });

  test('a dropped digest: DIGEST_MISSING naming it', async () => {
    const r = await verifyAfter((_s, t) => t.prepare('DELETE FROM digests WHERE seq = 1').run());
    assert.equal(r.code, FINDING_EXIT.DIGEST_MISSING, r.stdout + r.stderr);
    assert.match(r.stdout, /DIGEST_MISSING: digest 1, which digest 2 follows, is missing/);
  });

  test('an edited digest: DIGEST_INVALID', async () => {
    const r = await verifyAfter((_s, t) => t.prepare(`UPDATE digests SET body = replace(body, '"reason":"shutdown"', '"reason":"interval"') WHERE seq = 2`).run());
    assert.equal(r.code, FINDING_EXIT.DIGEST_INVALID, r.stdout + r.stderr);
    assert.match(r.stdout, /DIGEST_INVALID: digest 2: the signature does not verify/);
  });

  test('records edited and every later link recomputed: DIGEST_MISMATCH', async () => {
    const r = await verifyAfter((s) => {
      s.prepare(`UPDATE events SET body = replace(body, '"readOnly":true', '"readOnly":true ') WHERE seq = 3`).run();
      relink(s, 3);
      s.prepare('DELETE FROM lookup_index WHERE seq >= 3').run();
    });
    assert.equal(r.code, FINDING_EXIT.DIGEST_MISMATCH, r.stdout + r.stderr);
    assert.match(r.stdout, /DIGEST_MISMATCH: digest 2: stream 0 records 1\.\.21 are not the records it signed/);
  });

  test('the lookup index edited: INDEX_MISMATCH', async () => {
    const r = await verifyAfter((s) => s.prepare('DELETE FROM lookup_index WHERE seq = 4 AND kind = 1').run());
    assert.equal(r.code, FINDING_EXIT.INDEX_MISMATCH, r.stdout + r.stderr);
  });

  test('a lookup column edited beside an intact record: EVENT_EDITED', async () => {
    const r = await verifyAfter((s) => s.prepare(`UPDATE events SET username = 'someone-else' WHERE seq = 2`).run());
    assert.equal(r.code, FINDING_EXIT.EVENT_EDITED, r.stdout + r.stderr);
    assert.match(r.stdout, /stream 0 record 2 .*lookup columns/);
  });

  test('another public key: every digest is DIGEST_INVALID', async () => {
    const other = tempDir('keyhold-key-');
    copies.push(other);
    const { generateKeyPairSync } = await import('node:crypto');
    const pem = generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }) as string;
    (await import('node:fs')).writeFileSync(join(other, 'k.pem'), pem);
    const r = await verifyAfter(() => undefined, ['--public-key', join(other, 'k.pem')]);
    assert.equal(r.code, FINDING_EXIT.DIGEST_INVALID, r.stdout + r.stderr);
  });

  test('--from/--to limit the record walk to the digest periods in the window', async () => {
    const r = await verifyAfter((s) => s.prepare('DELETE FROM events WHERE seq = 7').run(), ['--from', String(Math.floor(Date.now() / 1000) + 3600)]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /intact: 0 record/);
  });

  test('usage errors exit 2; a data directory without a trail exits 1', async () => {
    assert.equal((await keyhold(['audit', 'verify'])).code, 2);
    assert.equal((await keyhold(['audit', 'verify', '--data-dir', fixture, '--from', 'yesterday'])).code, 2);
    const empty = tempDir('keyhold-empty-');
    copies.push(empty);
    assert.equal((await keyhold(['audit', 'verify', '--data-dir', empty])).code, 1);
  });
});
