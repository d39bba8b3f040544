/**
 * The writer's group commit (src/audit/writer.ts over src/store/audit-group-commit.ts): the
 * records one event-loop turn submits leave in one commit, records arriving while a commit is in
 * flight gather into the next one, and nothing waits for requests still being handled
 * (`expect`/`settle` are hints the writer ignores: a timer that held batches for them cost every
 * commit cycle its delay, issue 11).
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
  let writer: AuditWriter;

  before(() => {
    dir = join(tempDir('keyhold-writer-'), 'audit');
    const store = new SqliteAuditStore({ dir });
    store.initialize(() => randomUUID());
    store.close();
    writer = new AuditWriter({ threadScript: THREAD, dir, stream: 0, logger: quiet });
  });

  after(async () => {
    await writer.close();
    removeDir(join(dir, '..'));
  });

  test('the records of one turn leave in one commit', async () => {
    const before = writer.stats();
    await Promise.all([writer.append(record()), writer.append(record()), writer.append(record())]);
    assert.deepEqual(writer.stats(), { commits: before.commits + 1, records: before.records + 3 });
  });

  test('records arriving while a commit is in flight gather into the next commit', async () => {
    const before = writer.stats();
    const first = writer.append(record());
    // The batch leaves at the end of this turn; its answer needs the thread's message, which
    // cannot arrive before the next poll phase: the records below come while it is in flight.
    await turn();
    const more = [writer.append(record()), writer.append(record()), writer.append(record())];
    await Promise.all([first, ...more]);
    assert.deepEqual(writer.stats(), { commits: before.commits + 2, records: before.records + 4 });
  });

  test('requests still being handled do not hold a batch', async () => {
    const before = writer.stats();
    writer.expect();
    writer.expect();
    await writer.append(record());
    await writer.intend({ id: randomUUID(), owner: process.pid, createdAt: Date.now(), event: record('CreateKey') });
    assert.deepEqual(writer.stats(), { commits: before.commits + 2, records: before.records + 2 });
    writer.settle();
    writer.settle();
  });
});
