/**
 * The lifecycle jobs' lease moves when its holder dies (issue 14: "Lifecycle jobs … run on exactly
 * one node at a time, under a lease row with an expiry renewed by heartbeat; another node takes
 * over within 60 s"). Two nodes on one database; the node holding the `lifecycle` lease
 * (src/store/postgres/lease.ts, src/lifecycle/leased-job.ts) is killed with SIGKILL — no release,
 * its row simply stops being renewed — and the survivor must take the lease over and run the jobs.
 *
 * Observed through the wire: a key whose imported material expires a few seconds after the kill
 * (ImportKeyMaterial with ValidTo) turns PendingImport on the survivor — only a lifecycle pass
 * (the import-expiry job) does that, and only the lease holder runs one. The lease row is read
 * beside it for the diagnostics and to check the new holder is the survivor's process.
 *
 * No time knob shortens the lease: the production expiry (30 s) and heartbeat (10 s) are used, so
 * the takeover happens at most 40 s after the kill; the 60 s bound leaves 20 s of margin. The only
 * test setting is KEYHOLD_SCHEDULER_INTERVAL_MS=200 (how often a pass looks for due work).
 */
import assert from 'node:assert/strict';
import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import {
  CreateKeyCommand, DescribeKeyCommand, EncryptCommand, GetParametersForImportCommand, ImportKeyMaterialCommand, type KMSClient,
} from '@aws-sdk/client-kms';
import { after, test } from 'node:test';
import { usePostgres } from '../helpers/postgres';
import { readCredentials, startServer, stopAndRemove, type TestServer } from '../helpers/server';

const pg = usePostgres();
const PASSPHRASE = 'a lease that moves';
/** The promise under test. */
const TAKEOVER_BOUND_MS = 60_000;
/** ValidTo, counted from the kill: after it, so only the survivor can expire the material. */
const EXPIRES_AFTER_KILL_MS = 5_000;

const servers: TestServer[] = [];
after(async () => {
  for (const s of servers) await stopAndRemove(s).catch(() => undefined);
}, { timeout: 60_000 });

async function node(database: string): Promise<TestServer> {
  const c = pg();
  const s = await startServer({
    workers: 1,
    args: ['--store', c.url(database), '--store-password-file', c.passwordFile],
    env: { KEYHOLD_MASTER_PASSPHRASE: PASSPHRASE, PGPASSWORD: '', PGPASSFILE: '/nonexistent', KEYHOLD_SCHEDULER_INTERVAL_MS: '200' },
  });
  servers.push(s);
  return s;
}

interface LeaseRow {
  readonly holder: string;
  readonly epoch: number;
}

async function lifecycleLease(database: string): Promise<LeaseRow | undefined> {
  const [r] = await pg().query("SELECT holder, epoch FROM leases WHERE name = 'lifecycle'", [], database);
  return r === undefined ? undefined : { holder: r.holder as string, epoch: Number(r.epoch) };
}

/** The PID in a holder name (`${hostname}:${pid}:${random}`, src/adapters.ts). */
const pidOf = (holder: string): number => Number(holder.split(':').at(-2));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('kill -9 of the lease holder: the survivor takes the lifecycle lease over and expires imported material within 60 s', { timeout: 240_000 }, async (t) => {
  const database = await pg().createDatabase();
  const first = await node(database);
  const second = await node(database);
  const creds = readCredentials(first.dataDir);

  // The first node took the lease at start-up; wait for the row (its first heartbeat) if need be.
  let lease: LeaseRow | undefined;
  for (let i = 0; (lease = await lifecycleLease(database)) === undefined; i++) {
    assert.ok(i < 200, 'a node takes the lifecycle lease');
    await sleep(100);
  }
  const holder = [first, second].find((s) => s.process.pid === pidOf(lease.holder));
  assert.ok(holder !== undefined, `the lease is held by one of the two nodes (${lease.holder})`);
  const survivor = holder === first ? second : first;
  const kms: KMSClient = survivor.client(creds);

  // A key with imported material. Wrapping first: GetParametersForImport makes an RSA key pair.
  const keyId = (await kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL' }))).KeyMetadata?.KeyId as string;
  const params = await kms.send(new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
  const material = randomBytes(32);
  const wrapped = publicEncrypt(
    { key: createPublicKey({ key: Buffer.from(params.PublicKey as Uint8Array), format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
    material,
  );
  material.fill(0);

  // Kill the holder, then import material that expires a few seconds later: only a node running
  // the lifecycle jobs expires it, and the only node left must first take the lease over.
  await holder.kill();
  const killedAt = Date.now();
  assert.equal(holder.process.signalCode, 'SIGKILL');
  const validTo = Math.ceil((killedAt + EXPIRES_AFTER_KILL_MS) / 1000) * 1000;
  await kms.send(new ImportKeyMaterialCommand({
    KeyId: keyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: wrapped, ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: new Date(validTo),
  }));
  await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('before expiry') }));

  let state: string | undefined;
  let expiredAfter: number | undefined;
  while (Date.now() - killedAt < TAKEOVER_BOUND_MS + 10_000) {
    state = (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState;
    if (state === 'PendingImport') {
      expiredAfter = Date.now() - killedAt;
      break;
    }
    assert.equal(state, 'Enabled');
    await sleep(250);
  }
  assert.equal(state, 'PendingImport', 'the survivor expired the material');
  assert.ok(Date.now() >= validTo, 'not before ValidTo');
  assert.ok(expiredAfter !== undefined && expiredAfter <= TAKEOVER_BOUND_MS, `expired ${expiredAfter} ms after the holder was killed (bound ${TAKEOVER_BOUND_MS} ms)`);

  // The row now names the survivor's process, in a later epoch.
  const now = await lifecycleLease(database);
  assert.ok(now !== undefined);
  assert.equal(pidOf(now.holder), survivor.process.pid, `the lease moved to the survivor (${now.holder})`);
  assert.ok(now.epoch > lease.epoch, `a new epoch (${lease.epoch} → ${now.epoch})`);
  t.diagnostic(`holder (pid ${holder.process.pid}) killed; the survivor (pid ${survivor.process.pid}) expired the material ${expiredAfter} ms later (lease epoch ${lease.epoch} → ${now.epoch})`);
  kms.destroy();
});
