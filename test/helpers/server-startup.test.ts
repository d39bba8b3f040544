/**
 * The test harness itself: a server that does not become ready in time is killed, its workers
 * too, before startServer fails (two servers leaked under load when it only rejected). The
 * workers are made to hang by a preload (NODE_OPTIONS --require) that blocks each cluster worker
 * before Keyhold runs and records its pid first; the primary then never logs "keyhold ready".
 */
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { alive } from './processes';
import { removeDir, startServer, tempDir } from './server';

test('a server that does not start in time is killed with its workers, and the error says so', async () => {
  const dir = tempDir('keyhold-hang-');
  const marks = join(dir, 'marks');
  const preload = join(dir, 'hang-workers.cjs');
  writeFileSync(
    preload,
    `const cluster = require('node:cluster');
if (cluster.isWorker) {
  require('node:fs').mkdirSync(${JSON.stringify(marks)}, { recursive: true });
  require('node:fs').writeFileSync(require('node:path').join(${JSON.stringify(marks)}, String(process.pid)), '');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 600000);
}
`,
  );
  try {
    const err = await startServer({ workers: 2, dataDir: join(dir, 'data'), startTimeoutMs: 20_000, env: { NODE_OPTIONS: `--require ${preload}` } }).then(
      () => assert.fail('the server became ready although its workers hang'),
      (e: unknown) => e as Error,
    );
    const m = /did not start in 20000 ms; killed pids ([\d, ]+):/.exec(err.message);
    assert.ok(m, err.message);
    const killed = m[1]!.split(', ').map(Number);
    for (const pid of killed) assert.equal(alive(pid), false, `pid ${pid} still runs`);
    // Each worker that got as far as the preload was among those killed (the timeout is wide: both normally have).
    let workers: number[] = [];
    try {
      workers = readdirSync(marks).map(Number);
    } catch {
      /* no worker started in 20 s */
    }
    for (const pid of workers) assert.ok(killed.includes(pid), `worker ${pid} not killed: ${killed.join(', ')}`);
    // (A worker forked but not yet at its preload is killed too, without a mark.)
    assert.ok(killed.length >= 1 + workers.length, `the primary and its workers: ${killed.join(', ')} / workers ${workers.join(', ')}`);
  } finally {
    removeDir(dir);
  }
});
