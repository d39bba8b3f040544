/**
 * Group commit of the SQLite transaction runner (src/store/sqlite/transaction-runner.ts): the
 * transactions queued while the write connection is busy commit together, each in its own
 * savepoint, with the semantics of one transaction each — in order, each seeing the ones before
 * it, a failing one rolled back alone, every caller resumed after the COMMIT that holds its writes.
 * Real better-sqlite3 on a temporary file; COMMITs counted on the connection.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { MAX_BATCH, SqliteTransactionRunner, WRITE_BUSY_TIMEOUT_MS } from '../../src/store/sqlite/transaction-runner';
import { removeDir, tempDir } from '../helpers/server';

const dir = tempDir();
after(() => removeDir(dir));

let files = 0;
/** A fresh database with one table, a runner on it, and a count of its COMMITs and of the notices after them. */
function fixture(): { db: Database.Database; runner: SqliteTransactionRunner; commits: () => number; notices: () => number; rows: () => number[] } {
  const db = new Database(join(dir, `t${files++}.db`), { timeout: WRITE_BUSY_TIMEOUT_MS });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE t (n INTEGER PRIMARY KEY)');
  let commits = 0;
  let notices = 0;
  const counted = {
    exec(sql: string): void {
      if (sql === 'COMMIT') commits++;
      db.exec(sql);
    },
    get inTransaction(): boolean {
      return db.inTransaction;
    },
  };
  const runner = new SqliteTransactionRunner(counted, 10_000, () => notices++);
  const rows = (): number[] => (db.prepare('SELECT n FROM t ORDER BY n').pluck().all() as number[]);
  return { db, runner, commits: () => commits, notices: () => notices, rows };
}

test('transactions queued together commit once, in call order, each seeing the writes before it', async () => {
  const { db, runner, commits, notices, rows } = fixture();
  const seen: number[] = [];
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      runner.run(async () => {
        seen.push((db.prepare('SELECT COUNT(*) FROM t').pluck().get() as number));
        await Promise.resolve();
        db.prepare('INSERT INTO t (n) VALUES (?)').run(i);
        return i * 10;
      }),
    ),
  );
  assert.deepEqual(results, Array.from({ length: 20 }, (_, i) => i * 10));
  assert.deepEqual(seen, Array.from({ length: 20 }, (_, i) => i), 'each ran after the ones before it, and saw their rows');
  assert.deepEqual(rows(), Array.from({ length: 20 }, (_, i) => i));
  assert.equal(commits(), 1, 'one COMMIT for the twenty');
  assert.equal(notices(), 1, 'one change notice, after it');
  db.close();
});

test('a transaction that throws is rolled back alone; the others in its batch commit', async () => {
  const { db, runner, commits, rows } = fixture();
  const outcomes = await Promise.allSettled(
    [1, 2, 3, 4].map((n) =>
      runner.run(() => {
        db.prepare('INSERT INTO t (n) VALUES (?)').run(n);
        db.prepare('INSERT INTO t (n) VALUES (?)').run(n + 100);
        if (n === 2) throw new Error('refused');
        return n;
      }),
    ),
  );
  assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
  assert.equal((outcomes[1] as PromiseRejectedResult).reason.message, 'refused');
  assert.deepEqual(rows(), [1, 3, 4, 101, 103, 104], 'both writes of the refused one undone, every other kept');
  assert.equal(commits(), 1);
  db.close();
});

test('callers resume only once their batch is committed', async () => {
  const { db, runner } = fixture();
  const reader = new Database(db.name, { readonly: true });
  const visible: number[] = [];
  await Promise.all(
    [1, 2, 3].map((n) =>
      runner.run(() => db.prepare('INSERT INTO t (n) VALUES (?)').run(n)).then(() => {
        visible.push(reader.prepare('SELECT COUNT(*) FROM t').pluck().get() as number);
      }),
    ),
  );
  assert.deepEqual(visible, [3, 3, 3], 'another connection sees all three when the first caller resumes');
  reader.close();
  db.close();
});

test('at most MAX_BATCH transactions share a commit; later arrivals form the next batch', async () => {
  const { db, runner, commits, rows } = fixture();
  const n = MAX_BATCH * 2 + 5;
  await Promise.all(Array.from({ length: n }, (_, i) => runner.run(() => db.prepare('INSERT INTO t (n) VALUES (?)').run(i))));
  assert.equal(rows().length, n);
  assert.equal(commits(), 3);
  db.close();
});

test('when SQLite abandons the transaction under one callback, it fails alone and the others run again and commit', async () => {
  const { db, runner, rows } = fixture();
  const runs = new Map<number, number>();
  const outcomes = await Promise.allSettled(
    [1, 2, 3].map((n) =>
      runner.run(() => {
        runs.set(n, (runs.get(n) ?? 0) + 1);
        db.prepare('INSERT INTO t (n) VALUES (?)').run(n);
        if (n === 2) {
          // What SQLite does by itself on an I/O error or a full disk: the whole transaction rolled back.
          db.exec('ROLLBACK');
          throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' });
        }
        return n;
      }),
    ),
  );
  assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled']);
  assert.equal((outcomes[1] as PromiseRejectedResult).reason.code, 'SQLITE_IOERR');
  assert.deepEqual(rows(), [1, 3], 'the first ran again (its first run was lost with the transaction)');
  assert.deepEqual([...runs.entries()].sort(), [[1, 2], [2, 1], [3, 1]]);
  db.close();
});

test('a batch waits while another connection holds the write lock, then commits', async () => {
  const { db, runner, rows } = fixture();
  const other = new Database(db.name);
  other.exec('BEGIN IMMEDIATE');
  other.exec('INSERT INTO t (n) VALUES (1000)');
  const pending = Promise.all([1, 2].map((n) => runner.run(() => db.prepare('INSERT INTO t (n) VALUES (?)').run(n))));
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(rows(), [], 'nothing of either committed while the lock is held');
  other.exec('COMMIT');
  await pending;
  assert.deepEqual(rows(), [1, 2, 1000]);
  other.close();
  db.close();
});

test('when the notice after a commit fails, the callers of that batch get its error and the runner goes on', async () => {
  const db = new Database(join(dir, `t${files++}.db`), { timeout: WRITE_BUSY_TIMEOUT_MS });
  db.exec('CREATE TABLE t (n INTEGER PRIMARY KEY)');
  let fail = true;
  const runner = new SqliteTransactionRunner(db, 10_000, () => {
    if (fail) {
      fail = false;
      throw new Error('notice failed');
    }
  });
  const first = await Promise.allSettled([1, 2].map((n) => runner.run(() => db.prepare('INSERT INTO t (n) VALUES (?)').run(n))));
  assert.deepEqual(first.map((o) => o.status === 'rejected' && (o.reason as Error).message), ['notice failed', 'notice failed']);
  await runner.run(() => db.prepare('INSERT INTO t (n) VALUES (3)').run());
  assert.deepEqual(db.prepare('SELECT n FROM t ORDER BY n').pluck().all(), [1, 2, 3], 'the batch was committed; the next one runs');
  db.close();
});
