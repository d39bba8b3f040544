/**
 * PostgreSQL restarted under a steady load (issue 14, "Database outages"): one Keyhold node (two
 * worker processes) on a throwaway cluster, three loops of Encrypt and one of CreateKey running
 * throughout. The database is stopped twice — a fast shutdown, then an immediate one (like a
 * crash: recovery at the next start) — and started again, Keyhold never restarted.
 *
 * Asserted for every request of the run:
 * - it answers within 2 s (never a hang), whether the database is up or down;
 * - it succeeds, or fails with 503 DependencyTimeoutException and AWS's message (which the SDKs
 *   retry) — never a 500 or any other error;
 * and around each outage:
 * - once the database has been down 3 s (the caches trust nothing beyond 1 s without it), every
 *   request answers 503;
 * - after it returns, every loop succeeds again within 30 s, the same server process serving;
 * and at the end: every ciphertext an acknowledged Encrypt returned decrypts to its plaintext, and
 * every key an acknowledged CreateKey returned exists (synchronous_commit is on: an acknowledged
 * write survives an immediate shutdown).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { CreateKeyCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { after, test } from 'node:test';
import { usePostgres, type StopMode } from '../helpers/postgres';
import { startServer, stopAndRemove, type TestServer } from '../helpers/server';

const pg = usePostgres();
const PASSPHRASE = 'one node, a database that restarts';
/** The promise under test: an answer within 2 s while the database is down. */
const ANSWER_BOUND_MS = 2000;
/** Down this long, no request may be served from caches any more (they trust nothing beyond 1 s). */
const ALL_REFUSED_AFTER_MS = 3000;
const DOWN_FOR_MS = 6000;
const RECOVERY_BOUND_MS = 30_000;
/**
 * The two refusals an outage gives, both 503 DependencyTimeoutException (which the SDKs retry):
 * the store's timeout, or the audit sink's refusal when the request's record (written to
 * PostgreSQL before any response) could not be committed.
 */
const OUTAGE_MESSAGES = [
  'The system timed out while trying to fulfill the request. You can retry the request.',
  'The audit trail cannot be written; the request was not processed. Retry later.',
];

let server: TestServer | undefined;
after(async () => {
  await stopAndRemove(server).catch(() => undefined);
}, { timeout: 60_000 });

/** One request's outcome. */
interface Outcome {
  readonly loop: string;
  readonly startedAt: number;
  readonly took: number;
  /** undefined: it succeeded. */
  readonly error?: { readonly name: string; readonly message: string; readonly status: number | undefined };
}

/** The database's state over time, for judging each outcome. */
interface Outage {
  /** When the stop was asked for and when the postmaster had exited. */
  stopAsked: number;
  stopped: number;
  /** When the start was asked for and when it accepted connections again. */
  startAsked: number;
  started: number;
}

async function timed<T>(loop: string, outcomes: Outcome[], call: () => Promise<T>): Promise<T | undefined> {
  const startedAt = Date.now();
  try {
    const r = await call();
    outcomes.push({ loop, startedAt, took: Date.now() - startedAt });
    return r;
  } catch (e) {
    const err = e as Error & { $metadata?: { httpStatusCode?: number } };
    outcomes.push({ loop, startedAt, took: Date.now() - startedAt, error: { name: err.name, message: err.message, status: err.$metadata?.httpStatusCode } });
    return undefined;
  }
}

