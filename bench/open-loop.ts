/**
 * Latency at half of peak under an open-loop, fixed-rate load (issue 11: "p99 < 5 ms at half of
 * peak under an open-loop, fixed-rate load"; wrk is closed-loop, so a slow answer there also
 * slows the offered load and hides queueing). For each server mode, alternating rounds:
 *
 *  1. peak: Encrypt 64 B replayed by wrk at -c64 (closed loop), req/s and server CPU per request
 *     (utime+stime of the whole server process tree from /proc, every worker and thread);
 *  2. open loop: autocannon sending at a fixed overall rate of half that peak (`overallRate`,
 *     spread over 64 connections, so a slow answer does not hold back the schedule of the others),
 *     reporting p50/p99/max latency, the rate achieved and the CPU per request at that rate.
 *
 * Modes: the default server (`keyhold serve`, the audit trail on) and, with `--with-off`, Keyhold
 * built in-process without its trail (bench/keyhold-without-trail.ts), measured in the same run.
 * A benchmark, not a test. Usage:
 *   node dist/bench/open-loop.js [--rounds 3] [--duration 8] [--workers 2] [--with-off]
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  cpuDelta,
  DEFAULT_SERVER_WARMUP_S,
  killAllNow,
  readCredentials,
  runWrk,
  sendOnce,
  setScriptDir,
  signRequest,
  startServer,
  stopServer,
  treeTicks,
  type Options,
} from './run';

const REPO_ROOT = resolve(__dirname, '..', '..');
const KEYHOLD_BIN = join(REPO_ROOT, 'bin', 'keyhold');
const REGION = 'us-east-1';
const PLAINTEXT = Buffer.alloc(64, 0x61).toString('base64');
const PEAK_CONNECTIONS = 64;
const OPEN_LOOP_CONNECTIONS = 64;

interface Point {
  mode: string;
  round: number;
  peakRps: number;
  peakCpuUs: number;
  peakP99: number;
  targetRps: number;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  cpuUs: number;
  errors: number;
}

function log(msg: string): void {
  process.stderr.write(`[open-loop] ${msg}\n`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
}

async function one(mode: 'on' | 'off', round: number, opts: Options, work: string): Promise<Point> {
  const dataDir = join(work, `data-${mode}-${round}`);
  mkdirSync(dataDir, { mode: 0o700 });
  const entry = mode === 'off' ? join(__dirname, 'keyhold-without-trail.js') : KEYHOLD_BIN;
  const server = await startServer('keyhold', [entry, 'serve', '--port', '0', '--data-dir', dataDir, '--region', REGION, '--workers', String(opts.workers)], 'keyhold ready');
  try {
    const credentials = readCredentials(dataDir);
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const client = new KMSClient({ endpoint: `http://127.0.0.1:${server.port}`, region: REGION, credentials, maxAttempts: 1 });
    const keyId = (await client.send(new CreateKeyCommand({ Description: 'open-loop bench' }))).KeyMetadata!.KeyId!;
    client.destroy();
    const signed = async (): Promise<Awaited<ReturnType<typeof signRequest>>> => {
      const req = await signRequest(credentials, server.port, 'Encrypt', JSON.stringify({ KeyId: keyId, Plaintext: PLAINTEXT }));
      const res = await sendOnce(server.port, req);
      if (res.status !== 200) throw new Error(`pre-flight Encrypt: HTTP ${res.status} ${res.body.slice(0, 200)}`);
      return req;
    };
    if (opts.warmupS > 0) await runWrk(opts, server.port, await signed(), PEAK_CONNECTIONS, opts.warmupS);
    const b0 = treeTicks(server.pid);
    const peak = await runWrk(opts, server.port, await signed(), PEAK_CONNECTIONS, opts.durationS);
    const peakCpu = cpuDelta(b0, treeTicks(server.pid));
    if (peak.result.non2xx > 0) throw new Error(`peak run: ${peak.result.non2xx} non-2xx (first: ${peak.result.first_non2xx})`);
    const peakRps = peak.result.requests / (peak.result.duration_us / 1e6);
    const target = Math.max(1, Math.round(peakRps / 2));
    const req = await signed();
    log(`trail ${mode}, round ${round + 1}: peak ${peakRps.toFixed(0)} req/s; open loop at ${target} req/s for ${opts.durationS}s`);
    const b1 = treeTicks(server.pid);
    const r = await autocannon({
      url: `http://127.0.0.1:${server.port}/`,
      method: 'POST',
      // autocannon sets content-length itself (the same value, which the signature covers) and
      // sends nothing when it is given twice.
      headers: Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== 'content-length')),
      body: req.body,
      connections: OPEN_LOOP_CONNECTIONS,
      overallRate: target,
      duration: opts.durationS,
      timeout: 10,
    });
    const cpu = cpuDelta(b1, treeTicks(server.pid));
    const answered = r.requests.total;
    if (answered === 0) throw new Error('the open-loop run got no answers');
    return {
      mode,
      round,
      peakRps,
      peakCpuUs: (peakCpu.seconds * 1e6) / peak.result.requests,
      peakP99: peak.result.p99_us / 1000,
      targetRps: target,
      rps: answered / r.duration,
      p50: r.latency.p50,
      p99: r.latency.p99,
      max: r.latency.max,
      cpuUs: answered > 0 ? (cpu.seconds * 1e6) / answered : 0,
      errors: r.errors + r.timeouts + r.non2xx,
    };
  } finally {
    await stopServer(server);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      duration: { type: 'string', default: '8' },
      // Each round starts a fresh server: its only unmeasured run is its warm-up (run.ts DEFAULT_SERVER_WARMUP_S).
      warmup: { type: 'string', default: String(DEFAULT_SERVER_WARMUP_S) },
      workers: { type: 'string', default: '2' },
      'with-off': { type: 'boolean', default: false },
      wrk: { type: 'string', default: 'wrk' },
    },
  });
  const opts: Options = {
    durationS: Number(values.duration),
    warmupS: Number(values.warmup),
    serverWarmupS: 0,
    workers: Number(values.workers),
    concurrency: [PEAK_CONNECTIONS],
    lowConcurrency: 4,
    halfLoad: false,
    cases: undefined,
    keyholdNodeArgs: [],
    noTrail: false,
    out: '',
    wrk: values.wrk!,
  };
  const work = mkdtempSync(join(tmpdir(), 'keyhold-open-loop-'));
  setScriptDir(work);
  const modes: ('on' | 'off')[] = values['with-off'] ? ['on', 'off'] : ['on'];
  const points: Point[] = [];
  const loadBefore = loadavg()[0]!;
  try {
    for (let round = 0; round < Number(values.rounds); round++) {
      for (const mode of round % 2 === 0 ? modes : [...modes].reverse()) points.push(await one(mode, round, opts, work));
    }
  } finally {
    killAllNow();
    rmSync(work, { recursive: true, force: true });
  }
  const f = (n: number, d = 0): string => n.toFixed(d);
  process.stdout.write(
    `\nEncrypt 64 B, ${opts.workers} workers, ${cpus().length} cores, load average ${f(loadBefore, 1)} before / ${f(loadavg()[0]!, 1)} after; ` +
      `peak = wrk -t1 -c${PEAK_CONNECTIONS}; open loop = autocannon ${OPEN_LOOP_CONNECTIONS} connections, overallRate = peak/2, ${opts.durationS}s\n`,
  );
  process.stdout.write('trail round  peak rps  peak µs/req  peak p99  target  rps  p50 ms  p99 ms  max ms  µs/req  errors\n');
  for (const p of points) {
    process.stdout.write(
      `${p.mode.padEnd(5)} ${String(p.round + 1).padStart(5)} ${f(p.peakRps).padStart(9)} ${f(p.peakCpuUs).padStart(12)} ${f(p.peakP99, 1).padStart(9)} ${String(p.targetRps).padStart(7)} ${f(p.rps).padStart(4)} ${f(p.p50, 2).padStart(7)} ${f(p.p99, 2).padStart(7)} ${f(p.max, 1).padStart(7)} ${f(p.cpuUs).padStart(7)} ${String(p.errors).padStart(7)}\n`,
    );
  }
  for (const mode of modes) {
    const m = points.filter((p) => p.mode === mode);
    process.stdout.write(
      `median trail ${mode}: peak ${f(median(m.map((p) => p.peakRps)))} req/s at ${f(median(m.map((p) => p.peakCpuUs)))} µs/req; ` +
        `at half of peak p50 ${f(median(m.map((p) => p.p50)), 2)} ms, p99 ${f(median(m.map((p) => p.p99)), 2)} ms (target < 5 ms)\n`,
    );
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    killAllNow();
    process.stderr.write(`bench failed: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  },
);
