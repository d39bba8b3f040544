/**
 * Fail closed (docs/architecture.md §1 promise 2, issue 11): while the trail cannot be written no request is
 * answered with success. Every request gets 503 DependencyTimeoutException (which the AWS SDKs
 * retry) and nothing is done: reads withhold their result, mutating requests never run (their
 * intent could not be written), and once the writer knows it is failing they are refused at
 * once. The requests answered without their own record are counted, and one operator record
 * (KeyholdAuditUnavailable) says how many once the trail writes again; the trail then verifies.
 *
 * Three ways to break the disk: another process holding the stream's write lock past the busy
 * timeout, a file-size limit on the server process (`prlimit --fsize`: every write beyond it
 * fails with EFBIG, as on a full disk), and an injected fsync failure (the failFile test hook).
 *
 * The journal is the durability point and is preallocated (issue 11): a locked or full SQLite
 * file does not stop records from being made durable until the journal is full and SQLite must
 * take its frames before it can start over. The lock test therefore runs with a small journal
 * (the journalBytes test hook) and first checks that requests are still answered — each
 * with its record — while SQLite cannot be written, then that the full journal fails closed.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { CreateKeyCommand, EncryptCommand, ListKeysCommand, type KMSClient } from '@aws-sdk/client-kms';
import { removeDir, startServer, tempDir, type TestServer } from '../helpers/server';
import { assertRecovers, keyhold, trailRecords } from './helpers';

interface Refused {
  readonly requestId: string;
}

function expect503(r: PromiseSettledResult<unknown>, what: string, refused: Refused[]): void {
  assert.equal(r.status, 'rejected', `${what} must not succeed`);
  const e = (r as PromiseRejectedResult).reason;
  assert.equal(e.name, 'DependencyTimeoutException', `${what}: ${e.name} ${e.message}`);
  assert.equal(e.message, 'The audit trail cannot be written; the request was not processed. Retry later.');
  assert.equal(e.$metadata.httpStatusCode, 503);
  refused.push({ requestId: e.$metadata.requestId });
}

/**
 * Breaks the trail with `breakIt`, checks every answer, heals it with `heal`, and checks that
 * the server recovers by itself, that nothing changed, that every refused request is either
 * recorded or counted in the summary record, and that the trail verifies.
 */
