/**
 * The read side of the PostgreSQL audit trail (issue 14), against a real, throwaway PostgreSQL
 * cluster: `keyhold audit verify --store URL` and `keyhold audit export --store URL` through the
 * command line (the password from a file or PGPASSWORD, never the URL), each kind of tampering
 * reported as on SQLite, and LookupEvents' queries answering the same events from SQLite and
 * PostgreSQL for the same records (src/store/audit-reader.ts).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { chainLink, genesisHash, nextDigest, signDigest } from '../../src/audit/chain';
import { apiCallRecord, operatorRecord } from '../../src/audit/event';
import { newEventId } from '../../src/audit/event-id';
import { openSigningKey } from '../../src/audit/signing-key';
import type { AuditAppend, AuditEventRow, LookupQuery } from '../../src/store/audit-log';
import { auditReaderOf, type AuditReader } from '../../src/store/audit-reader';
import { PostgresAuditLog, PostgresAuditReader } from '../../src/store/postgres/audit-log-postgres';
import { PostgresAuditSink, type RefusalSummary } from '../../src/store/postgres/audit-sink-postgres';
import type { PostgresPool } from '../../src/store/postgres/connection';
import { PostgresSealedDomainKey } from '../../src/store/postgres/domain-key';
import { migrate } from '../../src/store/postgres/migrate';
import { SqliteAuditStore } from '../../src/store/sqlite/audit-log-sqlite';
import { openSharedRootOfTrust } from '../../src/trust/local';
import { openTestPool, usePostgres } from '../helpers/postgres';
import { KEYHOLD_BIN } from '../helpers/server';

const pg = usePostgres();
const quiet = { error: () => undefined, warn: () => undefined };
const PASSPHRASE = 'correct horse battery staple, audit read test';
const ACCOUNT = '111122223333';
const OTHER = '444455556666';
const T0 = Date.UTC(2026, 11, 6, 12, 0, 0);

const scratch = mkdtempSync(join(tmpdir(), 'keyhold-pg-audit-read-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function refusalRecord(r: RefusalSummary, now: number): AuditAppend {
  return operatorRecord({ time: now, eventId: newEventId(now), eventName: 'KeyholdAuditUnavailable', region: r.region, sourceIp: '', additionalEventData: { refusedRequests: r.count } });
}

/** Record `n` in the trail's real format; names, users, sources and resources vary with n so every lookup attribute selects a different subset. */
function record(n: number, time = T0 + n * 1000): AuditAppend {
  const account = n % 5 === 4 ? OTHER : ACCOUNT;
  const user = ['alice', 'bob', 'carol'][n % 3] as string;
  const accessKeyId = n % 2 === 0 ? 'AKIAEVENEXAMPLE00001' : 'AKIAODDEXAMPLE000002';
  return apiCallRecord({
    time,
    eventId: newEventId(time),
    requestId: randomUUID(),
    userIdentity: { type: 'IAMUser', accountId: account, userName: user, accessKeyId },
    username: user,
    accessKeyId,
    eventSource: n % 7 === 6 ? 'sts.amazonaws.com' : 'kms.amazonaws.com',
    eventName: ['Encrypt', 'Decrypt', 'DisableKey', 'GenerateDataKey'][n % 4] as string,
    region: 'us-east-1',
    sourceIp: '127.0.0.1',
    userAgent: 'test',
    requestParameters: { n },
    responseElements: null,
    readOnly: n % 4 !== 2,
    resources:
      n % 6 === 5
        ? []
        : [
            { accountId: account, type: 'AWS::KMS::Key', arn: `arn:aws:kms:us-east-1:${account}:key/k${n % 3}` },
            ...(n % 2 === 0 ? [{ accountId: account, type: 'AWS::KMS::Alias', arn: `arn:aws:kms:us-east-1:${account}:alias/a${n % 4}` }] : []),
          ],
    recipientAccountId: account,
  });
}

function openPool(db: string): PostgresPool {
  return openTestPool(pg(), db);
}

async function openSink(pool: PostgresPool, stream: number): Promise<PostgresAuditSink> {
  return PostgresAuditSink.open({
    deadlineMs: 60_000,
    log: new PostgresAuditLog(pool),
    stream,
    link: chainLink,
    genesis: genesisHash,
    refusalRecord,
    newTrailId: () => randomUUID(),
    logger: quiet,
  });
}

