/**
 * The deletion scheduler on an injected clock: a key pending deletion disappears once its window
 * ends — not before — and a server started on the same data directory then reports it missing.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { CreateKeyCommand, DescribeKeyCommand, EncryptCommand, ScheduleKeyDeletionCommand, DecryptCommand } from '@aws-sdk/client-kms';
import { ManualClock } from '../../src/clock';
import { deletionJob } from '../../src/lifecycle/deletion-job';
import { Scheduler } from '../../src/lifecycle/scheduler';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import { removeDir, startServer } from '../helpers/server';

const DAY = 86_400_000;
const quiet = { info: () => undefined, error: () => undefined };

test('ScheduleKeyDeletion: the key really disappears when its window ends', async () => {
  const server = await startServer();
  try {
    const kms = server.client();
    const doomed = await kms.send(new CreateKeyCommand({}));
    const kept = await kms.send(new CreateKeyCommand({}));
    const ct = await kms.send(new EncryptCommand({ KeyId: doomed.KeyMetadata!.KeyId, Plaintext: Buffer.from('gone') }));
    const sched = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: doomed.KeyMetadata!.KeyId, PendingWindowInDays: 7 }));
    const deletionDate = sched.DeletionDate!.getTime();
    assert.ok(Math.abs(deletionDate - (Date.now() + 7 * DAY)) < 60_000);

    // The scheduler of the running server uses the wall clock; this one runs on a clock we move.
    const store = new SqliteStore({ path: join(server.dataDir, 'keyhold.db') });
    const clock = new ManualClock(deletionDate - 1);
    const scheduler = new Scheduler([deletionJob(store, quiet)], clock, quiet, 1000);
    assert.equal(await scheduler.runOnce(), 0, 'nothing is due a millisecond early');
    clock.set(deletionDate + 30 * DAY); // catching up after downtime
    assert.equal(await scheduler.runOnce(), 1);
    assert.equal(await scheduler.runOnce(), 0);
    await store.close();

    const arn = doomed.KeyMetadata!.Arn!;
    await assert.rejects(kms.send(new DescribeKeyCommand({ KeyId: doomed.KeyMetadata!.KeyId })), (e: Error) => {
      assert.equal(e.name, 'NotFoundException');
      assert.equal(e.message, `Key '${arn}' does not exist`);
      return true;
    });
    await assert.rejects(kms.send(new DecryptCommand({ CiphertextBlob: ct.CiphertextBlob })), (e: Error) => e.name === 'AccessDeniedException');
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: kept.KeyMetadata!.KeyId }))).KeyMetadata!.KeyState, 'Enabled');
    kms.destroy();
  } finally {
    await server.stop();
    removeDir(server.dataDir);
  }
});
