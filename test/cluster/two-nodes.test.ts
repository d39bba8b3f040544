/**
 * Two Keyhold nodes on one PostgreSQL database (issue 14), through the wire with the AWS SDK:
 * each `keyhold serve --store postgres://…` with its own --data-dir and port, two worker
 * processes each. A key created on A is usable on B at once; a key disabled on B is refused by
 * A within 1 s (measured); a change acknowledged by a node is honoured by every one of its
 * workers at once; while PostgreSQL is down requests answer 503 DependencyTimeoutException within
 * 2 s, and succeed again once it is back, without a restart.
 */
import assert from 'node:assert/strict';
import { CreateKeyCommand, DecryptCommand, DisableKeyCommand, EnableKeyCommand, EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { after, test } from 'node:test';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { usePostgres } from '../helpers/postgres';
import { readCredentials, startServer, stopAndRemove, type TestServer } from '../helpers/server';

const pg = usePostgres();
const PASSPHRASE = 'two nodes, one database, one passphrase';
const servers: TestServer[] = [];
after(async () => {
  for (const s of servers) await stopAndRemove(s).catch(() => undefined);
}, { timeout: 60_000 });

async function node(database: string): Promise<TestServer> {
  const c = pg();
  const s = await startServer({
    workers: 2,
    args: ['--store', c.url(database), '--store-password-file', c.passwordFile],
    env: { KEYHOLD_MASTER_PASSPHRASE: PASSPHRASE, PGPASSWORD: '', PGPASSFILE: '/nonexistent' },
  });
  servers.push(s);
  return s;
}

const PLAINTEXT = Buffer.from('two nodes');

async function errorName(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return (e as Error).name;
  }
}

test('create on A, use on B at once; disable on B, A refuses within 1 s; every worker of the acknowledging node at once', { timeout: 180_000 }, async (t) => {
  const database = await pg().createDatabase();
  const a = await node(database);
  const b = await node(database);
  // The administrator was created once, by the first node: the second found an account.
  assert.ok(existsSync(join(a.dataDir, 'credentials')));
  assert.ok(!existsSync(join(b.dataDir, 'credentials')));
  assert.match(b.output(), /no administrator was created \(the store already holds accounts\)/);
  const creds = readCredentials(a.dataDir);
  const ca: KMSClient = a.client();
  const cb: KMSClient = b.client(creds);

  for (let round = 0; round < 3; round++) {
    const created = await ca.send(new CreateKeyCommand({ Description: `round ${round}` }));
    const keyId = created.KeyMetadata?.KeyId as string;
    // At once on B (no wait): the key and its material come from the database.
    const enc = await cb.send(new EncryptCommand({ KeyId: keyId, Plaintext: PLAINTEXT }));
    const dec = await ca.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }));
    assert.deepEqual(Buffer.from(dec.Plaintext as Uint8Array), PLAINTEXT);

    // Warm A's caches on both workers, then disable on B.
    for (let i = 0; i < 6; i++) await ca.send(new EncryptCommand({ KeyId: keyId, Plaintext: PLAINTEXT }));
    await cb.send(new DisableKeyCommand({ KeyId: keyId }));
    const disabledAt = Date.now();
    let refusedAfter: number | undefined;
    while (Date.now() - disabledAt < 5000) {
      const name = await errorName(ca.send(new EncryptCommand({ KeyId: keyId, Plaintext: PLAINTEXT })));
      if (name === 'DisabledException') {
        refusedAfter = Date.now() - disabledAt;
        break;
      }
      assert.equal(name, undefined, 'A either encrypts (not yet heard) or refuses');
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(refusedAfter !== undefined && refusedAfter <= 1000, `A refused ${refusedAfter} ms after B acknowledged DisableKey`);
    t.diagnostic(`round ${round}: A refused ${refusedAfter} ms after B acknowledged DisableKey`);
    // Refused from then on, by both of A's workers.
    for (let i = 0; i < 6; i++) assert.equal(await errorName(ca.send(new EncryptCommand({ KeyId: keyId, Plaintext: PLAINTEXT }))), 'DisabledException');

    // Read-your-writes across one node's workers: enabled on B, every next request to B works at once.
    await cb.send(new EnableKeyCommand({ KeyId: keyId }));
    for (let i = 0; i < 6; i++) await cb.send(new EncryptCommand({ KeyId: keyId, Plaintext: PLAINTEXT }));
    await cb.send(new DisableKeyCommand({ KeyId: keyId }));
    for (let i = 0; i < 6; i++) assert.equal(await errorName(cb.send(new EncryptCommand({ KeyId: keyId, Plaintext: PLAINTEXT }))), 'DisabledException');
  }
  await stopAndRemove(a);
  await stopAndRemove(b);
});

test('PostgreSQL down: 503 DependencyTimeoutException within 2 s; back up: requests succeed without a restart', { timeout: 180_000 }, async () => {
  const database = await pg().createDatabase();
  const a = await node(database);
  const client = a.client();
  const keyId = (await client.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId as string;
  await client.send(new EncryptCommand({ KeyId: keyId, Plaintext: PLAINTEXT }));
  await pg().stop('fast');
  try {
    for (let i = 0; i < 4; i++) {
      const started = Date.now();
      const err = await client.send(new EncryptCommand({ KeyId: keyId, Plaintext: PLAINTEXT })).then(
        () => undefined,
        (e: Error & { $metadata?: { httpStatusCode?: number } }) => e,
      );
      const took = Date.now() - started;
      assert.equal(err?.name, 'DependencyTimeoutException', `request ${i}`);
      assert.equal(err?.message, 'The system timed out while trying to fulfill the request. You can retry the request.');
      assert.equal(err?.$metadata?.httpStatusCode, 503);
      assert.ok(took < 2000, `answered in ${took} ms`);
    }
  } finally {
    await pg().start();
  }
  const deadline = Date.now() + 30_000;
  for (;;) {
    const name = await errorName(client.send(new EncryptCommand({ KeyId: keyId, Plaintext: PLAINTEXT })));
    if (name === undefined) break;
    assert.equal(name, 'DependencyTimeoutException');
    assert.ok(Date.now() < deadline, 'recovered within 30 s of the database\'s return');
    await new Promise((r) => setTimeout(r, 100));
  }
  await client.send(new CreateKeyCommand({}));
  await stopAndRemove(a);
});