/** A digest of every stream's head, signed with the trail's key (what a node's digest job writes). */
async function writeDigest(log: PostgresAuditLog, trailId: string, privateKey: import('node:crypto').KeyObject, fingerprint: string): Promise<void> {
  await log.writeDigest((heads, last) => {
    const d = nextDigest(heads, last, { trailId, reason: 'interval', now: Date.now(), fingerprint });
    const { body, signature } = signDigest(d, privateKey);
    return { seq: d.digestSeq, body, signature };
  });
}

interface Trail {
  readonly db: string;
  readonly trailId: string;
  readonly publicKeyFile: string;
  /** Records per stream, and through which seq the newest digest signed them. */
  readonly records: number;
  readonly signedThrough: number;
}

/**
 * A PostgreSQL trail as a deployment leaves it: the sealed domain key and the wrapped signing key
 * in the database, two streams of 8 records each, a digest after 3 and after 6 records per
 * stream, and 2 unsigned records per stream after the newest digest.
 */
async function buildTrail(): Promise<Trail> {
  const db = await pg().createDatabase('keyhold_audit_read');
  const pool = openPool(db);
  try {
    await migrate(pool);
    const trust = await openSharedRootOfTrust({ passphrase: PASSPHRASE }, new PostgresSealedDomainKey(pool));
    const log = new PostgresAuditLog(pool);
    const sinks = [await openSink(pool, 0), await openSink(pool, 1)];
    const trailId = sinks[0]!.trailId;
    const key = await openSigningKey(log, trust, undefined);
    await trust.close();
    const publicKeyFile = join(scratch, `${db}.pem`);
    writeFileSync(publicKeyFile, key.publicKeyPem);
    let n = 0;
    const add = async (k: number): Promise<void> => {
      for (let i = 0; i < k; i++) {
        await Promise.all(sinks.map((s) => s.append(record(n++))));
      }
    };
    await add(3);
    await writeDigest(log, trailId, key.privateKey, key.fingerprint);
    await add(3);
    await writeDigest(log, trailId, key.privateKey, key.fingerprint);
    await add(2);
    for (const s of sinks) await s.close();
    return { db, trailId, publicKeyFile, records: 8, signedThrough: 6 };
  } finally {
    await pool.close();
  }
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs bin/keyhold with exactly `env` (and PATH): no PG* variable or .pgpass of the machine leaks in. */
function keyhold(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const home = mkdtempSync(join(scratch, 'home-'));
  return new Promise((resolve) => {
    execFile(process.execPath, [KEYHOLD_BIN, ...args], { timeout: 60_000, env: { PATH: process.env.PATH ?? '', HOME: home, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function verify(t: Trail, extra: string[] = []): Promise<Run> {
  return keyhold(['audit', 'verify', '--store', pg().url(t.db), '--store-password-file', pg().passwordFile, '--public-key', t.publicKeyFile, ...extra]);
}

function sql(t: Trail, text: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  return pg().query(text, params, t.db);
}

test('audit verify --store: an intact PostgreSQL trail verifies, with the password from a file or PGPASSWORD, never from the URL', { timeout: 180_000 }, async () => {
  const t = await buildTrail();
  const r = await verify(t);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`audit trail ${t.trailId}: intact: 16 record\\(s\\) in 2 stream\\(s\\), 2 digest\\(s\\)`));
  assert.match(r.stdout, /note: stream 0: 2 record\(s\) after the newest digest are chained but not yet signed/);
  // PGPASSWORD instead of a file.
  const byEnv = await keyhold(['audit', 'verify', '--store', pg().url(t.db), '--public-key', t.publicKeyFile], { PGPASSWORD: pg().password });
  assert.equal(byEnv.code, 0, byEnv.stdout + byEnv.stderr);
  // KEYHOLD_STORE and KEYHOLD_STORE_PASSWORD_FILE, as `serve` reads them.
  const byStoreEnv = await keyhold(['audit', 'verify', '--public-key', t.publicKeyFile], { KEYHOLD_STORE: pg().url(t.db), KEYHOLD_STORE_PASSWORD_FILE: pg().passwordFile });
  assert.equal(byStoreEnv.code, 0, byStoreEnv.stdout + byStoreEnv.stderr);
  assert.match(byStoreEnv.stdout, /intact: 16 record\(s\)/);
  // A password file without a store is a usage error.
  const stray = await keyhold(['audit', 'verify', '--data-dir', scratch, '--store-password-file', pg().passwordFile]);
  assert.equal(stray.code, 2);
  assert.match(stray.stderr, /--store-password-file needs --store postgres:\/\/\.\.\./);
    // A password in the URL is refused (usage) without echoing it.
  const url = pg().url(t.db).replace('@', ':s3cret-in-url@');
  const refused = await keyhold(['audit', 'verify', '--store', url, '--public-key', t.publicKeyFile]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /--store must not contain a password/);
  assert.doesNotMatch(refused.stdout + refused.stderr, /s3cret-in-url/);
  // No password anywhere: the database refuses, verify cannot verify (1), and says why.
  const none = await keyhold(['audit', 'verify', '--store', pg().url(t.db), '--public-key', t.publicKeyFile]);
  assert.equal(none.code, 1, none.stdout + none.stderr);
  assert.match(none.stderr, /^keyhold audit: /);
  // The public key stored in the trail is used, with a warning, when none is given.
  const stored = await keyhold(['audit', 'verify', '--store', pg().url(t.db), '--store-password-file', pg().passwordFile]);
  assert.equal(stored.code, 0, stored.stdout + stored.stderr);
  assert.match(stored.stdout, /warning: using the public key stored inside the trail/);
  // Another key: every digest fails its signature.
  const other = join(scratch, 'other.pem');
  writeFileSync(other, generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }) as string);
  const wrongKey = await verify(t, ['--public-key', other]);
  assert.equal(wrongKey.code, 20, wrongKey.stdout);
  assert.match(wrongKey.stdout, /DIGEST_INVALID: digest 1: the signature does not verify/);
});

/** Each tampering of the PostgreSQL tables, the finding verify must report, and its exit status. */
const TAMPERING: readonly { name: string; sql: string; code: number; finding: RegExp }[] = [
  {
    name: 'a deleted record',
    sql: 'DELETE FROM audit_events WHERE stream = 1 AND seq = 4',
    code: 11,
    finding: /EVENT_DELETED: stream 1: records 4\.\.4 before record 5 deleted/,
  },
  {
    name: 'an altered record',
    sql: `UPDATE audit_events SET body = replace(body, '"requestParameters":{"n":2}', '"requestParameters":{"n":99}') WHERE stream = 0 AND seq = 2`,
    code: 10,
    finding: /EVENT_EDITED: stream 0 record 2 \(eventID [0-9a-f-]+\) was changed: its content does not match its hash/,
  },
  {
    name: 'two records swapped (reordered)',
    sql: `UPDATE audit_events e SET event_time = o.event_time, event_id = o.event_id, account = o.account, event_name = o.event_name,
            event_source = o.event_source, read_only = o.read_only, username = o.username, access_key_id = o.access_key_id,
            request_id = o.request_id, resource_types = o.resource_types, resource_names = o.resource_names, body = o.body,
            prev_hash = o.prev_hash, hash = o.hash
          FROM audit_events o WHERE e.stream = 0 AND o.stream = 0 AND ((e.seq = 2 AND o.seq = 5) OR (e.seq = 5 AND o.seq = 2))`,
    code: 12,
    finding: /EVENT_REORDERED: stream 0 record 2 \(eventID [0-9a-f-]+\) was moved: it follows record 4/,
  },
  {
    name: 'a truncated tail: the records newer than the last digest removed',
    sql: 'DELETE FROM audit_events WHERE stream = 0 AND seq > 6',
    code: 14,
    finding: /TRUNCATED: stream 0: the chain head is record 8 but the stream ends at record 6 \(truncated\)/,
  },
  {
    name: 'a truncated tail hidden by moving the head back, records a digest signed removed',
    sql: `WITH gone AS (DELETE FROM audit_events WHERE stream = 1 AND seq > 4 RETURNING seq)
          UPDATE audit_streams SET head_seq = 4, head_hash = (SELECT hash FROM audit_events WHERE stream = 1 AND seq = 4) WHERE stream = 1`,
    code: 14,
    finding: /TRUNCATED: stream 1: records 5\.\.6, which digest 2 signed, are missing \(truncated\)/,
  },
];

for (const tamper of TAMPERING) {
  test(`audit verify --store reports ${tamper.name}`, { timeout: 180_000 }, async () => {
    const t = await buildTrail();
    assert.equal((await verify(t)).code, 0, 'intact before');
    await sql(t, tamper.sql);
    const r = await verify(t);
    assert.equal(r.code, tamper.code, r.stdout + r.stderr);
    assert.match(r.stdout, tamper.finding);
  });
}

test('audit export --store writes CloudTrail log and digest files that verify, signed with the trail key the domain key in the database unwraps', { timeout: 180_000 }, async () => {
  const t = await buildTrail();
  const out = join(scratch, `export-${t.db}`);
  const base = ['audit', 'export', '--store', pg().url(t.db), '--store-password-file', pg().passwordFile, '--out', out];
  // Without the operator secret the trail key cannot be unwrapped: nothing is written.
  const noSecret = await keyhold(base);
  assert.equal(noSecret.code, 1, noSecret.stdout + noSecret.stderr);
  assert.match(noSecret.stderr, /give every node the same KEYHOLD_MASTER_PASSPHRASE or --master-key-file/);
  const wrong = await keyhold(base, { KEYHOLD_MASTER_PASSPHRASE: 'not the passphrase' });
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /cannot unseal the domain key in the database \(table domain_key\)/);
  const r = await keyhold(base, { KEYHOLD_MASTER_PASSPHRASE: PASSPHRASE });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^exported 16 record\(s\) in \d+ log file\(s\) with \d+ digest file\(s\)/);
  assert.equal(readFileSync(join(out, 'keyhold-audit-signing-key.pem'), 'utf8'), readFileSync(t.publicKeyFile, 'utf8'));
  const checked = await keyhold(['audit', 'verify', '--export', out]);
  assert.equal(checked.code, 0, checked.stdout + checked.stderr);
  assert.match(checked.stdout, /intact/);
});

/** Every page of `q` (without `after`), newest first, following the cursor as LookupEvents' NextToken does. */
async function allPages(reader: AuditReader, q: Omit<LookupQuery, 'after' | 'limit'>, limit: number): Promise<AuditEventRow[]> {
  const out: AuditEventRow[] = [];
  let after: LookupQuery['after'];
  for (;;) {
    const page = await reader.lookup({ ...q, after, limit: limit + 1 });
    out.push(...page.slice(0, limit));
    if (page.length <= limit) return out;
    const last = page[limit - 1] as AuditEventRow;
    after = { time: last.time, stream: last.stream, seq: last.seq };
  }
}

test('LookupEvents queries return the same events, in the same order and pages, from SQLite and PostgreSQL for the same records', { timeout: 180_000 }, async () => {
  // Three streams; records share times across streams (and within one) so ties order by (time, stream, seq).
  const batches = new Map<number, AuditAppend[]>();
  let n = 0;
  for (const stream of [0, 1, 2]) {
    const list: AuditAppend[] = [];
    for (let i = 0; i < 40; i++) list.push(record(n++, T0 + Math.floor(i / 2) * 1000));
    batches.set(stream, list);
  }
  const trailId = randomUUID();
  const dir = mkdtempSync(join(scratch, 'sqlite-'));
  const sqlite = new SqliteAuditStore({ dir });
  const db = await pg().createDatabase('keyhold_lookup');
  const pool = openPool(db);
  try {
    sqlite.initialize(() => trailId);
    await migrate(pool);
    const log = new PostgresAuditLog(pool);
    await log.initialize(() => trailId);
    for (const [stream, list] of batches) {
      const s = sqlite.stream(stream);
      s.initialize(trailId, genesisHash(trailId, stream));
      await log.initializeStream(trailId, stream, genesisHash(trailId, stream));
      for (let i = 0; i < list.length; i += 10) {
        s.commit(list.slice(i, i + 10), [], [], chainLink);
        await log.commit(stream, { events: list.slice(i, i + 10), intents: [], recover: [] }, chainLink);
      }
    }
    // SQLite answers from its index and from records not yet indexed: index part of two streams only.
    sqlite.stream(0).index(25);
    sqlite.stream(2).index(1000);
    const readers: [string, AuditReader][] = [['sqlite', auditReaderOf(sqlite)], ['postgres', PostgresAuditReader.live(pool)]];
    const all = [...batches.values()].flat();
    const any = (f: (r: AuditAppend) => boolean): AuditAppend => all.find(f) as AuditAppend;
    const queries: Omit<LookupQuery, 'after' | 'limit'>[] = [
      { account: ACCOUNT },
      { account: OTHER },
      { account: '999999999999' },
      { account: ACCOUNT, startTime: T0 + 5000, endTime: T0 + 12_999 },
      { account: ACCOUNT, attribute: { key: 'EventName', value: 'Decrypt' } },
      { account: ACCOUNT, attribute: { key: 'Username', value: 'bob' } },
      { account: ACCOUNT, attribute: { key: 'AccessKeyId', value: 'AKIAODDEXAMPLE000002' } },
      { account: ACCOUNT, attribute: { key: 'EventSource', value: 'sts.amazonaws.com' } },
      { account: ACCOUNT, attribute: { key: 'EventSource', value: 'kms.amazonaws.com' } },
      { account: ACCOUNT, attribute: { key: 'ReadOnly', value: 'false' } },
      { account: ACCOUNT, attribute: { key: 'ReadOnly', value: 'true' } },
      { account: ACCOUNT, attribute: { key: 'ResourceType', value: 'AWS::KMS::Alias' } },
      { account: ACCOUNT, attribute: { key: 'ResourceType', value: 'AWS::KMS' } },
      { account: ACCOUNT, attribute: { key: 'ResourceName', value: `arn:aws:kms:us-east-1:${ACCOUNT}:key/k1` } },
      { account: ACCOUNT, attribute: { key: 'ResourceName', value: `arn:aws:kms:us-east-1:${ACCOUNT}:key/k` } },
      { account: ACCOUNT, attribute: { key: 'EventId', value: any((r) => r.account === ACCOUNT && r.eventName === 'Encrypt').eventId } },
      { account: ACCOUNT, attribute: { key: 'EventName', value: 'GenerateDataKey' }, startTime: T0 + 3000, endTime: T0 + 15_000 },
    ];
    for (const q of queries) {
      const label = JSON.stringify(q);
      const expected = all.filter((r) => r.account === q.account && (q.startTime === undefined || r.time >= q.startTime) && (q.endTime === undefined || r.time <= q.endTime));
      const results: string[][] = [];
      for (const [name, reader] of readers) {
        for (const limit of [7, 50]) {
          const rows = await allPages(reader, q, limit);
          const ids = rows.map((r) => `${r.stream}:${r.seq}:${r.eventId}`);
          assert.equal(new Set(ids).size, ids.length, `${name} ${label}: no event twice across pages`);
          for (let i = 1; i < rows.length; i++) {
            const [a, b] = [rows[i - 1] as AuditEventRow, rows[i] as AuditEventRow];
            assert.ok(a.time > b.time || (a.time === b.time && (a.stream > b.stream || (a.stream === b.stream && a.seq > b.seq))), `${name} ${label}: newest first`);
          }
          assert.ok(rows.every((r) => r.account === q.account), `${name} ${label}: only the caller's account`);
          if (q.attribute === undefined) assert.equal(rows.length, expected.length, `${name} ${label}: every record of the account in range`);
          results.push(ids);
        }
      }
      for (const r of results.slice(1)) assert.deepEqual(r, results[0], `${label}: the same events from both adapters and page sizes`);
    }
    // The attribute filters select what they say (checked on the records themselves).
    const decrypts = await allPages(readers[1]![1], { account: ACCOUNT, attribute: { key: 'EventName', value: 'Decrypt' } }, 50);
    assert.equal(decrypts.length, all.filter((r) => r.account === ACCOUNT && r.eventName === 'Decrypt').length);
    assert.ok(decrypts.length > 0);
    const k1 = await allPages(readers[1]![1], { account: ACCOUNT, attribute: { key: 'ResourceName', value: `arn:aws:kms:us-east-1:${ACCOUNT}:key/k1` } }, 50);
    assert.equal(k1.length, all.filter((r) => r.account === ACCOUNT && r.resources.some((x) => x.name.endsWith(':key/k1'))).length);
    assert.equal((await allPages(readers[1]![1], { account: ACCOUNT, attribute: { key: 'ResourceName', value: `arn:aws:kms:us-east-1:${ACCOUNT}:key/k` } }, 50)).length, 0);
    // The same stored rows, column for column.
    const one = (await readers[0]![1].lookup({ account: ACCOUNT, limit: 1 }))[0] as AuditEventRow;
    const two = (await readers[1]![1].lookup({ account: ACCOUNT, limit: 1 }))[0] as AuditEventRow;
    assert.deepEqual({ ...two, prevHash: two.prevHash.toString('hex'), hash: two.hash.toString('hex') }, { ...one, prevHash: one.prevHash.toString('hex'), hash: one.hash.toString('hex') });
  } finally {
    sqlite.close();
    await pool.close();
  }
});

