/**
 * The PostgreSQL connection and migrations (issue 14) against a real, throwaway PostgreSQL
 * cluster (test/helpers/postgres.ts): passwords never in the URL, bounded waits while the
 * database is down or hangs, recovery without a new pool, migrations applied exactly once by
 * concurrent starters.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import {
  DatabaseUnavailableError,
  parseStoreUrl,
  pgpassPassword,
  poolConfig,
  PostgresPool,
} from '../../src/store/postgres/connection';
import { migrate } from '../../src/store/postgres/migrate';
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres/migrations';
import { openTestPool, ownerOnly, usePostgres } from '../helpers/postgres';
import { tempDir } from '../helpers/server';

const pg = usePostgres();

/** A pool on `database` authenticating with the cluster's password through a password file. */
/** A pool with the production timeouts (the outage tests measure them) or patient ones. */
function openPool(database: string, extra: { realTimeouts?: boolean; onIdleError?: (e: Error) => void } = {}): PostgresPool {
  return openTestPool(pg(), database, extra);
}

/** Timeouts no loaded machine reaches (tests that are not about them). */
const PATIENT = { connectTimeoutMs: 30_000, queryTimeoutMs: 30_000, deadlineMs: 60_000 };

/** Runs `f` until it stops failing as unavailable (30 s at most): the first steps after a restart. */
async function eventually<T>(f: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await f();
    } catch (e) {
      if (!(e instanceof DatabaseUnavailableError) || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** A temporary directory removed after the test. */
function scratch(t: TestContext): string {
  const dir = tempDir('keyhold-pgtest-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function elapsed<T>(p: Promise<T>): Promise<{ ms: number; error: unknown }> {
  const t0 = Date.now();
  try {
    await p;
    return { ms: Date.now() - t0, error: undefined };
  } catch (e) {
    return { ms: Date.now() - t0, error: e };
  }
}

test('a --store URL is parsed; one holding a password is refused without echoing it', () => {
  assert.deepEqual(parseStoreUrl('postgres://keyhold@db.internal:6543/kms?sslmode=verify-full'), {
    user: 'keyhold', host: 'db.internal', port: 6543, database: 'kms', params: { sslmode: 'verify-full' },
  });
  assert.equal(parseStoreUrl('postgresql://k@[::1]/kms').port, 5432);
  assert.equal(parseStoreUrl('postgresql://k@[::1]/kms').host, '::1');
  assert.throws(() => parseStoreUrl('postgres://keyhold:s3cr3t-Pa55@db:5432/kms'), (e: Error) => {
    assert.match(e.message, /must not contain a password/);
    assert.match(e.message, /PGPASSWORD, a \.pgpass file or --store-password-file/);
    assert.doesNotMatch(e.message, /s3cr3t/);
    return true;
  });
  assert.throws(() => parseStoreUrl('mysql://k@db/kms'), /must be a postgres:\/\/ URL \(got a mysql: URL\)/);
  assert.throws(() => parseStoreUrl('postgres://db:5432/kms'), /must name the database user/);
  assert.throws(() => parseStoreUrl('postgres://k@db:5432/'), /must name one database/);
  assert.throws(() => parseStoreUrl('not a url'), /must be a URL such as postgres:\/\/USER@HOST:PORT\/DB/);
});

test('pool configuration: bounded waits, synchronous commits, TLS parameters read as pg reads them, no password in it', () => {
  const c = poolConfig({ url: 'postgres://k@db:5432/kms?sslmode=verify-full', env: { PGPASSWORD: 'not-in-config' } });
  assert.equal(c.connectionTimeoutMillis, 1000);
  assert.equal(c.query_timeout, 1500);
  assert.equal(c.statement_timeout, 2000);
  assert.equal(c.options, '-c synchronous_commit=on');
  assert.equal(typeof c.password, 'function');
  assert.ok(!JSON.stringify(c).includes('not-in-config'));
  assert.deepEqual(c.ssl, {});
  assert.equal(poolConfig({ url: 'postgres://k@db/kms' }).ssl, undefined);
  assert.deepEqual(poolConfig({ url: 'postgres://k@db/kms', tls: { rejectUnauthorized: true, servername: 'db' } }).ssl, { rejectUnauthorized: true, servername: 'db' });
});

test('.pgpass: first matching line, * wildcards, escaped colons; a file others can read is ignored (as libpq does)', (ctx) => {
  const dir = scratch(ctx);
  const file = join(dir, 'pgpass');
  writeFileSync(file, ['# comment', 'other:5432:kms:k:wrong', 'db:5432:kms:k:pa\\:ss\\\\word', '*:*:*:k:fallback', ''].join('\n'), { mode: 0o600 });
  const t = { host: 'db', port: 5432, database: 'kms', user: 'k' };
  assert.equal(pgpassPassword(file, t), 'pa:ss\\word');
  assert.equal(pgpassPassword(file, { ...t, database: 'x' }), 'fallback');
  assert.equal(pgpassPassword(file, { ...t, user: 'nobody' }), undefined);
  writeFileSync(join(dir, 'open'), 'db:5432:kms:k:readable\n', { mode: 0o644 });
  assert.equal(pgpassPassword(join(dir, 'open'), t), undefined);
  assert.equal(pgpassPassword(join(dir, 'missing'), t), undefined);
});

test('connects with the password from a password file, PGPASSWORD or .pgpass; a wrong one fails as authentication, not unavailability', async (t) => {
  const db = await pg().createDatabase();
  const viaFile = openPool(db);
  try {
    assert.deepEqual(await viaFile.query('SELECT current_user AS u, current_setting($1) AS s', ['synchronous_commit']), [{ u: pg().user, s: 'on' }]);
  } finally {
    await viaFile.close();
  }
  const viaEnv = new PostgresPool({ url: pg().url(db), env: { PGPASSWORD: pg().password }, ...PATIENT });
  try {
    assert.deepEqual(await viaEnv.query('SELECT 1 AS one'), [{ one: 1 }]);
  } finally {
    await viaEnv.close();
  }
  const dir = scratch(t);
  writeFileSync(join(dir, '.pgpass'), `127.0.0.1:${pg().port}:${db}:${pg().user}:${pg().password}\n`);
  ownerOnly(join(dir, '.pgpass'));
  const viaPgpass = new PostgresPool({ url: pg().url(db), env: { HOME: dir }, ...PATIENT });
  try {
    assert.deepEqual(await viaPgpass.query('SELECT 2 AS two'), [{ two: 2 }]);
  } finally {
    await viaPgpass.close();
  }
  const wrong = new PostgresPool({ url: pg().url(db), env: { PGPASSWORD: 'wrong-password' }, ...PATIENT });
  try {
    await assert.rejects(wrong.query('SELECT 1'), (e: Error & { code?: string }) => {
      assert.ok(!(e instanceof DatabaseUnavailableError));
      assert.equal(e.code, '28P01'); // invalid_password
      assert.doesNotMatch(e.message, /wrong-password/);
      return true;
    });
  } finally {
    await wrong.close();
  }
});

test('database down: queries reject within 2 s as DatabaseUnavailableError, idle connections dropping do not crash, the same pool recovers', { timeout: 120_000 }, async () => {
  const db = await pg().createDatabase();
  const idleErrors: Error[] = [];
  const pool = openPool(db, { realTimeouts: true, onIdleError: (e) => idleErrors.push(e) });
  try {
    // Several idle connections in the pool when the database goes away.
    await eventually(() => Promise.all([1, 2, 3].map(() => pool.query('SELECT pg_sleep(0.05)'))));
    await pg().stop('fast');
    for (let i = 0; i < 3; i++) {
      const r = await elapsed(pool.query('SELECT 1'));
      assert.ok(r.error instanceof DatabaseUnavailableError, `attempt ${i}: ${String(r.error)}`);
      assert.ok(r.ms < 2000, `rejected after ${r.ms} ms`);
    }
    const tx = await elapsed(pool.transaction(async (t) => t.query('SELECT 1')));
    assert.ok(tx.error instanceof DatabaseUnavailableError);
    assert.ok(tx.ms < 2000, `transaction rejected after ${tx.ms} ms`);
    await pg().start();
    assert.deepEqual(await eventually(() => pool.query('SELECT 3 AS three')), [{ three: 3 }]);
    assert.ok(idleErrors.length >= 1, 'the pool reported its idle connections being terminated');
  } finally {
    await pool.close();
  }
});

test('database hanging (every postgres process stopped): queries and transactions reject within 2 s, then succeed once it runs again', { timeout: 120_000 }, async () => {
  const db = await pg().createDatabase();
  const pool = openPool(db, { realTimeouts: true });
  try {
    await eventually(() => pool.query('CREATE TABLE t (n INTEGER)'));
    pg().freeze(true);
    try {
      const q = await elapsed(pool.query('SELECT 1'));
      assert.ok(q.error instanceof DatabaseUnavailableError, String(q.error));
      assert.ok(q.ms < 2000, `query rejected after ${q.ms} ms`);
      const tx = await elapsed(pool.transaction(async (t) => t.query('INSERT INTO t VALUES (1)')));
      assert.ok(tx.error instanceof DatabaseUnavailableError, String(tx.error));
      assert.ok(tx.ms < 2000, `transaction rejected after ${tx.ms} ms`);
    } finally {
      pg().freeze(false);
    }
    await eventually(() => pool.transaction(async (t) => t.query('INSERT INTO t VALUES (2)')));
    // The insert whose commit timed out was rolled back with its connection, or committed: never half.
    const rows = await pool.query<{ n: number }>('SELECT n FROM t ORDER BY n');
    assert.ok(rows.some((r) => r.n === 2));
    assert.ok(rows.every((r) => r.n === 1 || r.n === 2));
  } finally {
    await pool.close();
  }
});

test('migrations: eight nodes starting at once on a fresh database apply each migration exactly once', { timeout: 120_000 }, async () => {
  const db = await pg().createDatabase();
  const pools = Array.from({ length: 8 }, () => openPool(db));
  try {
    const results = await Promise.all(pools.map((p) => migrate(p)));
    const applied = results.flatMap((r) => r.applied);
    assert.deepEqual(applied.sort(), POSTGRES_MIGRATIONS.map(([n]) => n).sort());
    assert.ok(results.every((r) => r.version === Math.max(...POSTGRES_MIGRATIONS.map(([n]) => n))));
    const versions = await pools[0]!.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    assert.deepEqual(versions.map((v) => v.version), POSTGRES_MIGRATIONS.map(([n]) => n));
    const tables = await pools[0]!.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
    const expected = [
      'audit_digests', 'audit_events', 'audit_intents', 'audit_settings', 'audit_streams', 'domain_key', 'leases', 'schema_migrations',
      // Identities (migration 3).
      'account_aliases', 'accounts', 'access_keys', 'iam_entities', 'iam_group_members', 'iam_inline_policies', 'iam_managed_policies',
      'iam_policy_attachments', 'iam_tags', 'org_policies', 'org_policy_attachments', 'organizations', 'sts_sessions',
    ];
    assert.deepEqual(expected.filter((t) => !tables.some((x) => x.t === t)), [], 'every table is there');
    // A later start applies nothing.
    assert.deepEqual((await migrate(pools[1]!)).applied, []);

    // Side effects run once: a migration that inserts a row, run by eight starters at once.
    const counted: [number, string][] = [[1, 'CREATE TABLE runs (n INTEGER)'], [2, 'INSERT INTO runs VALUES (2)'], [3, 'INSERT INTO runs VALUES (3)']];
    const db2 = await pg().createDatabase();
    const pools2 = Array.from({ length: 8 }, () => openPool(db2));
    try {
      await Promise.all(pools2.map((p) => migrate(p, counted.slice(0, 2))));
      await Promise.all(pools2.map((p) => migrate(p, counted)));
      assert.deepEqual(await pools2[0]!.query('SELECT n FROM runs ORDER BY n'), [{ n: 2 }, { n: 3 }]);
      // A database migrated by a newer Keyhold is refused by an older one.
      await assert.rejects(migrate(pools2[0]!, counted.slice(0, 2)), /schema is at version 3, newer than this Keyhold knows \(2\): upgrade Keyhold/);
    } finally {
      await Promise.all(pools2.map((p) => p.close()));
    }
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
});

test('a named statement is prepared once per connection and reused; a replacement connection prepares it again', { timeout: 120_000 }, async () => {
  const db = await pg().createDatabase();
  const pool = new PostgresPool({ ...PATIENT, url: pg().url(db), passwordFile: pg().passwordFile, env: {}, max: 1, onIdleError: () => undefined });
  const prepared = () =>
    pool.query<{ name: string; plans: number }>("SELECT name, (generic_plans + custom_plans)::int AS plans FROM pg_prepared_statements WHERE name = 'keyhold-test-sum'");
  try {
    for (let i = 1; i <= 3; i++) assert.deepEqual(await pool.query('SELECT $1::int + $2::int AS sum', [i, 1], 'keyhold-test-sum'), [{ sum: i + 1 }]);
    // One connection: one prepared statement, executed three times (once per plan choice).
    assert.deepEqual(await prepared(), [{ name: 'keyhold-test-sum', plans: 3 }]);
    assert.deepEqual(await pool.query('SELECT 1 AS unnamed'), [{ unnamed: 1 }]);
    assert.equal((await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_prepared_statements')).at(0)?.n, 1, 'a statement without a name is not kept');
    // The connection is terminated: the pool's next one has no prepared statement until the named query runs on it.
    await pg().query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db], db);
    for (const deadline = Date.now() + 30_000; pool.pool.totalCount > 0; await new Promise((r) => setTimeout(r, 20))) {
      assert.ok(Date.now() < deadline, 'the pool never dropped its terminated connection');
    }
    assert.deepEqual(await prepared(), []);
    assert.deepEqual(await pool.query('SELECT $1::int + $2::int AS sum', [40, 2], 'keyhold-test-sum'), [{ sum: 42 }]);
    assert.deepEqual(await prepared(), [{ name: 'keyhold-test-sum', plans: 1 }]);
  } finally {
    await pool.close();
  }
});
