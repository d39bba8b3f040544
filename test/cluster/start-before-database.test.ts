/**
 * A node started while its database does not answer waits for it (issue 14): start-up steps
 * retry while PostgreSQL is slow or briefly unavailable (src/store/postgres/start-up-patience.ts)
 * instead of failing on the first 1 s connection attempt, so a node started on a loaded host, or
 * while the database hangs, comes up once it answers. A wrong password still fails at once, and
 * so does a refused connection (test/store/postgres-config.test.ts): only a database that is
 * there but slow is waited out.
 */
import assert from 'node:assert/strict';
import { CreateKeyCommand, DecryptCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { after, test } from 'node:test';
import { usePostgres } from '../helpers/postgres';
import { startServer, stopAndRemove, type TestServer } from '../helpers/server';

const pg = usePostgres();
const PASSPHRASE = 'a node that starts before its database';
/** The database stays down this long after the node was started. */
const HUNG_FOR_MS = 4000;

let server: TestServer | undefined;
after(async () => {
  await stopAndRemove(server).catch(() => undefined);
}, { timeout: 60_000 });

test('a node started while PostgreSQL hangs comes up when it answers, and serves', { timeout: 240_000 }, async () => {
  const c = pg();
  const database = await c.createDatabase();
  c.freeze(true);
  const starting = startServer({
    workers: 2,
    startTimeoutMs: 120_000,
    args: ['--store', c.url(database), '--store-password-file', c.passwordFile],
    env: { KEYHOLD_MASTER_PASSPHRASE: PASSPHRASE, PGPASSWORD: '', PGPASSFILE: '/nonexistent' },
  });
  let startedEarly = false;
  void starting.then(() => { startedEarly = true; }, () => undefined);
  try {
    await new Promise((r) => setTimeout(r, HUNG_FOR_MS));
    assert.equal(startedEarly, false, 'the node reported ready while its database hung');
  } finally {
    c.freeze(false);
  }
  server = await starting;
  const kms = server.client();
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({}));
  const plaintext = Buffer.from('served after a late database');
  const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: KeyMetadata!.KeyId!, Plaintext: plaintext }));
  const back = await kms.send(new DecryptCommand({ CiphertextBlob }));
  assert.deepEqual(Buffer.from(back.Plaintext!), plaintext);
  assert.match(server.output(), /PostgreSQL unavailable while starting; retrying/);
});

test('a node with a wrong database password fails at once, not after the patience bound', { timeout: 120_000 }, async () => {
  const c = pg();
  const database = await c.createDatabase();
  const began = Date.now();
  await assert.rejects(
    startServer({
      workers: 1,
      startTimeoutMs: 60_000,
      args: ['--store', c.url(database)],
      env: { KEYHOLD_MASTER_PASSPHRASE: PASSPHRASE, PGPASSWORD: 'not-the-password', PGPASSFILE: '/nonexistent' },
    }),
    (e: Error) => /password authentication failed/.test(e.message) && !/not-the-password/.test(e.message),
  );
  assert.ok(Date.now() - began < 30_000, `a wrong password took ${Date.now() - began} ms to fail`);
});
