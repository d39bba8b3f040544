/**
 * The group-commit front shared by the audit sinks (src/store/audit-group-commit.ts): one commit
 * in flight, later records gathered into the next, a cap on one commit's records that never
 * splits the records of one synchronous run (a cross-account call's copies), failure orphaning
 * the intents a failed batch completed, and refusals summarised once writing works again. The
 * adapter's commit is a function here: these are the front's own rules; the adapters' wire
 * tests (writer.test.ts, fail-closed.test.ts, test/store/postgres-audit.test.ts) drive real disks
 * and databases.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GroupCommit, type CommitBatch, type RefusalSummary } from '../../src/store/audit-group-commit';
import type { AuditAppend } from '../../src/store/audit-log';
import { apiCallFixture } from './helpers';

const quiet = { error: () => undefined, warn: () => undefined };
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

function record(name = 'Encrypt', completes?: string): AuditAppend {
  const r = apiCallFixture('111122223333', Date.now(), name);
  return completes === undefined ? r : { ...r, completes };
}

/** A front whose commits wait until the test releases them. */
function front(opts: { maxBatch?: number; gatherTurns?: number; gatherMs?: number; maxInFlight?: number; fail?: (b: CommitBatch) => boolean } = {}) {
  const commits: CommitBatch[] = [];
  const release: (() => void)[] = [];
  const summaries: RefusalSummary[] = [];
  /** Probes fail until the test says the sink writes again. */
  const state = { writable: false };
  const g = new GroupCommit({
    commit: (b) => {
      commits.push(b);
      return new Promise<void>((resolve, reject) => release.push(() => (opts.fail?.(b) === true ? reject(new Error('EIO: injected')) : resolve())));
    },
    probe: () => (state.writable ? Promise.resolve() : Promise.reject(new Error('EIO: still failing'))),
    refusalRecord: (s) => {
      summaries.push(s);
      return record('KeyholdAuditUnavailable');
    },
    logger: quiet,
    maxBatch: opts.maxBatch,
    gatherTurns: opts.gatherTurns,
    gatherMs: opts.gatherMs,
    maxInFlight: opts.maxInFlight,
    retryMs: 10,
  });
  const next = async (): Promise<void> => {
    while (release.length === 0) await turn();
    (release.shift() as () => void)();
    await turn();
  };
  return { g, commits, next, summaries, state };
}

test('one commit in flight; records arriving meanwhile leave together in the next', async () => {
  const { g, commits, next } = front();
  const a = g.append(record());
  await turn();
  assert.equal(commits.length, 1);
  const rest = [g.append(record()), g.append(record()), g.intend({ id: 'i1', owner: 1, createdAt: 0, event: record('CreateKey') })];
  await turn();
  assert.equal(commits.length, 1, 'nothing sent while a commit is in flight');
  await next();
  await a;
  assert.equal(commits.length, 2);
  assert.deepEqual([commits[1]!.events.length, commits[1]!.intents.length], [2, 1]);
  await next();
  await Promise.all(rest);
  assert.deepEqual(g.stats(), { commits: 2, records: 4 });
});

test('gatherTurns: a batch waits while turns keep adding records, at most that many turns; a lone record or a dry turn sends it', async () => {
  // (a time bound no turn of this test reaches, however slow the machine: the turns decide here)
  const { g, commits, next } = front({ gatherTurns: 2, gatherMs: 3_600_000 });
  // A turn with a lone record (-c1): sent at the end of that turn.
  const lone = g.append(record());
  await turn();
  assert.equal(commits.length, 1, 'a lone record does not wait');
  await next();
  await lone;
  // A busy turn (two records), then a turn adding one more, then a dry turn: sent after the dry one.
  const busy = [g.append(record()), g.append(record())];
  await turn();
  assert.equal(commits.length, 1, 'a turn that added two records waits for the next');
  busy.push(g.append(record()));
  await turn();
  assert.equal(commits.length, 1, 'the next turn added one: it waits again');
  await turn();
  assert.equal(commits.length, 2, 'a turn that added nothing sends it');
  assert.equal(commits[1]!.events.length, 3);
  await next();
  await Promise.all(busy);
  // Turns that never stop adding: sent after gatherTurns extra turns all the same.
  const flood = [g.append(record()), g.append(record())];
  for (let t = 0; t < 2; t++) {
    await turn();
    assert.equal(commits.length, 2, `extra turn ${t + 1} of 2`);
    flood.push(g.append(record()));
  }
  await turn();
  assert.equal(commits.length, 3, 'sent after gatherTurns extra turns though records kept coming');
  assert.equal(commits[2]!.events.length, 4);
  await next();
  await Promise.all(flood);
  assert.deepEqual(g.stats(), { commits: 3, records: 8 });
});

test('without gatherTurns, or once gatherMs has passed, a batch leaves at the end of the turn that opened it, however busy', async () => {
  for (const opts of [{}, { gatherTurns: 3, gatherMs: 0 }]) {
    const { g, commits, next } = front(opts);
    const busy = [g.append(record()), g.append(record()), g.append(record())];
    await turn();
    assert.equal(commits.length, 1, JSON.stringify(opts));
    assert.equal(commits[0]!.events.length, 3);
    await next();
    await Promise.all(busy);
  }
});

test('maxBatch caps a commit but keeps the records of one synchronous run together', async () => {
  const { g, commits, next } = front({ maxBatch: 2 });
  const blocker = g.append(record());
  await turn();
  // One run of three appends (a cross-account call's copies): one commit, over the cap.
  const together = [g.append(record()), g.append(record()), g.append(record())];
  await Promise.resolve();
  const later = [g.append(record()), g.append(record())];
  await Promise.resolve();
  const last = g.append(record());
  for (let i = 0; i < 4; i++) await next();
  await Promise.all([blocker, ...together, ...later, last]);
  assert.deepEqual(commits.map((c) => c.events.length), [1, 3, 2, 1]);
});

test('a failed commit rejects its batch, marks the sink unhealthy and recovers the intents it completed', async () => {
  const { g, commits, next, summaries, state } = front({ fail: (b) => b.events.some((e) => e.completes === 'req-1') });
  const failed = g.append(record('CreateKey', 'req-1'));
  await next();
  await assert.rejects(failed, { message: 'EIO: injected' });
  g.refused(Date.now(), 'us-east-1');
  g.refused(Date.now(), 'us-east-1');
  assert.equal(g.healthy, false);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(g.healthy, false, 'still unhealthy while probes fail');
  state.writable = true;
  // The probe finds the sink writable: the next commit carries the orphan's outcome-unknown
  // record (recover) and the one record summarising the two refusals.
  while (!g.healthy) await new Promise((r) => setTimeout(r, 5));
  await next();
  assert.deepEqual(commits[1]!.recover, ['req-1']);
  assert.deepEqual(commits[1]!.events.map((e) => e.eventName), ['KeyholdAuditUnavailable']);
  assert.equal(summaries.length, 1);
  assert.equal(summaries[0]!.count, 2);
  assert.equal(g.pendingRefusals, 0);
  await g.close();
  await assert.rejects(g.append(record()), { name: 'Error', message: 'the audit sink is closed' });
});
