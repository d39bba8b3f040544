/**
 * The writer's group commit (src/audit/writer.ts): a ready batch waits while requests being
 * handled have not submitted their records, so one commit carries them all; it leaves at once
 * when the last of them settles, when an intent is waiting, and after COMMIT_DELAY_MS when a
 * request never settles.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AuditWriter } from '../../src/audit/writer';
import type { AuditAppend } from '../../src/store/audit-log';
import { SqliteAuditStore } from '../../src/store/sqlite/audit-log-sqlite';
import { REPO_ROOT, removeDir, tempDir } from '../helpers/server';
import { apiCallFixture } from './helpers';

const THREAD = join(REPO_ROOT, 'dist', 'src', 'cli', 'audit-writer-thread.js');
const ACCOUNT = '111122223333';
const quiet = { error: () => undefined, warn: () => undefined };

function record(name = 'Encrypt'): AuditAppend {
  return apiCallFixture(ACCOUNT, Date.now(), name);
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('audit writer group commit', () => {
  let dir: string;
  /** Holds a batch for up to a minute: only a settle or an intent can send it in a test's time. */
  let writer: AuditWriter;
  /** Holds a batch for 20 ms at most. */
  let brief: AuditWriter;

  before(() => {
    dir = join(tempDir('keyhold-writer-'), 'audit');
    const store = new SqliteAuditStore({ dir });
    store.initialize(() => randomUUID());
    store.close();
    writer = new AuditWriter({ threadScript: THREAD, dir, stream: 0, logger: quiet, commitDelayMs: 60_000 });
    brief = new AuditWriter({ threadScript: THREAD, dir, stream: 1, logger: quiet, commitDelayMs: 20 });
  });

  after(async () => {
    await writer.close();
    await brief.close();
    removeDir(join(dir, '..'));
  });

  test('a batch waits for the requests being handled, then one commit carries all their records', async () => {
    const before = writer.stats();
    writer.expect();
    writer.expect();
    writer.expect();
    writer.settle();
    const first = writer.append(record());
    for (let i = 0; i < 5; i++) await turn();
    assert.deepEqual(writer.stats(), before, 'nothing committed while two requests are still being handled');
    writer.settle();
    const second = writer.append(record());
    writer.settle();
    const third = writer.append(record());
    await Promise.all([first, second, third]);
    assert.deepEqual(writer.stats(), { commits: before.commits + 1, records: before.records + 3 });
  });

  test('a request that never settles holds a batch for the commit delay only', async () => {
    const before = brief.stats();
    brief.expect();
    const started = performance.now();
    await brief.append(record());
    const waited = performance.now() - started;
    assert.ok(waited >= 15 && waited < 30_000, `the batch left on its 20 ms timer (${waited.toFixed(1)} ms)`);
    assert.deepEqual(brief.stats(), { commits: before.commits + 1, records: before.records + 1 });
    brief.settle();
  });

  test('an intent does not wait: a mutating request is blocked on it', async () => {
    const before = writer.stats();
    writer.expect();
    writer.expect();
    const started = performance.now();
    await writer.intend({ id: randomUUID(), owner: process.pid, createdAt: Date.now(), event: record('CreateKey') });
    assert.ok(performance.now() - started < 30_000, 'sent at once, not after the commit delay');
    assert.equal(writer.stats().commits, before.commits + 1);
    writer.settle();
    writer.settle();
  });
});
