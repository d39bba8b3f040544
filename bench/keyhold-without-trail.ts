/**
 * Keyhold built in-process WITHOUT its audit trail — for benchmarks only (issue 11: the trail
 * is not an operator setting, so no flag or variable of `keyhold serve` turns it off). Takes
 * the serve flags bench/run.ts passes; cluster workers re-run this same script, so they run
 * without a trail too. Used by `node dist/bench/run.js --no-trail` to measure what the trail costs.
 */
import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { loadConfig, type Flags } from '../src/config';
import { serve } from '../src/main';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== 'serve'),
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    'data-dir': { type: 'string' },
    region: { type: 'string' },
    workers: { type: 'string' },
  },
  strict: true,
});
serve(loadConfig(values as Flags), { auditTrail: false }).then(
  // `serve` returns in a cluster worker once it listens: only the primary's return means "stopped".
  () => {
    if (cluster.isPrimary) process.exit(0);
  },
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
