/**
 * LookupEvents at scale (issue 4: "a lookup by key ARN or user over 10 million events answers
 * in well under a second"). Generates a trail of N CloudTrail records (default 10 million) in
 * two streams through the real SQLite adapter — realistic records made by the same builder the
 * server uses, 2,000 keys, 100 users, mostly Encrypt/Decrypt with rare management calls — builds
 * the lookup index the way the writer threads do, then times LookupEvents pages: by key ARN
 * (ResourceName), by user, by access key, by a rare event name, ReadOnly=false, by event id, a
 * time window, and a page deep into a key's history via the NextToken cursor.
 *
 * A benchmark, not a test. Usage:
 *   node dist/bench/audit-lookup.js [--events 10000000] [--dir DIR] [--keep] [--repeat 20]
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chainLink, genesisHash } from '../src/audit/chain';
import { apiCallRecord, type RecordResource } from '../src/audit/event';
import { newEventId } from '../src/audit/event-id';
import { keyArn } from '../src/keys/arn';
import type { AuditAppend, LookupQuery } from '../src/store/audit-log';
import { SqliteAuditStore } from '../src/store/sqlite/audit-log-sqlite';

const ACCOUNT = '444455556666';
const KEYS = 2000;
const USERS = 100;
const BATCH = 20_000;
const UA = 'aws-sdk-js/3.700.0 ua/2.1 os/linux lang/js md/nodejs#22.11.0 api/kms#3.700.0';

function opts(): { events: number; dir: string | undefined; keep: boolean; repeat: number } {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '10000000' },
      dir: { type: 'string' },
      keep: { type: 'boolean', default: false },
      repeat: { type: 'string', default: '20' },
    },
  });
  return { events: Number(values.events), dir: values.dir, keep: values.keep === true, repeat: Number(values.repeat) };
}

/** A deterministic pseudo-random sequence (xorshift32), so runs are comparable. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

const keyIds = Array.from({ length: KEYS }, (_, i) => `${i.toString(16).padStart(8, '0')}-1111-4222-8333-${(i * 7919).toString(16).padStart(12, '0')}`);
const keyArns = keyIds.map((id) => keyArn('eu-west-1', ACCOUNT, id));
const users = Array.from({ length: USERS }, (_, i) => ({
  name: `app-${i}`,
  arn: `arn:aws:iam::${ACCOUNT}:user/app-${i}`,
  id: `AIDA${String(i).padStart(16, '0')}`,
  key: `AKIA${String(i).padStart(16, '0')}`,
}));
const RARE = ['CreateKey', 'ScheduleKeyDeletion', 'PutKeyPolicy', 'EnableKeyRotation', 'TagResource'];

function record(r: () => number, time: number): AuditAppend {
  // Key popularity and user activity are skewed, as real traffic is.
  const k = Math.floor(KEYS * r() * r());
  const u = users[Math.floor(USERS * r() * r())]!;
  const roll = r();
  const name = roll < 0.55 ? 'Encrypt' : roll < 0.95 ? 'Decrypt' : roll < 0.999 ? 'GenerateDataKey' : RARE[Math.floor(r() * RARE.length)]!;
  const readOnly = !RARE.includes(name);
  const resources: RecordResource[] = [{ accountId: ACCOUNT, type: 'AWS::KMS::Key', arn: keyArns[k]! }];
  return apiCallRecord({
    time,
    eventId: newEventId(time),
    requestId: randomUUID(),
    userIdentity: { type: 'IAMUser', principalId: u.id, arn: u.arn, accountId: ACCOUNT, accessKeyId: u.key, userName: u.name },
    username: u.name,
    accessKeyId: u.key,
    eventSource: 'kms.amazonaws.com',
    eventName: name,
    region: 'eu-west-1',
    sourceIp: `10.0.${Math.floor(r() * 255)}.${Math.floor(r() * 255)}`,
    userAgent: UA,
    requestParameters: name === 'Encrypt' || name === 'Decrypt' ? { keyId: keyIds[k], encryptionContext: { tenant: `t${k % 97}` } } : { keyId: keyIds[k] },
    responseElements: null,
    readOnly,
    resources,
    recipientAccountId: ACCOUNT,
  });
}

function dirSize(dir: string): number {
  return readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function main(): void {
  const o = opts();
  const base = o.dir ?? mkdtempSync(join(tmpdir(), 'keyhold-audit-lookup-'));
  const dir = join(base, 'audit');
  const store = new SqliteAuditStore({ dir });
  const trailId = store.initialize(() => randomUUID());
  const streams = [1, 2].map((n) => {
    const s = store.stream(n);
    s.initialize(trailId, genesisHash(trailId, n));
    return s;
  });
  const r = rng(42);
  const start = Date.UTC(2026, 0, 1);
  // N events over 30 days.
  const step = (30 * 86_400_000) / o.events;
  const have = streams.reduce((n, s) => n + s.info().head.seq, 0);
  const t0 = process.hrtime.bigint();
  for (let i = have; i < o.events; i += BATCH) {
    for (const s of streams) {
      const batch: AuditAppend[] = [];
      for (let j = 0; j < BATCH / 2 && i + j * 2 < o.events; j++) batch.push(record(r, Math.floor(start + (i + j * 2) * step)));
      s.commit(batch, [], [], chainLink);
      s.index(Number.MAX_SAFE_INTEGER);
      s.checkpoint();
    }
    if ((i / BATCH) % 50 === 0) process.stderr.write(`\r${i.toLocaleString()} records`);
  }
  for (const s of streams) s.checkpoint();
  const genS = Number(process.hrtime.bigint() - t0) / 1e9;
  const total = streams.reduce((n, s) => n + s.info().head.seq, 0);
  process.stderr.write(`\r${total.toLocaleString()} records in ${dir} (${(dirSize(dir) / 2 ** 30).toFixed(1)} GiB); generated and indexed in ${genS.toFixed(0)} s\n`);

  const anyRow = store.lookup({ account: ACCOUNT, attribute: { key: 'EventName', value: 'CreateKey' }, limit: 1 })[0];
  const busyKey = keyArns[0]!;
  const quietKey = keyArns[KEYS / 2]!;
  const busyUser = users[0]!.name;
  const quietUser = users[USERS / 2]!.name;
  const deep = (() => {
    // A cursor about 2,000 records back in the busiest key's history.
    let after: LookupQuery['after'];
    for (let p = 0; p < 40; p++) {
      const page = store.lookup({ account: ACCOUNT, attribute: { key: 'ResourceName', value: busyKey }, after, limit: 50 });
      const last = page[page.length - 1];
      if (last === undefined) break;
      after = { time: last.time, stream: last.stream, seq: last.seq };
    }
    return after;
  })();
  const cases: [string, LookupQuery][] = [
    ['ResourceName = busiest key ARN', { account: ACCOUNT, attribute: { key: 'ResourceName', value: busyKey }, limit: 50 }],
    ['ResourceName = a median key ARN', { account: ACCOUNT, attribute: { key: 'ResourceName', value: quietKey }, limit: 50 }],
    ['ResourceName, page 41 (NextToken)', { account: ACCOUNT, attribute: { key: 'ResourceName', value: busyKey }, after: deep, limit: 50 }],
    ['ResourceName + 1-day window', { account: ACCOUNT, attribute: { key: 'ResourceName', value: quietKey }, startTime: start + 10 * 86_400_000, endTime: start + 11 * 86_400_000, limit: 50 }],
    ['Username = busiest user', { account: ACCOUNT, attribute: { key: 'Username', value: busyUser }, limit: 50 }],
    ['Username = a median user', { account: ACCOUNT, attribute: { key: 'Username', value: quietUser }, limit: 50 }],
    ['AccessKeyId', { account: ACCOUNT, attribute: { key: 'AccessKeyId', value: users[5]!.key }, limit: 50 }],
    ['EventName = ScheduleKeyDeletion (rare)', { account: ACCOUNT, attribute: { key: 'EventName', value: 'ScheduleKeyDeletion' }, limit: 50 }],
    ['ReadOnly = false (rare)', { account: ACCOUNT, attribute: { key: 'ReadOnly', value: 'false' }, limit: 50 }],
    ['EventId', { account: ACCOUNT, attribute: { key: 'EventId', value: anyRow?.eventId ?? '' }, limit: 50 }],
    ['time window only (1 hour)', { account: ACCOUNT, startTime: start + 20 * 86_400_000, endTime: start + 20 * 86_400_000 + 3_600_000, limit: 50 }],
    ['no attribute (newest 50)', { account: ACCOUNT, limit: 50 }],
  ];
  // Lookups open their own read-only connections, like a serving process.
  store.close();
  const reader = new SqliteAuditStore({ dir, readonly: true });
  console.log(`\nLookupEvents over ${total.toLocaleString()} records (2 streams), page of up to 50; ms per page`);
  console.log('case'.padEnd(42), 'first'.padStart(8), 'median'.padStart(8), 'max'.padStart(8), 'rows'.padStart(6));
  for (const [name, q] of cases) {
    const times: number[] = [];
    let rows = 0;
    for (let i = 0; i < o.repeat + 1; i++) {
      const a = process.hrtime.bigint();
      rows = reader.lookup(q).length;
      times.push(Number(process.hrtime.bigint() - a) / 1e6);
    }
    const first = times.shift() as number;
    console.log(name.padEnd(42), first.toFixed(2).padStart(8), median(times).toFixed(2).padStart(8), Math.max(...times).toFixed(2).padStart(8), String(rows).padStart(6));
  }
  reader.close();
  if (!o.keep && o.dir === undefined) rmSync(base, { recursive: true, force: true });
  else console.log(`kept ${base}`);
}

main();
