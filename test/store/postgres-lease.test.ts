/**
 * The lifecycle lease in PostgreSQL (issue 14) against a real, throwaway cluster: one holder at a
 * time, renewal by heartbeat, takeover once the holder stops heartbeating and its expiry passes,
 * a holder cut off from the database stops acting by its own clock. Time is a ManualClock: no
 * test waits for an expiry.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../src/clock';
import { leasedJob } from '../../src/lifecycle/leased-job';
import type { PostgresPool } from '../../src/store/postgres/connection';
import { DEFAULT_HEARTBEAT_MS, DEFAULT_LEASE_TTL_MS, PostgresLease } from '../../src/store/postgres/lease';
import { migrate } from '../../src/store/postgres/migrate';
import { openTestPool, usePostgres } from '../helpers/postgres';

const pg = usePostgres();
const TTL = 5_000;

function openPool(database: string, realTimeouts = false): PostgresPool {
  return openTestPool(pg(), database, { realTimeouts });
}

test('the default expiry and heartbeat let another node take over within 60 s', () => {
  assert.ok(DEFAULT_LEASE_TTL_MS + DEFAULT_HEARTBEAT_MS <= 60_000);
  assert.ok(DEFAULT_HEARTBEAT_MS * 3 <= DEFAULT_LEASE_TTL_MS, 'two missed heartbeats do not lose the lease');
});

test('two holders: one at a time; renewed by heartbeat; taken over once the holder stops heartbeating', { timeout: 60_000 }, async () => {
  const db = await pg().createDatabase();
  const pool = openPool(db);
  try {
    await migrate(pool);
    const clock = new ManualClock(Date.UTC(2026, 11, 6, 12));
    const a = new PostgresLease({ pool, name: 'lifecycle', holder: 'node-a:1', clock, ttlMs: TTL });
    const b = new PostgresLease({ pool, name: 'lifecycle', holder: 'node-b:1', clock, ttlMs: TTL });
    assert.equal(await a.heartbeat(), true);
    assert.equal(a.held(), true);
    assert.equal(a.epoch(), 1);
    assert.equal(await b.heartbeat(), false);
    assert.equal(b.held(), false);
    assert.equal(b.epoch(), undefined);
    // A keeps heartbeating well past the first expiry; B never gets it.
    for (let i = 0; i < 5; i++) {
      clock.advance(TTL / 2);
      assert.equal(await a.heartbeat(), true);
      assert.equal(await b.heartbeat(), false);
    }
    assert.equal(a.epoch(), 1);
    // A stops heartbeating (its host hangs). Just before the expiry it still holds it.
    clock.advance(TTL - 1);
    assert.equal(await b.heartbeat(), false);
    assert.equal(a.held(), true);
    clock.advance(1);
    assert.equal(a.held(), false, 'the holder stops acting at its expiry by its own clock');
    assert.equal(await b.heartbeat(), true);
    assert.equal(b.epoch(), 2, 'the epoch (fencing token) moves with the lease');
    // A comes back: it has lost the lease and does not get it back while B heartbeats.
    assert.equal(await a.heartbeat(), false);
    assert.equal(a.held(), false);
    const [row] = await pool.query<{ holder: string; epoch: string; acquired_at: string }>('SELECT holder, epoch, acquired_at FROM leases WHERE name = $1', ['lifecycle']);
    assert.deepEqual(row, { holder: 'node-b:1', epoch: '2', acquired_at: String(clock.now()) });
    // B shuts down cleanly: A takes over at once, without waiting for the expiry.
    await b.release();
    assert.equal(b.held(), false);
    assert.equal(await a.heartbeat(), true);
    assert.equal(a.epoch(), 3);
    // Another lease name is independent.
    const other = new PostgresLease({ pool, name: 'digests', holder: 'node-b:1', clock, ttlMs: TTL });
    assert.equal(await other.heartbeat(), true);
  } finally {
    await pool.close();
  }
});

test('many nodes racing for a free, then an expired lease: exactly one wins each time', { timeout: 60_000 }, async () => {
  const db = await pg().createDatabase();
  const pools = [openPool(db), openPool(db), openPool(db)];
  try {
    await migrate(pools[0]!);
    const clock = new ManualClock(Date.UTC(2026, 11, 6, 12));
    const leases = Array.from({ length: 12 }, (_, i) => new PostgresLease({ pool: pools[i % 3]!, name: 'lifecycle', holder: `node-${i}`, clock, ttlMs: TTL }));
    const first = await Promise.all(leases.map((l) => l.heartbeat()));
    assert.equal(first.filter(Boolean).length, 1);
    clock.advance(TTL);
    const second = await Promise.all(leases.map((l) => l.heartbeat()));
    assert.equal(second.filter(Boolean).length, 1);
    assert.equal(leases.filter((l) => l.held()).length, 1);
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
});

test('a holder that cannot reach the database stops acting at its expiry; a leased job runs only on the holder', { timeout: 60_000 }, async () => {
  const db = await pg().createDatabase();
  const pool = openPool(db); // a stopped database refuses at once: no timeout involved
  try {
    await migrate(pool);
    const clock = new ManualClock(Date.UTC(2026, 11, 6, 12));
    const a = new PostgresLease({ pool, name: 'lifecycle', holder: 'node-a', clock, ttlMs: TTL });
    const b = new PostgresLease({ pool, name: 'lifecycle', holder: 'node-b', clock, ttlMs: TTL });
    let runs = 0;
    const job = { name: 'deletion', runOnce: async () => ++runs };
    const onA = leasedJob(job, a);
    const onB = leasedJob(job, b);
    assert.equal(await a.heartbeat(), true);
    assert.equal(await b.heartbeat(), false);
    assert.equal(await onA.runOnce(clock.now()), 1);
    assert.equal(await onB.runOnce(clock.now()), 0);
    assert.equal(runs, 1);
    await pg().stop('fast');
    try {
      clock.advance(TTL / 2);
      assert.equal(await a.heartbeat(), true, 'still within its expiry: keeps acting');
      clock.advance(TTL / 2);
      assert.equal(await a.heartbeat(), false, 'expired and not renewed: stops');
      assert.equal(await onA.runOnce(clock.now()), 0);
    } finally {
      await pg().start();
    }
    // Right after the restart a heartbeat may still fail (it then says false): try again, on the same clock.
    let got = false;
    for (let i = 0; i < 300 && !got; i++) {
      got = await b.heartbeat();
      if (!got) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(got, true);
    assert.equal(await onB.runOnce(clock.now()), 2);
  } finally {
    await pool.close();
  }
});
