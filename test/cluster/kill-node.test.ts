/**
 * kill -9 of one node under load (issue 14): three single-process nodes on one PostgreSQL
 * database serve a steady load of CreateKey and Encrypt from clients of every node; one node is
 * killed with SIGKILL mid-load. The survivors keep answering every request; afterwards every
 * acknowledged key exists, every acknowledged ciphertext decrypts to its plaintext, every
 * acknowledged request (the killed node's included) is in LookupEvents read from a survivor,
 * the requests the dead node had in flight are recorded as outcome unknown by a survivor once
 * its stream's claim lapses, and `keyhold audit verify --store` finds the trail intact.
 *
 * No fixed sleeps: phases end when enough requests were acknowledged, with wide time limits.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CreateKeyCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { usePostgres } from '../helpers/postgres';
import { keyhold } from '../helpers/keyhold-cli';
import { readCredentials, stopAndRemove, type TestServer } from '../helpers/server';
import { cloudTrail, lookupRequestIds, startNode } from './pg-cluster';

const pg = usePostgres();
const servers: TestServer[] = [];
after(async () => {
  for (const s of servers) await stopAndRemove(s).catch(() => undefined);
}, { timeout: 60_000 });

interface Acked {
  readonly requestId: string;
  readonly node: number;
  readonly op: 'CreateKey' | 'Encrypt';
  readonly keyId: string;
  readonly plaintext?: Buffer;
  readonly ciphertext?: Uint8Array;
}

/** Polls `cond` every 50 ms until it holds; fails after `ms`. */
async function until(what: string, ms: number, cond: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('kill -9 one of three nodes under CreateKey/Encrypt load: the others keep serving; every acknowledged key, ciphertext and record survives', { timeout: 480_000 }, async (t) => {
  const database = await pg().createDatabase('keyhold_kill_node');
  // The first node alone, so the credentials are where we look; the others join it.
  servers.push(await startNode(pg(), database, 1));
  servers.push(await startNode(pg(), database, 1));
  servers.push(await startNode(pg(), database, 1));
  const creds = readCredentials((servers[0] as TestServer).dataDir);
  // The load's clients retry as the AWS SDKs do by default (3 attempts, backoff): on a loaded
  // 2-core CI machine an audit commit can exceed its 1.5 s bound and answer a retryable 503.
  // A request counts as acknowledged only when it succeeded; one that fails after its retries
  // fails the test.
  const clients: KMSClient[] = servers.map((s) => new KMSClient({ endpoint: s.endpoint, region: s.region, credentials: creds, maxAttempts: 3 }));
  const victim = 2;

  // A key to encrypt under from the start, made on the victim so its loss would show.
  const seedKey = (await (clients[victim] as KMSClient).send(new CreateKeyCommand({ Description: 'seed' }))).KeyMetadata?.KeyId as string;
  const acked: Acked[] = [];
  const keys: string[] = [seedKey];
  const survivorErrors: string[] = [];
  let killed = false;
  let stop = false;
  let n = 0;

  // Two client loops per node, each with one request in flight: one CreateKey in four, the rest Encrypt.
  const loop = async (node: number): Promise<void> => {
    const client = clients[node] as KMSClient;
    while (!stop) {
      const i = n++;
      try {
        if (i % 4 === 0) {
          const out = await client.send(new CreateKeyCommand({ Description: `load ${i}` }));
          const keyId = out.KeyMetadata?.KeyId as string;
          keys.push(keyId);
          acked.push({ requestId: out.$metadata.requestId as string, node, op: 'CreateKey', keyId });
        } else {
          const keyId = keys[i % keys.length] as string;
          const plaintext = Buffer.from(`plaintext ${i} from node ${node}`);
          const out = await client.send(new EncryptCommand({ KeyId: keyId, Plaintext: plaintext }));
          acked.push({ requestId: out.$metadata.requestId as string, node, op: 'Encrypt', keyId, plaintext, ciphertext: out.CiphertextBlob as Uint8Array });
        }
      } catch (e) {
        if (node === victim && killed) return; // the dead node's clients stop at their first failure
        survivorErrors.push(`node ${node}: ${(e as Error).name}: ${(e as Error).message}`);
        if (survivorErrors.length > 20) return;
      }
    }
  };
  const loops = [0, 0, 1, 1, 2, 2].map((node) => loop(node));
  const ackedBy = (node: number): number => acked.filter((a) => a.node === node).length;

  await until('40 requests acknowledged by every node', 120_000, () => [0, 1, 2].every((k) => ackedBy(k) >= 40) || survivorErrors.length > 0);
  assert.deepEqual(survivorErrors, []);
  const victimAcked = ackedBy(victim);
  killed = true;
  await (servers[victim] as TestServer).kill();
  const atKill = [ackedBy(0), ackedBy(1)];
  const pendingAtKill = ((await pg().query('SELECT count(*)::int AS n FROM audit_intents', [], database))[0] as { n: number }).n;
  await until('40 more requests acknowledged by each survivor', 120_000, () => (ackedBy(0) >= (atKill[0] as number) + 40 && ackedBy(1) >= (atKill[1] as number) + 40) || survivorErrors.length > 0);
  stop = true;
  await Promise.all(loops);
  assert.deepEqual(survivorErrors, [], 'the survivors answered every request');
  t.diagnostic(`acknowledged: ${acked.length} (${victimAcked}+ by the killed node before the kill; survivors ${atKill.join('/')} at the kill, ${ackedBy(0)}/${ackedBy(1)} at the end); ${pendingAtKill} intent(s) pending just after the kill`);

  // Every acknowledged key exists and every acknowledged ciphertext decrypts, on both survivors.
  const [c0, c1] = clients as [KMSClient, KMSClient];
  for (const [i, a] of acked.filter((x) => x.op === 'CreateKey').entries()) {
    const d = await (i % 2 === 0 ? c0 : c1).send(new DescribeKeyCommand({ KeyId: a.keyId }));
    assert.equal(d.KeyMetadata?.KeyState, 'Enabled');
  }
  for (const [i, a] of acked.filter((x) => x.op === 'Encrypt').entries()) {
    const d = await (i % 2 === 0 ? c0 : c1).send(new DecryptCommand({ CiphertextBlob: a.ciphertext }));
    assert.deepEqual(Buffer.from(d.Plaintext as Uint8Array), a.plaintext, `ciphertext of ${a.requestId} (node ${a.node})`);
    assert.equal(d.KeyId?.endsWith(a.keyId), true);
  }

  // Every acknowledged request, the killed node's included, is in LookupEvents on a survivor.
  const ct = cloudTrail(servers[0] as TestServer, creds);
  const found = new Map([...(await lookupRequestIds(ct, 'EventName', 'CreateKey')), ...(await lookupRequestIds(ct, 'EventName', 'Encrypt'))]);
  const missing = acked.filter((a) => found.get(a.requestId) !== a.op);
  assert.deepEqual(missing.map((a) => `${a.op} ${a.requestId} on node ${a.node}`), []);

  // The requests the dead node had in flight: their intents are recorded as outcome unknown by a
  // survivor once the dead node's stream claim lapses (30 s expiry, 10 s heartbeat).
  await until('the killed node\'s pending intents recovered', 180_000, async () => {
    const rows = await pg().query('SELECT count(*)::int AS n FROM audit_intents', [], database);
    return (rows[0] as { n: number }).n === 0;
  });

  assert.equal(await (servers[0] as TestServer).stop(), 0);
  assert.equal(await (servers[1] as TestServer).stop(), 0);
  const verify = await keyhold(['audit', 'verify', '--store', pg().url(database), '--store-password-file', pg().passwordFile, '--public-key', join((servers[0] as TestServer).dataDir, 'audit-signing-key.pem')], {
    env: { PGPASSWORD: '', PGPASSFILE: '/nonexistent' },
  });
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  assert.match(verify.stdout, /intact: \d+ record\(s\) in 3 stream\(s\)/);
});
