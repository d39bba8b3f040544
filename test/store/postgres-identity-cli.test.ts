/**
 * `keyhold credentials create --store postgres://…` (issue 14) against a throwaway cluster, as an
 * operator runs it: the administrator key goes into the database (its secret wrapped by the
 * domain key sealed there), the database password comes from --store-password-file, PGPASSWORD
 * or a .pgpass file and never from the command line, and a node started on that database
 * afterwards creates no administrator of its own and accepts the provisioned keys through the
 * wire (AWS SDK v3).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CreateKeyCommand, DecryptCommand, EncryptCommand, ListKeysCommand, type DecryptCommandOutput, type EncryptCommandOutput, type KMSClient } from '@aws-sdk/client-kms';
import { EXCLUSIVE_LOCK_KEYS } from '../../src/adapters';
import { openTestPool, ownerOnly, usePostgres } from '../helpers/postgres';
import { KEYHOLD_BIN, removeDir, startServer, stopAndRemove, tempDir, type TestServer } from '../helpers/server';

const pg = usePostgres();
const PASSPHRASE = 'provisioned before the first node starts';
const ACCOUNT = '123456789012';
const dirs: string[] = [];
let server: TestServer | undefined;
after(async () => {
  await stopAndRemove(server).catch(() => undefined);
  for (const d of dirs) removeDir(d);
}, { timeout: 60_000 });

function dir(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}

/** Runs bin/keyhold with exactly `env` added (no PGPASSWORD/.pgpass of the machine leaks in). */
function keyhold(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [KEYHOLD_BIN, ...args],
      { timeout: 60_000, env: { ...process.env, PGPASSWORD: '', PGPASSFILE: '/nonexistent', KEYHOLD_MASTER_PASSPHRASE: PASSPHRASE, ...env } },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A 40-character secret in a file only its owner reads (what --secret-access-key-file names). */
function secretFile(): { secret: string; file: string } {
  const secret = randomBytes(30).toString('base64');
  const file = join(dir(), 'secret');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return { secret, file };
}

test('credentials create --store writes the administrator into the database; a node started on it then accepts the keys', { timeout: 180_000 }, async () => {
  const c = pg();
  const database = await c.createDatabase();
  const url = c.url(database);
  const create = (id: string, file: string, extra: string[], env: Record<string, string> = {}) =>
    keyhold(['credentials', 'create', '--data-dir', dir(), '--store', url, ...extra, '--access-key-id', id, '--secret-access-key-file', file, '--account-id', ACCOUNT], env);

  // 1. The password from --store-password-file.
  const one = secretFile();
  const r1 = await create('AKIAPGCLIFILE0000001', one.file, ['--store-password-file', c.passwordFile]);
  assert.equal(r1.stderr, '');
  assert.equal(r1.stdout, `created administrator access key AKIAPGCLIFILE0000001 for account ${ACCOUNT} in the database ${url}\n`);
  assert.equal(r1.code, 0);

  // 2. From PGPASSWORD.
  const two = secretFile();
  const r2 = await create('AKIAPGCLIENV00000002', two.file, [], { PGPASSWORD: c.password });
  assert.equal(r2.code, 0, r2.stderr);

  // 3. From a .pgpass file (libpq's format; only an owner-only file is read).
  const three = secretFile();
  const pgpass = join(dir(), 'pgpass');
  writeFileSync(pgpass, `# keyhold test\n127.0.0.1:${c.port}:${database}:${c.user}:${c.password.replace(/[\\:]/g, (m) => `\\${m}`)}\n`);
  ownerOnly(pgpass);
  const r3 = await create('AKIAPGCLIPASS0000003', three.file, [], { PGPASSFILE: pgpass });
  assert.equal(r3.code, 0, r3.stderr);

  // Refused without writing: a password in the URL (never echoed), another master passphrase.
  const inUrl = await keyhold(['credentials', 'create', '--data-dir', dir(), '--store', url.replace('@', ':hunter2hunter2@'),
    '--access-key-id', 'AKIAPGCLIREFUSED0001', '--secret-access-key-file', one.file], { PGPASSWORD: c.password });
  assert.equal(inUrl.code, 1);
  assert.match(inUrl.stderr, /--store must not contain a password/);
  assert.ok(!inUrl.stderr.includes('hunter2'));
  const wrongTrust = await create('AKIAPGCLIREFUSED0002', one.file, ['--store-password-file', c.passwordFile], { KEYHOLD_MASTER_PASSPHRASE: 'another passphrase' });
  assert.equal(wrongTrust.code, 1);
  assert.match(wrongTrust.stderr, /cannot unseal the domain key in the database .*does not match/);

  // What the database holds: one account, three root keys, secrets only wrapped.
  const keys = await c.query('SELECT access_key_id, account_id, principal_type, principal_arn, status, wrapped_secret FROM access_keys ORDER BY access_key_id', [], database);
  assert.deepEqual(keys.map((k) => [k.access_key_id, k.account_id, k.principal_type, k.principal_arn, k.status]), [
    ['AKIAPGCLIENV00000002', ACCOUNT, 'Root', `arn:aws:iam::${ACCOUNT}:root`, 'Active'],
    ['AKIAPGCLIFILE0000001', ACCOUNT, 'Root', `arn:aws:iam::${ACCOUNT}:root`, 'Active'],
    ['AKIAPGCLIPASS0000003', ACCOUNT, 'Root', `arn:aws:iam::${ACCOUNT}:root`, 'Active'],
  ]);
  for (const [k, s] of [[keys[0], two], [keys[1], one], [keys[2], three]] as const) {
    assert.ok(!(k?.wrapped_secret as Buffer).includes(Buffer.from(s.secret)), 'the secret is stored wrapped only');
  }
  assert.deepEqual((await c.query('SELECT account_id FROM accounts', [], database)).map((a) => a.account_id), [ACCOUNT]);

  // A node on that database: no administrator of its own, and each provisioned key works.
  const node = await startServer({
    dataDir: dir(),
    args: ['--store', url, '--store-password-file', c.passwordFile],
    env: { KEYHOLD_MASTER_PASSPHRASE: PASSPHRASE, PGPASSWORD: '', PGPASSFILE: '/nonexistent' },
  });
  server = node;
  assert.equal(node.credentials.accessKeyId, '', 'no credentials file: the database already had an account');
  const kms = node.client({ accessKeyId: 'AKIAPGCLIFILE0000001', secretAccessKey: one.secret });
  const created = await kms.send(new CreateKeyCommand({ Description: 'provisioned by the CLI' }));
  assert.equal(created.KeyMetadata?.Arn?.split(':')[4], ACCOUNT);
  const others: [string, { secret: string }][] = [['AKIAPGCLIENV00000002', two], ['AKIAPGCLIPASS0000003', three]];
  for (const [id, s] of others) {
    const other: KMSClient = node.client({ accessKeyId: id, secretAccessKey: s.secret });
    const listed = await other.send(new ListKeysCommand({}));
    assert.ok(listed.Keys?.some((k) => k.KeyId === created.KeyMetadata?.KeyId), id);
    const ct: EncryptCommandOutput = await other.send(new EncryptCommand({ KeyId: created.KeyMetadata?.KeyId, Plaintext: Buffer.from('hello') }));
    const pt: DecryptCommandOutput = await kms.send(new DecryptCommand({ CiphertextBlob: ct.CiphertextBlob }));
    assert.equal(Buffer.from(pt.Plaintext ?? []).toString(), 'hello');
  }
  await assert.rejects(node.client({ accessKeyId: 'AKIAPGCLIFILE0000001', secretAccessKey: two.secret }).send(new ListKeysCommand({})), {
    name: 'InvalidSignatureException',
  });
});

test('credentials create --store without --account-id waits for the provisioning lock: four at once on an empty database make one account', { timeout: 180_000 }, async () => {
  const c = pg();
  const database = await c.createDatabase();
  const url = c.url(database);
  const secrets = [1, 2, 3, 4].map(() => secretFile());
  const ids = secrets.map((_, i) => `AKIAPGCLIRACE000000${i + 1}`);
  // The test holds the lock a starting node provisions under, on its one connection.
  const holder = openTestPool(c, database, { max: 1 });
  let account = '';
  try {
    await holder.query('SELECT pg_advisory_lock($1::bigint)', [EXCLUSIVE_LOCK_KEYS.provisioning]);
    let finished = 0;
    const runs = secrets.map((s, i) =>
      keyhold(['credentials', 'create', '--data-dir', dir(), '--store', url, '--store-password-file', c.passwordFile,
        '--access-key-id', ids[i]!, '--secret-access-key-file', s.file], { KEYHOLD_MASTER_PASSPHRASE: PASSPHRASE }).finally(() => (finished += 1)));
    // Until all four wait for the lock (or have finished, which they must not).
    let waiting = 0;
    while (waiting < 4 && finished === 0) {
      await new Promise((r) => setTimeout(r, 50));
      // (A bigint advisory key is stored as classid, the high half, and objid, the low half.)
      waiting = (await holder.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objsubid = 1
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND ((classid::bigint << 32) | objid::bigint) = $1::bigint`,
        [EXCLUSIVE_LOCK_KEYS.provisioning],
      ))[0]!.n;
    }
    assert.equal(finished, 0, 'a credentials create finished while another process held the provisioning lock');
    assert.equal(waiting, 4);
    assert.deepEqual(await c.query('SELECT account_id FROM accounts', [], database), []);
    await holder.query('SELECT pg_advisory_unlock($1::bigint)', [EXCLUSIVE_LOCK_KEYS.provisioning]);
    const done = await Promise.all(runs);
    for (const r of done) assert.equal(r.code, 0, r.stderr);
    const accounts = (await c.query('SELECT account_id FROM accounts', [], database)).map((a) => a.account_id as string);
    assert.equal(accounts.length, 1, `accounts: ${accounts.join(', ')}`);
    account = accounts[0]!;
    for (const r of done) assert.match(r.stdout, new RegExp(`for account ${account} in the database`));
  } finally {
    await holder.close();
  }
  // A node on that database creates no administrator and accepts every key, in that one account.
  const node = await startServer({ dataDir: dir(), args: ['--store', url, '--store-password-file', c.passwordFile], env: { KEYHOLD_MASTER_PASSPHRASE: PASSPHRASE, PGPASSWORD: '', PGPASSFILE: '/nonexistent' } });
  try {
    assert.equal(node.credentials.accessKeyId, '');
    for (const [i, s] of secrets.entries()) {
      const kms = node.client({ accessKeyId: ids[i]!, secretAccessKey: s.secret });
      try {
        assert.equal((await kms.send(new CreateKeyCommand({}))).KeyMetadata?.AWSAccountId, account);
      } finally {
        kms.destroy();
      }
    }
  } finally {
    await stopAndRemove(node);
  }
});
