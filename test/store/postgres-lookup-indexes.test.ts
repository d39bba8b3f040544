/**
 * PostgreSQL LookupEvents by its rare attributes (migration 4): EventId and ResourceName are
 * answered from indexes of their own (audit_events_event_id, audit_events_resource_names), not by
 * walking every record of the account — checked on the plan PostgreSQL makes for the very query
 * the reader sends, over 22,000 records — and the answers stay exact: a resource name matches a
 * whole name of a record's list, never a prefix or a part, in newest-first order.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { LookupQuery } from '../../src/store/audit-log';
import { PostgresAuditReader } from '../../src/store/postgres/audit-log-postgres';
import type { PostgresPool } from '../../src/store/postgres/connection';
import { migrate } from '../../src/store/postgres/migrate';
import { openTestPool, usePostgres } from '../helpers/postgres';

const pg = usePostgres();
const ACCOUNT = '111111111111';
const OTHER = '222222222222';
const RECORDS = 20_000;
let pool: PostgresPool;
let prepared: Promise<void> | undefined;

/** The records, written and analysed once, on first use (the cluster starts in a `before` hook of its own). */
const records = (): Promise<void> => (prepared ??= (async () => {
  const db = await pg().createDatabase('keyhold_lookup');
  pool = openTestPool(pg(), db);
  const m = await migrate(pool);
  assert.ok(m.applied.includes(4), JSON.stringify(m));
  await pool.query("INSERT INTO audit_streams (stream, trail_id, head_seq, head_hash) VALUES (1, 't', 0, '\\x00')");
  // Record i of ACCOUNT: event id ev-i, at time 1000+i, naming key-(i mod 5000) and alias/xi.
  // OTHER holds 2,000 records naming the same keys.
  await pool.query(
    `INSERT INTO audit_events (stream, seq, event_time, event_id, account, event_name, event_source, read_only, username, access_key_id,
       request_id, resource_types, resource_names, body, prev_hash, hash)
     SELECT 1, i, 1000 + i, 'ev-' || i, CASE WHEN i <= $1 THEN $2 ELSE $3 END, 'Encrypt', 'kms.amazonaws.com', false, 'u', 'AKIA', 'r' || i,
       'AWS::KMS::Key', 'key-' || (i % 5000) || E'\\n' || 'alias/x' || i, '{}', '\\x00', '\\x00'
     FROM generate_series(1, $1 + 2000) AS i`,
    [RECORDS, ACCOUNT, OTHER],
  );
  await pool.query('ANALYZE audit_events');
})());
after(async () => {
  await pool?.close();
});

/** Index names anywhere in an EXPLAIN (FORMAT JSON) plan. */
function indexesOf(plan: unknown): string[] {
  if (Array.isArray(plan)) return plan.flatMap(indexesOf);
  if (plan === null || typeof plan !== 'object') return [];
  const o = plan as Record<string, unknown>;
  return [...(typeof o['Index Name'] === 'string' ? [o['Index Name']] : []), ...Object.values(o).flatMap(indexesOf)];
}

/** Runs `q` through the live reader; returns the seqs found and the plan of the reader's own lookup statement. */
async function lookup(q: LookupQuery): Promise<{ seqs: number[]; indexes: string[]; ms: number }> {
  await records();
  let indexes: string[] = [];
  const spy = {
    query: async (sql: string, params: readonly unknown[] = []) => {
      if (/FROM audit_events WHERE account = \$1/.test(sql)) {
        const [row] = await pool.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
        indexes = indexesOf(row?.['QUERY PLAN']);
      }
      return pool.query(sql, params);
    },
  };
  const reader = PostgresAuditReader.live(spy as unknown as PostgresPool);
  const started = process.hrtime.bigint();
  const rows = await reader.lookup(q);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { seqs: rows.map((r) => r.seq), indexes, ms };
}

test('EventId: answered from audit_events_event_id, exactly the one record of the account', { timeout: 120_000 }, async () => {
  const r = await lookup({ account: ACCOUNT, attribute: { key: 'EventId', value: 'ev-12345' }, limit: 50 });
  assert.deepEqual(r.seqs, [12345]);
  assert.ok(r.indexes.includes('audit_events_event_id'), `plan used ${JSON.stringify(r.indexes)}`);
  assert.deepEqual((await lookup({ account: OTHER, attribute: { key: 'EventId', value: 'ev-12345' }, limit: 50 })).seqs, [], 'another account\'s record');
  assert.deepEqual((await lookup({ account: ACCOUNT, attribute: { key: 'EventId', value: 'ev-1234' }, limit: 50 })).seqs, [1234]);
});

test('ResourceName: answered from audit_events_resource_names, whole names only, newest first, within the account and time range', { timeout: 120_000 }, async () => {
  const key = await lookup({ account: ACCOUNT, attribute: { key: 'ResourceName', value: 'key-7' }, limit: 50 });
  assert.deepEqual(key.seqs, [15007, 10007, 5007, 7], 'key-7 and not key-70, key-700 ...');
  assert.ok(key.indexes.includes('audit_events_resource_names'), `plan used ${JSON.stringify(key.indexes)}`);
  const alias = await lookup({ account: ACCOUNT, attribute: { key: 'ResourceName', value: 'alias/x12' }, limit: 50 });
  assert.deepEqual(alias.seqs, [12], 'the second name of the list matches too; alias/x120 does not');
  assert.ok(alias.indexes.includes('audit_events_resource_names'), `plan used ${JSON.stringify(alias.indexes)}`);
  assert.deepEqual((await lookup({ account: ACCOUNT, attribute: { key: 'ResourceName', value: 'key' }, limit: 50 })).seqs, [], 'a part of a name');
  assert.deepEqual((await lookup({ account: ACCOUNT, attribute: { key: 'ResourceName', value: 'key-7\nalias/x7' }, limit: 50 })).seqs, [], 'two names joined are not a name');
  assert.deepEqual((await lookup({ account: OTHER, attribute: { key: 'ResourceName', value: 'key-7' }, limit: 50 })).seqs, [20007]);
  const ranged = await lookup({ account: ACCOUNT, attribute: { key: 'ResourceName', value: 'key-7' }, startTime: 1000 + 5007, endTime: 1000 + 10007, limit: 50 });
  assert.deepEqual(ranged.seqs, [10007, 5007]);
  const paged = await lookup({ account: ACCOUNT, attribute: { key: 'ResourceName', value: 'key-7' }, after: { time: 1000 + 10007, stream: 1, seq: 10007 }, limit: 1 });
  assert.deepEqual(paged.seqs, [5007]);
});