test('PostgreSQL restarted twice under load: 503 DependencyTimeoutException within 2 s while down, then success without restarting Keyhold; nothing acknowledged is lost', { timeout: 300_000 }, async (t) => {
  const c = pg();
  const database = await c.createDatabase();
  server = await startServer({
    workers: 2,
    args: ['--store', c.url(database), '--store-password-file', c.passwordFile],
    env: { KEYHOLD_MASTER_PASSPHRASE: PASSPHRASE, PGPASSWORD: '', PGPASSFILE: '/nonexistent' },
  });
  const s = server;
  const pid = s.process.pid;
  const clients: KMSClient[] = [];
  const client = (): KMSClient => {
    const k = s.client();
    clients.push(k);
    return k;
  };
  const setup = client();
  const keyIds: string[] = [];
  for (let i = 0; i < 2; i++) keyIds.push((await setup.send(new CreateKeyCommand({ Description: `restart load ${i}` }))).KeyMetadata?.KeyId as string);

  const outcomes: Outcome[] = [];
  const acknowledged: { blob: Uint8Array; plaintext: Buffer }[] = [];
  const createdKeys: string[] = [];
  let running = true;
  const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

  const encryptLoop = async (name: string): Promise<void> => {
    const k = client();
    for (let i = 0; running; i++) {
      const plaintext = randomBytes(32);
      const keyId = keyIds[i % keyIds.length] as string;
      const r = await timed(name, outcomes, () => k.send(new EncryptCommand({ KeyId: keyId, Plaintext: plaintext })));
      if (r !== undefined) acknowledged.push({ blob: r.CiphertextBlob as Uint8Array, plaintext });
      await pause(10);
    }
  };
  const createLoop = async (): Promise<void> => {
    const k = client();
    while (running) {
      const r = await timed('create', outcomes, () => k.send(new CreateKeyCommand({ Description: 'created under restart load' })));
      if (r !== undefined) createdKeys.push(r.KeyMetadata?.KeyId as string);
      await pause(150);
    }
  };
  const loops = [encryptLoop('encrypt-1'), encryptLoop('encrypt-2'), encryptLoop('encrypt-3'), createLoop()];
  const loopNames = ['encrypt-1', 'encrypt-2', 'encrypt-3', 'create'];

  /** Resolves once every loop has succeeded at least `n` times since `since`; fails after RECOVERY_BOUND_MS. */
  const allSucceedAgain = async (since: number, n: number): Promise<number> => {
    for (;;) {
      const ok = loopNames.every((l) => outcomes.filter((o) => o.loop === l && o.startedAt >= since && o.error === undefined).length >= n);
      if (ok) return Date.now() - since;
      assert.ok(Date.now() - since < RECOVERY_BOUND_MS, `every loop succeeded again within ${RECOVERY_BOUND_MS} ms of the database's return`);
      await pause(50);
    }
  };

  const outages: Outage[] = [];
  try {
    await allSucceedAgain(Date.now(), 3);
    for (const mode of ['fast', 'immediate'] as StopMode[]) {
      await pause(1500);
      const o: Outage = { stopAsked: Date.now(), stopped: 0, startAsked: 0, started: 0 };
      await c.stop(mode);
      o.stopped = Date.now();
      await pause(DOWN_FOR_MS);
      o.startAsked = Date.now();
      await c.start();
      o.started = Date.now();
      outages.push(o);
      const recovered = await allSucceedAgain(o.started, 3);
      t.diagnostic(`${mode} stop: down ${o.startAsked - o.stopped} ms; every loop succeeding again ${recovered} ms after the database accepted connections`);
      assert.equal(s.process.exitCode, null, 'the same Keyhold process serves throughout');
      assert.equal(s.process.pid, pid);
    }
    await pause(1000);
  } finally {
    running = false;
    await Promise.all(loops);
  }

  // Every request of the run: answered within 2 s; a success or an AWS-shaped 503.
  const failed = outcomes.filter((o) => o.error !== undefined);
  for (const o of outcomes) {
    assert.ok(o.took < ANSWER_BOUND_MS, `${o.loop} request started at +${o.startedAt - (outages[0]?.stopAsked ?? 0)} ms answered in ${o.took} ms`);
    if (o.error === undefined) continue;
    assert.deepEqual({ ...o.error, message: undefined }, { name: 'DependencyTimeoutException', message: undefined, status: 503 }, `${o.loop} request at ${o.startedAt}`);
    assert.ok(OUTAGE_MESSAGES.includes(o.error.message), `${o.loop} request at ${o.startedAt}: ${o.error.message}`);
  }
  for (const out of outages) {
    // Well into each outage, nothing is served from caches: every request is refused.
    const deep = outcomes.filter((o) => o.startedAt >= out.stopped + ALL_REFUSED_AFTER_MS && o.startedAt + o.took <= out.startAsked);
    assert.ok(deep.length >= 8, `requests were made while the database was down (${deep.length})`);
    for (const o of deep) assert.equal(o.error?.name, 'DependencyTimeoutException', `${o.loop} request ${o.startedAt - out.stopped} ms into the outage`);
  }
  // 503s only around an outage: from its stop request until the database was back (plus recovery).
  const unexplained = failed.filter((o) => !outages.some((out) => o.startedAt + o.took >= out.stopAsked && o.startedAt <= out.started + RECOVERY_BOUND_MS));
  assert.deepEqual(unexplained, [], 'no request failed while the database was up');
  t.diagnostic(`${outcomes.length} requests: ${outcomes.length - failed.length} succeeded, ${failed.length} answered 503; slowest answer ${Math.max(...outcomes.map((o) => o.took))} ms`);

  // Nothing acknowledged was lost.
  const check = client();
  for (const a of acknowledged) {
    const d = await check.send(new DecryptCommand({ CiphertextBlob: a.blob }));
    assert.deepEqual(Buffer.from(d.Plaintext as Uint8Array), a.plaintext);
  }
  for (const keyId of createdKeys) assert.equal((await check.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState, 'Enabled');
  t.diagnostic(`${acknowledged.length} acknowledged ciphertexts decrypted, ${createdKeys.length} acknowledged keys present`);
  for (const k of clients) k.destroy();
  await stopAndRemove(server);
  server = undefined;
});
