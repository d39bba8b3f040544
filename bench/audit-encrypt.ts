/**
 * The audit trail's cost on the Encrypt hot path (issue 4, "Performance": Encrypt throughput
 * with the trail on at least 85% of off). Runs the throughput benchmark (bench/run.ts, Encrypt
 * 64 B replayed by wrk) alternately without the trail (`--no-trail`: Keyhold built in-process
 * without it, bench/keyhold-without-trail.ts) and with it (`keyhold serve`), several rounds,
 * and reports the median requests/s and server CPU per request of each, and their ratio.
 * Alternating rounds spread background noise over both modes.
 *
 * A benchmark, not a test. Usage:
 *   node dist/bench/audit-encrypt.js [--rounds 3] [--duration 10] [--concurrency 16,64,256,512] [--workers 2]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

interface Row {
  server: string;
  case: string;
  concurrency: number;
  rps: number;
  cpuUsPerRequest: number;
  p50_ms: number;
  p99_ms: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      duration: { type: 'string', default: '10' },
      concurrency: { type: 'string', default: '16,64,256,512' },
      workers: { type: 'string', default: '2' },
    },
  });
  const rounds = Number(values.rounds);
  const scratch = mkdtempSync(join(tmpdir(), 'keyhold-audit-bench-'));
  const results = new Map<string, { rps: number[]; cpu: number[]; p50: number[]; p99: number[] }>();
  try {
    for (let round = 0; round < rounds; round++) {
      for (const mode of round % 2 === 0 ? ['off', 'on'] : ['on', 'off']) {
        const out = join(scratch, `${mode}-${round}.json`);
        process.stderr.write(`round ${round + 1}/${rounds}: trail ${mode}\n`);
        execFileSync(
          process.execPath,
          [
            join(__dirname, 'run.js'), '--cases', 'encrypt-64', '--no-half-load', '--warmup', '2', '--duration', values.duration!,
            '--concurrency', values.concurrency!, '--workers', values.workers!, '--out', out, ...(mode === 'off' ? ['--no-trail'] : []),
          ],
          { stdio: ['ignore', 'ignore', 'inherit'] },
        );
        const rows = (JSON.parse(readFileSync(out, 'utf8')) as { rows: Row[] }).rows.filter((r) => r.server === 'keyhold');
        for (const r of rows) {
          const key = `${mode}\0${r.concurrency}`;
          const acc = results.get(key) ?? { rps: [], cpu: [], p50: [], p99: [] };
          acc.rps.push(r.rps);
          acc.cpu.push(r.cpuUsPerRequest);
          acc.p50.push(r.p50_ms);
          acc.p99.push(r.p99_ms);
          results.set(key, acc);
        }
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  console.log(`\nEncrypt 64 B, ${values.workers} workers, ${rounds} alternating rounds of ${values.duration} s (medians)`);
  console.log('conc'.padStart(5), 'off rps'.padStart(9), 'on rps'.padStart(9), 'on/off'.padStart(7), 'off µs/req'.padStart(11), 'on µs/req'.padStart(10), 'off p50'.padStart(8), 'on p50'.padStart(8), 'on p99'.padStart(8));
  for (const c of values.concurrency!.split(',').map(Number)) {
    const off = results.get(`off\0${c}`);
    const on = results.get(`on\0${c}`);
    if (off === undefined || on === undefined) continue;
    const ratio = median(on.rps) / median(off.rps);
    console.log(
      String(c).padStart(5),
      median(off.rps).toFixed(0).padStart(9),
      median(on.rps).toFixed(0).padStart(9),
      `${(ratio * 100).toFixed(0)}%`.padStart(7),
      median(off.cpu).toFixed(0).padStart(11),
      median(on.cpu).toFixed(0).padStart(10),
      median(off.p50).toFixed(1).padStart(8),
      median(on.p50).toFixed(1).padStart(8),
      median(on.p99).toFixed(1).padStart(8),
    );
  }
  // Peak throughput: the best median over the concurrencies, for each mode on its own. At a
  // fixed low concurrency a closed loop is latency-bound (Little's law: req/s = concurrency /
  // latency), so there the ratio mostly measures the fsync wait each request adds.
  const peak = (mode: string): { rps: number; conc: number } => {
    let best = { rps: 0, conc: 0 };
    for (const c of values.concurrency!.split(',').map(Number)) {
      const m = results.get(`${mode}\0${c}`);
      if (m !== undefined && median(m.rps) > best.rps) best = { rps: median(m.rps), conc: c };
    }
    return best;
  };
  const off = peak('off');
  const on = peak('on');
  if (off.rps > 0) {
    console.log(
      `peak: off ${off.rps.toFixed(0)} req/s (-c${off.conc}), on ${on.rps.toFixed(0)} req/s (-c${on.conc}): on/off ${((on.rps / off.rps) * 100).toFixed(0)}%`,
    );
  }
}

main();
