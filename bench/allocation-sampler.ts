/**
 * Preloaded (`node -r`) into a Keyhold server by bench/allocation.ts — never by `keyhold serve`
 * itself. On SIGUSR2 it starts V8's sampling heap profiler in this process, counting objects
 * that scavenges and mark-compacts already collected too (so the profile is what the process
 * allocated, not what it retained); on the next SIGUSR2 it stops and writes the profile to
 * `$KEYHOLD_ALLOCATION_PROFILE`. Inspector calls run on this thread only: worker threads (the
 * audit writer's) are not sampled.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const out = process.env.KEYHOLD_ALLOCATION_PROFILE;
if (out !== undefined && out !== '') {
  const session = new Session();
  session.connect();
  let sampling = false;
  process.on('SIGUSR2', () => {
    if (!sampling) {
      sampling = true;
      session.post('HeapProfiler.startSampling', {
        samplingInterval: 4096,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      } as never);
      return;
    }
    sampling = false;
    session.post('HeapProfiler.stopSampling', (err, r) => {
      if (err === null) writeFileSync(out, JSON.stringify((r as { profile: unknown }).profile));
      else process.stderr.write(`allocation sampler: ${err.message}\n`);
    });
  });
}
