/**
 * The trail under `kill -9` (docs/architecture.md §1 promise 2): concurrent CreateKey / Encrypt / failing
 * DescribeKey load on a two-worker server, SIGKILL of the primary and every worker at a random
 * moment, restart on the same data directory, several rounds. Afterwards every request that got
 * an answer (success or client error) has exactly one record, no request has two, no intent is
 * left pending, and `keyhold audit verify` finds the trail intact: a crash is never tampering.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CreateKeyCommand, DescribeKeyCommand, EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { SqliteAuditStore } from '../../src/store/sqlite/audit-log-sqlite';
import { killAll } from '../helpers/processes';
import { removeDir, startServer, tempDir, type TestServer } from '../helpers/server';
import { keyhold, trailRows } from './helpers';

const ROUNDS = 4;
const LOOPS = 12;
/** Answered requests each round must reach before its kill. */
const MIN_ANSWERED_PER_ROUND = 25;

let dataDir: string | undefined;
let current: TestServer | undefined;
after(async () => {
  if (current && current.process.exitCode === null && current.process.signalCode === null) await killAll(current);
  if (dataDir) removeDir(dataDir);
});

test('after repeated kill -9 under load the trail verifies and no answered request is missing', { timeout: 180_000 }, async (t) => {
  dataDir = tempDir('keyhold-audit-kill9-');
  const answered = new Map<string, string>(); // request id -> operation
  const keys: string[] = [];

  for (let round = 0; round < ROUNDS; round++) {
    current = await startServer({ dataDir, workers: 2 });
    const server = current;
    let stopping = false;
    const clients: KMSClient[] = [];
    const unexpected: string[] = [];
    const loop = async (): Promise<void> => {
      const kms = server.client();
      clients.push(kms);
      while (!stopping) {
        const roll = Math.random();
        try {
          if (keys.length === 0 || roll < 0.2) {
            const out = await kms.send(new CreateKeyCommand({ Description: `round ${round}` }));
            keys.push(out.KeyMetadata!.KeyId!);
            answered.set(out.$metadata.requestId!, 'CreateKey');
          } else if (roll < 0.3) {
            await kms.send(new DescribeKeyCommand({ KeyId: `alias/missing-${randomInt(1000)}` }));
          } else {
            const out = await kms.send(new EncryptCommand({ KeyId: keys[randomInt(keys.length)]!, Plaintext: randomBytes(32) }));
            answered.set(out.$metadata.requestId!, 'Encrypt');
          }
        } catch (e) {
          const err = e as { name: string; $metadata?: { httpStatusCode?: number; requestId?: string } };
          const status = err.$metadata?.httpStatusCode;
          if (status !== undefined && status < 500 && err.$metadata?.requestId) {
            answered.set(err.$metadata.requestId, err.name); // a client error is an answer too
            if (err.name === 'NotFoundException') continue;
          }
          if (!stopping) unexpected.push(`${err.name}: ${(e as Error).message}`);
          return;
        }
      }
    };
    const loops = Array.from({ length: LOOPS }, loop);
    // Kill at a random moment, but only once this round has answered enough requests, so a slow
    // machine changes how long a round takes, never whether the test has load to check.
    const before = answered.size;
    const earliest = Date.now() + 600 + randomInt(1200);
    const deadline = Date.now() + 60_000;
    while ((answered.size - before < MIN_ANSWERED_PER_ROUND || Date.now() < earliest) && Date.now() < deadline && unexpected.length === 0) {
      await new Promise((r) => setTimeout(r, 50));
    }
    stopping = true;
    await killAll(server);
    await Promise.all(loops);
    for (const c of clients) c.destroy();
    assert.deepEqual([...new Set(unexpected)], [], `requests failed before the kill in round ${round}`);
    t.diagnostic(`round ${round}: ${answered.size} answered requests so far`);
  }

  // A clean start recovers intents and signs the crashed tails; a clean stop signs the rest.
  current = await startServer({ dataDir, workers: 2 });
  assert.equal(await current.stop(), 0, current.output());

  const rows = trailRows(dataDir);
  const byRequest = new Map<string, number>();
  for (const r of rows) if (r.requestId !== null) byRequest.set(r.requestId, (byRequest.get(r.requestId) ?? 0) + 1);
  for (const [id, what] of answered) assert.equal(byRequest.get(id), 1, `answered ${what} ${id} has ${byRequest.get(id) ?? 0} records`);
  for (const [id, n] of byRequest) assert.equal(n, 1, `request ${id} has ${n} records`);
  const store = new SqliteAuditStore({ dir: join(dataDir, 'audit'), readonly: true });
  try {
    for (const n of store.streamIds()) assert.deepEqual(store.stream(n).intents(), [], `stream ${n} has pending intents`);
  } finally {
    store.close();
  }
  const verify = await keyhold(['audit', 'verify', '--data-dir', dataDir]);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  assert.ok(answered.size >= ROUNDS * MIN_ANSWERED_PER_ROUND, `too little load: ${answered.size} answered requests`);
  t.diagnostic(`${answered.size} answered requests, ${rows.length} records; ${verify.stdout.trim()}`);
});
