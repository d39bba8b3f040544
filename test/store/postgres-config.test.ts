/**
 * `--store` configuration (issue 14): SQLite stays the default; a postgres:// URL is parsed and
 * checked (never with a password in it); `serve` with a database it cannot reach exits with a
 * clear message and serves nothing (the PostgreSQL Store itself: test/store/postgres-store.test.ts).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { loadConfig, storeConfig } from '../../src/config';
import { keyhold } from '../helpers/keyhold-cli';
import { REPO_ROOT, tempDir } from '../helpers/server';

test('without --store the store is SQLite in the data directory', () => {
  assert.deepEqual(loadConfig({}, {}).store, { kind: 'sqlite' });
  assert.deepEqual(loadConfig({ store: 'sqlite' }, {}).store, { kind: 'sqlite' });
  assert.throws(() => loadConfig({ 'store-password-file': '/run/pw' }, {}), { message: '--store-password-file needs --store postgres://...' });
});

test('--store and KEYHOLD_STORE: a postgres:// URL with its password file, flags winning over the environment', () => {
  assert.deepEqual(storeConfig('postgres://keyhold@db:5432/kms?sslmode=verify-full', '/run/secrets/pg'), {
    kind: 'postgres', url: 'postgres://keyhold@db:5432/kms?sslmode=verify-full', passwordFile: '/run/secrets/pg',
  });
  assert.deepEqual(storeConfig('postgresql://keyhold@db/kms', undefined), { kind: 'postgres', url: 'postgresql://keyhold@db/kms', passwordFile: undefined });
  assert.throws(() => storeConfig('postgres://keyhold:hunter2@db/kms', undefined), (e: Error) => {
    assert.match(e.message, /^--store must not contain a password/);
    assert.doesNotMatch(e.message, /hunter2/);
    return true;
  });
  assert.throws(() => storeConfig('mysql://k@db/kms', undefined), { message: '--store must be a postgres:// URL (got a mysql: URL)' });
  assert.throws(() => storeConfig('/var/lib/keyhold.db', undefined), { message: '--store must be a URL such as postgres://USER@HOST:PORT/DB' });
  // From flags and environment alike, the flag winning.
  assert.throws(() => loadConfig({}, { KEYHOLD_STORE: 'postgres://k:pw@db/kms' }), /^Error: --store must not contain a password/);
  assert.deepEqual(loadConfig({ store: 'postgres://k@db/kms' }, { KEYHOLD_STORE: 'postgres://k:pw@db/kms' }).store, {
    kind: 'postgres', url: 'postgres://k@db/kms', passwordFile: undefined,
  });
  assert.deepEqual(loadConfig({}, { KEYHOLD_STORE: 'postgres://k@db/kms', KEYHOLD_STORE_PASSWORD_FILE: '/run/pw' }).store, {
    kind: 'postgres', url: 'postgres://k@db/kms', passwordFile: '/run/pw',
  });
});

test('keyhold serve --store postgres://… with no database there exits 1 saying so, and never with a password in the URL', async () => {
  const dir = tempDir();
  try {
    const dataDir = join(dir, 'data');
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    const run = await keyhold(['serve', '--port', '0', '--workers', '1', '--data-dir', dataDir, '--store', 'postgres://keyhold@127.0.0.1:1/kms'], {
      env: { KEYHOLD_MASTER_PASSPHRASE: 'correct horse battery staple' },
    });
    assert.equal(run.code, 1);
    assert.match(run.stderr.trim(), /^keyhold: the database is unavailable: connect ECONNREFUSED 127\.0\.0\.1:1$/m);
    const withPassword = await keyhold(['serve', '--port', '0', '--workers', '1', '--data-dir', dataDir, '--store', 'postgres://keyhold:s3cret@127.0.0.1/kms']);
    assert.equal(withPassword.code, 1);
    assert.match(withPassword.stderr, /^keyhold: --store must not contain a password/);
    assert.doesNotMatch(withPassword.stderr, /s3cret/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('only src/store/postgres imports the pg driver (as only store/sqlite imports better-sqlite3)', () => {
  const src = join(REPO_ROOT, 'src');
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? files(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : []));
  const offenders = files(src).filter(
    (f) => !relative(src, f).startsWith('store/postgres/') && /from '(pg|pg-connection-string|pg-pool)'/.test(readFileSync(f, 'utf8')),
  );
  assert.deepEqual(offenders, []);
  assert.ok(files(join(src, 'store', 'postgres')).some((f) => /from 'pg'/.test(readFileSync(f, 'utf8'))));
});
