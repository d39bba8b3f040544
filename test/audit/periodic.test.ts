/**
 * The trails' periodic rounds (src/audit/periodic.ts): one run at a time, the next only after the
 * previous ended, none after stop(), and stop() waits for a run in progress.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { Periodic } from '../../src/audit/periodic';

async function until(what: string, cond: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 30_000; !cond(); await sleep(2)) assert.ok(Date.now() < deadline, what);
}

test('runs never overlap, stop() waits for the run in progress, and nothing runs after it', async () => {
  let runs = 0;
  let running = 0;
  let overlapped = false;
  let release!: () => void;
  let gate = new Promise<void>((r) => (release = r));
  const p = new Periodic(1, async () => {
    runs += 1;
    running += 1;
    overlapped ||= running > 1;
    await gate;
    running -= 1;
  });
  p.start();
  await until('a first run', () => runs === 1);
  await sleep(30);
  assert.equal(runs, 1, 'no second run while the first has not ended');
  // Let runs go on freely for a while, then stop in the middle of one.
  release();
  await until('more runs', () => runs >= 3);
  gate = new Promise<void>((r) => (release = r));
  const before = runs;
  await until('a run in progress', () => runs > before);
  let stopped = false;
  const stopping = p.stop().then(() => (stopped = true));
  await sleep(20);
  assert.equal(stopped, false, 'stop() waits for the run in progress');
  release();
  await stopping;
  const atStop = runs;
  await sleep(30);
  assert.equal(runs, atStop, 'no run after stop()');
  assert.equal(overlapped, false);
});