async function scenario(server: TestServer, breakIt: () => void, heal: () => void, untilJournalFull = false): Promise<void> {
  const kms: KMSClient = server.client();
  const refused: Refused[] = [];
  /** Requests answered while SQLite could not be written (the journal took their records). */
  const answeredDuring: string[] = [];
  try {
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    await kms.send(new EncryptCommand({ KeyId: key, Plaintext: Buffer.from('before') }));
    breakIt();
    let healed = false;
    try {
      if (untilJournalFull) {
        // SQLite cannot be written, the journal still can: answered, until it is full.
        let refusedEnc: PromiseSettledResult<unknown> | undefined;
        for (let i = 0; i < 2000 && refusedEnc === undefined; i++) {
          const [r] = await Promise.allSettled([kms.send(new EncryptCommand({ KeyId: key, Plaintext: Buffer.from('during') }))]);
          if (r!.status === 'fulfilled') answeredDuring.push((r!.value as { $metadata: { requestId: string } }).$metadata.requestId);
          else refusedEnc = r;
        }
        assert.ok(answeredDuring.length >= 1, 'the journal answers for SQLite while it has room');
        expect503(refusedEnc!, 'Encrypt once the journal is full', refused);
        const [create] = await Promise.allSettled([kms.send(new CreateKeyCommand({ Description: 'must not exist' }))]);
        expect503(create!, 'CreateKey', refused);
      } else {
        const [enc, create] = await Promise.allSettled([
          kms.send(new EncryptCommand({ KeyId: key, Plaintext: Buffer.from('during') })),
          kms.send(new CreateKeyCommand({ Description: 'must not exist' })),
        ]);
        expect503(enc, 'Encrypt', refused);
        expect503(create, 'CreateKey', refused);
      }
      // The writer now knows it is failing: mutating requests are refused before they run.
      const started = Date.now();
      const [again] = await Promise.allSettled([kms.send(new CreateKeyCommand({ Description: 'must not exist either' }))]);
      expect503(again!, 'CreateKey while failing', refused);
      assert.ok(Date.now() - started < 2000, 'refused up front, without waiting for the disk');
      heal();
      healed = true;
    } finally {
      if (!healed) heal();
    }
    // A probe finds the trail writable again within about a second.
    await assertRecovers(kms, key);
    const keys = await kms.send(new ListKeysCommand({}));
    assert.deepEqual(keys.Keys!.map((k) => k.KeyId), [key], 'no key was created while the trail was failing');
  } finally {
    kms.destroy();
    assert.equal(await server.stop(), 0, server.output());
  }
  try {
    const records = trailRecords(server.dataDir);
    const ids = new Set(refused.map((r) => r.requestId));
    const ownRecords = records.filter((r) => ids.has(r.requestID) && r.eventType === 'AwsApiCall' && r.errorCode === 'DependencyTimeoutException');
    // A refused request may still have its record (it landed after the disk came back); no other record of it exists.
    assert.equal(records.filter((r) => ids.has(r.requestID)).length, ownRecords.length, 'refused requests have no record claiming success');
    const summaries = records.filter((r) => r.eventName === 'KeyholdAuditUnavailable');
    const counted = summaries.reduce((n, r) => n + (r.additionalEventData.refusedRequests as number), 0);
    assert.ok(summaries.length >= 1, 'a summary record of the refusals');
    for (const s of summaries) {
      assert.equal(s.eventSource, 'keyhold.internal');
      assert.equal(s.recipientAccountId, null, 'in the operator trail, not a tenant\'s');
      assert.equal(s.awsRegion, server.region, 'the Region of the refused requests');
    }
    assert.equal(counted + new Set(ownRecords.map((r) => r.requestID)).size, refused.length, 'every refused request is recorded or counted, once');
    for (const id of answeredDuring) {
      assert.equal(records.filter((r) => r.requestID === id && r.eventName === 'Encrypt' && r.errorCode === undefined).length, 1, `answered ${id} has its record`);
    }
    const verify = await keyhold(['audit', 'verify', '--data-dir', server.dataDir]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  } finally {
    removeDir(server.dataDir);
  }
}

/** A journal of 64 KiB: a few dozen records of the scenario fill it. */
const SMALL_JOURNAL = { journalBytes: 64 * 1024 };

test('fail closed: another process holds the trail\'s write lock', { timeout: 120_000 }, async () => {
  const server = await startServer({ auditTestHooks: SMALL_JOURNAL });
  let blocker: Database.Database | undefined;
  await scenario(
    server,
    () => {
      blocker = new Database(join(server.dataDir, 'audit', 'stream-0.db'));
      blocker.pragma('busy_timeout = 10000');
      blocker.exec('BEGIN EXCLUSIVE');
    },
    () => {
      blocker?.exec('ROLLBACK');
      blocker?.close();
      blocker = undefined;
    },
    true,
  );
});

test('fail closed: the disk is full (prlimit --fsize on the server)', { timeout: 120_000 }, async () => {
  // Linux checks RLIMIT_FSIZE against the write's offset, not the file's size: the preallocated
  // journal fails at once too, so no small journal is needed here.
  const server = await startServer();
  const pid = String(server.process.pid);
  await scenario(
    server,
    // Soft limit of one byte: every write that would extend a file past it fails with EFBIG.
    () => execFileSync('prlimit', ['--pid', pid, '--fsize=1:unlimited']),
    () => execFileSync('prlimit', ['--pid', pid, '--fsize=unlimited:unlimited']),
  );
});

test('fail closed: fsync fails (injected)', { timeout: 120_000 }, async () => {
  const flagDir = tempDir('keyhold-fail-');
  const flag = join(flagDir, 'fail');
  const server = await startServer({ auditTestHooks: { failFile: flag } });
  try {
    await scenario(
      server,
      () => writeFileSync(flag, ''),
      () => rmSync(flag, { force: true }),
    );
  } finally {
    removeDir(flagDir);
  }
});
