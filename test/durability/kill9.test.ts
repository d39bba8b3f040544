/**
 * Durability under `kill -9` (docs/architecture.md §1 promise 1): concurrent CreateKey/Encrypt load against a
 * two-worker server, SIGKILL of the primary and every worker at a random moment, restart on the
 * same data directory, five rounds; then every acknowledged CreateKey must exist and every
 * acknowledged ciphertext must decrypt to its plaintext.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { after, test } from 'node:test';
import { CreateKeyCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { alive, childrenOf, killAll } from '../helpers/processes';
import { removeDir, startServer, tempDir, type TestServer } from '../helpers/server';

const ROUNDS = 5;
const LOOPS = 16;
const MIN_ACKS_PER_ROUND = 50;

interface Sealed {
  keyId: string;
  plaintext: Buffer;
  context: Record<string, string> | undefined;
  ciphertext: Uint8Array;
}

/** Runs `fn` over `items` with at most `n` at a time. */
async function pool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

let dataDir: string | undefined;
let current: TestServer | undefined;
after(async () => {
  if (current && current.process.exitCode === null && current.process.signalCode === null) await killAll(current);
  if (dataDir) removeDir(dataDir);
});

test('every acknowledged CreateKey and ciphertext survives repeated kill -9 under load', { timeout: 300_000 }, async (t) => {
  dataDir = tempDir('keyhold-kill9-');
  const keys: string[] = []; // acknowledged CreateKey results
  const sealed: Sealed[] = []; // acknowledged Encrypt results

  for (let round = 0; round < ROUNDS; round++) {
    // A restart after kill -9 must succeed on the same directory: no stale lock, no corruption.
    current = await startServer({ dataDir, workers: 2 });
    const server = current;
    const workerPids = childrenOf(server.process.pid!);
    assert.ok(workerPids.length >= 2, `expected 2 worker processes, found ${workerPids.length}`);

    let stopping = false;
    let acks = 0;
    const unexpected: string[] = [];
    // One client shared by the loops (one connection pool, as an application would use it).
    const kms = server.client();

    const loop = async (): Promise<void> => {
      while (!stopping) {
        try {
          if (keys.length === 0 || Math.random() < 0.25) {
            const out = await kms.send(new CreateKeyCommand({ Description: `round ${round}` }));
            keys.push(out.KeyMetadata!.KeyId!);
          } else {
            const keyId = keys[randomInt(keys.length)]!;
            const plaintext = randomBytes(randomInt(1, 2048));
            const context = Math.random() < 0.5 ? { round: String(round), n: randomBytes(4).toString('hex') } : undefined;
            const out = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: plaintext, EncryptionContext: context }));
            sealed.push({ keyId, plaintext, context, ciphertext: out.CiphertextBlob! });
          }
          acks++;
        } catch (e) {
          // Failures are expected only once the kill has begun.
          if (!stopping) unexpected.push(`${(e as Error).name}: ${(e as Error).message}`);
          return;
        }
      }
    };
    const loops = Array.from({ length: LOOPS }, loop);

    // The random 0.5–1.5 s window starts once the load is flowing (first acknowledgement), so a
    // slow worker start-up on a busy machine does not eat the window.
    const flowing = Date.now() + 10_000;
    while (acks === 0 && unexpected.length === 0 && Date.now() < flowing) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 500 + randomInt(1000)));
    // On a heavily loaded machine the window may hold too few operations to mean anything: then
    // let the load run on (bounded) until it has, plus a random few milliseconds.
    const enough = Date.now() + 10_000;
    while (acks <= MIN_ACKS_PER_ROUND && unexpected.length === 0 && Date.now() < enough) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, randomInt(50)));
    stopping = true;
    const pids = await killAll(server);
    await Promise.all(loops);
    kms.destroy();

    const errorLog = server.output().split('\n').filter((l) => l.includes('"level":50')).slice(0, 3).join('\n');
    assert.deepEqual([...new Set(unexpected)], [], `requests failed before the kill in round ${round}; server errors:\n${errorLog}`);
    assert.ok(acks > MIN_ACKS_PER_ROUND, `round ${round}: only ${acks} operations were acknowledged`);
    for (const pid of pids) assert.equal(alive(pid), false);
    assert.ok(existsSync(`${dataDir}/keyhold.db`));
    t.diagnostic(`round ${round}: ${acks} acknowledged operations, killed pids ${pids.join(',')}`);
  }

  current = await startServer({ dataDir, workers: 2 });
  const kms = current.client();
  try {
    const arnOf = new Map<string, string>();
    await pool(keys, 16, async (keyId) => {
      const out = await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
      assert.equal(out.KeyMetadata!.KeyId, keyId);
      assert.equal(out.KeyMetadata!.KeyState, 'Enabled');
      arnOf.set(keyId, out.KeyMetadata!.Arn!);
    });
    let checked = 0;
    await pool(sealed, 16, async (s) => {
      const out = await kms.send(new DecryptCommand({ CiphertextBlob: s.ciphertext, EncryptionContext: s.context }));
      assert.equal(out.KeyId, arnOf.get(s.keyId));
      assert.ok(Buffer.from(out.Plaintext!).equals(s.plaintext), `ciphertext under ${s.keyId} decrypted to other bytes`);
      checked++;
    });
    assert.equal(checked, sealed.length);
    t.diagnostic(`verified ${keys.length} keys and ${sealed.length} ciphertexts`);
    assert.ok(keys.length > ROUNDS && sealed.length > ROUNDS * 10, `too little load: ${keys.length} keys, ${sealed.length} ciphertexts`);
  } finally {
    kms.destroy();
    assert.equal(await current.stop(), 0, current.output());
  }
});
