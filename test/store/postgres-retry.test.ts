/**
 * The one retry of PostgreSQL conflicts (src/store/postgres/transaction-runner.ts
 * `retryConflicts`), which the Store's runner and the identity store's transactions share, on a
 * real deadlock: two transactions lock two rows in opposite orders, PostgreSQL aborts one of them
 * with 40P01, and that one runs again and commits. Errors that are not conflicts are not retried.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Tx } from '../../src/store/postgres/connection';
import { retryConflicts } from '../../src/store/postgres/transaction-runner';
import { openTestPool, usePostgres } from '../helpers/postgres';

const pg = usePostgres();

test('a deadlock aborts one of two transactions (40P01); retryConflicts runs it again and both commit', { timeout: 120_000 }, async () => {
  const database = await pg().createDatabase();
  const pool = openTestPool(pg(), database, { max: 4 });
  try {
    await pool.query('CREATE TABLE counters (id TEXT PRIMARY KEY, n INTEGER NOT NULL)');
    await pool.query("INSERT INTO counters VALUES ('a', 0), ('b', 0)");
    // Each transaction's first attempt locks its first row, then waits until the other has
    // locked its own, so the second locks cross: a deadlock, whatever the scheduling.
    let arrive!: () => void;
    let arrivals = 0;
    const bothLocked = new Promise<void>((resolve) => (arrive = () => (++arrivals === 2 ? resolve() : undefined)));
    const attempts = { ab: 0, ba: 0 };
    const failures: string[] = [];
    const crossing = (name: 'ab' | 'ba', first: string, second: string) =>
      retryConflicts(() =>
        pool.transaction(async (tx: Tx) => {
          attempts[name] += 1;
          await tx.query('UPDATE counters SET n = n + 1 WHERE id = $1', [first]);
          if (attempts[name] === 1) {
            arrive();
            await bothLocked;
          }
          try {
            await tx.query('UPDATE counters SET n = n + 1 WHERE id = $1', [second]);
          } catch (e) {
            failures.push((e as { code?: string }).code ?? String(e));
            throw e;
          }
        }),
      );
    await Promise.all([crossing('ab', 'a', 'b'), crossing('ba', 'b', 'a')]);
    assert.deepEqual(failures, ['40P01'], 'PostgreSQL aborted exactly one of the two');
    assert.equal(attempts.ab + attempts.ba, 3, 'the aborted one ran once more');
    // Both committed once each: every row counted twice.
    assert.deepEqual(await pool.query('SELECT id, n FROM counters ORDER BY id'), [{ id: 'a', n: 2 }, { id: 'b', n: 2 }]);
  } finally {
    await pool.close();
  }
});

test('retryConflicts does not run again what failed for another reason (a unique violation, 23505)', { timeout: 120_000 }, async () => {
  const database = await pg().createDatabase();
  const pool = openTestPool(pg(), database);
  try {
    await pool.query('CREATE TABLE names (name TEXT PRIMARY KEY)');
    await pool.query("INSERT INTO names VALUES ('taken')");
    let attempts = 0;
    await assert.rejects(
      retryConflicts(() =>
        pool.transaction(async (tx) => {
          attempts += 1;
          await tx.query("INSERT INTO names VALUES ('taken')");
        }),
      ),
      { code: '23505' },
    );
    assert.equal(attempts, 1);
  } finally {
    await pool.close();
  }
});
