/**
 * Post-quantum benchmark (issue 10, "Performance"). One run, one server, figures side by side so
 * background noise hits them alike:
 *
 *  1. `keyhold serve --workers W`; keys made with the AWS SDK (symmetric, ML_DSA_65, ML_KEM_768)
 *     and one ML-KEM-768 ciphertext from Encapsulate;
 *  2. per case, ONE pre-signed request (bench/run.ts's SigV4 signer) replayed by
 *     `wrk -t1 -c<C> --latency`, every answer 2xx: Sign ML-DSA-65 (RAW, 64 B message) and
 *     Decapsulate ML-KEM-768; server CPU per request from /proc (the whole process tree, worker
 *     threads included);
 *  3. the library's own rate in the same run: W threads of this process calling
 *     `@noble/post-quantum` directly (ml_dsa65.sign, ml_kem768.decapsulate) for the same time —
 *     the bar (target: the API ≥ 70% of it with W = 2);
 *  4. Encrypt p99 at -c<E> alone, then while a Sign ML-DSA-65 flood runs at -c<C>, then while a
 *     Decapsulate ML-KEM-768 flood runs at -c<C> (target p99 < 20 ms): ML-DSA work runs on niced
 *     threads, ML-KEM on the request thread (src/keys/pq-pool.ts).
 *
 * The library's Decapsulate rate is given two ways: `ml_kem768.decapsulate(ct, sk)`, and through
 * `ml_kem768.prepare(pk)` (Â expanded once per key, what the backend does since issue 10's
 * second pass): the API is compared with both.
 *
 * With `--base DIR` a second built checkout (e.g. a worktree of main) is measured in the same
 * run, alternating with this one (`--rounds 2` measures both orders: ABBA); `--trail off|both`
 * also measures Keyhold without its audit trail (bench/keyhold-without-trail.ts), to separate the
 * trail's per-request cost.
 *
 * A benchmark, not a test: the machine is shared, so read the load average printed at the end.
 * Usage: node dist/bench/post-quantum.js [--duration 10] [--workers 2] [--concurrency 16] [--encrypt-concurrency 4]
 *                                        [--base DIR] [--rounds 2] [--trail on|off|both]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { CreateKeyCommand, EncapsulateCommand, KMSClient, type CreateKeyCommandInput } from '@aws-sdk/client-kms';
import {
  DEFAULT_SERVER_WARMUP_S,
  warmUpServer,
  cpuDelta,
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
  type WrkResult,
} from './run';

const REPO_ROOT = resolve(__dirname, '..', '..');
const REGION = 'us-east-1';
const MESSAGE = Buffer.alloc(64, 0x61);

function log(msg: string): void {
  process.stderr.write(`[pq-bench] ${msg}\n`);
}

function rate(w: WrkResult): number {
  return w.requests / (w.duration_us / 1e6);
}

function assertClean(what: string, w: WrkResult): void {
  const errors = w.err_connect + w.err_read + w.err_write + w.err_timeout;
  if (w.non2xx > 0 || w.err_status > 0 || errors > 0 || w.requests === 0) {
    throw new Error(`${what}: ${w.non2xx} non-2xx (first: ${w.first_non2xx}), ${errors} socket errors, ${w.requests} requests`);
  }
}

/** Code of one library-rate thread: the operation in a loop for `seconds`, then the count. */
const LIBRARY_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const { ml_dsa65 } = require(workerData.dsa);
const { ml_kem768 } = require(workerData.kem);
const message = new Uint8Array(64).fill(0x61);
let op;
if (workerData.op === 'sign') {
  const { secretKey } = ml_dsa65.keygen();
  op = () => ml_dsa65.sign(message, secretKey);
} else {
  const { publicKey, secretKey } = ml_kem768.keygen();
  const { cipherText } = ml_kem768.encapsulate(publicKey);
  if (workerData.op === 'decapsulate') op = () => ml_kem768.decapsulate(cipherText, secretKey);
  else {
    const prepared = ml_kem768.prepare(publicKey);
    op = () => prepared.decapsulate(cipherText, secretKey);
  }
}
for (let i = 0; i < 20; i++) op();
const end = Date.now() + workerData.seconds * 1000;
let n = 0;
while (Date.now() < end) { op(); n++; }
parentPort.postMessage(n);
`;

/** Operations per second of `op` on `threads` threads of this process for `seconds`. */
async function libraryRate(op: 'sign' | 'decapsulate' | 'decapsulate-prepared', threads: number, seconds: number): Promise<number> {
  const workerData = { op, seconds, dsa: require.resolve('@noble/post-quantum/ml-dsa.js'), kem: require.resolve('@noble/post-quantum/ml-kem.js') };
  const counts = await Promise.all(
    Array.from({ length: threads }, () => new Promise<number>((res, rej) => {
      const w = new Worker(LIBRARY_THREAD, { eval: true, workerData });
      w.once('message', (n: number) => res(n));
      w.once('error', rej);
    })),
  );
  return counts.reduce((a, b) => a + b, 0) / seconds;
}

/** One build and trail mode to measure. */
interface Target {
  readonly label: string;
  /** A built checkout (its dist/ and bin/). */
  readonly root: string;
  readonly trail: boolean;
}

/** What one server gave. */
interface Measured {
  readonly rows: { id: string; api: number; p50: number; p99: number; cpuUs: number }[];
  readonly alone: WrkResult;
  readonly duringDsa: WrkResult;
  readonly dsaFlood: WrkResult;
  readonly duringKem: WrkResult;
  readonly kemFlood: WrkResult;
}

/** `keyhold serve` of `t.root` (with or without its trail), measured. */
async function measure(t: Target, workers: number, conc: number, encConc: number, durationS: number): Promise<Measured> {
  const opts = { wrk: 'wrk' } as Options;
  const work = mkdtempSync(join(tmpdir(), 'keyhold-pq-bench-'));
  setScriptDir(work);
  const dataDir = join(work, 'data');
  mkdirSync(dataDir, { mode: 0o700 });
  const entry = t.trail ? join(t.root, 'bin', 'keyhold') : join(t.root, 'dist', 'bench', 'keyhold-without-trail.js');
  const server = await startServer('keyhold', [entry, 'serve', '--port', '0', '--data-dir', dataDir, '--region', REGION, '--workers', String(workers)], 'keyhold ready');
  try {
    const credentials = readCredentials(dataDir);
    const client = new KMSClient({ endpoint: `http://127.0.0.1:${server.port}`, region: REGION, credentials, maxAttempts: 1 });
    const make = async (input: CreateKeyCommandInput): Promise<string> => (await client.send(new CreateKeyCommand(input))).KeyMetadata!.KeyId!;
    const symmetric = await make({});
    const dsa = await make({ KeySpec: 'ML_DSA_65', KeyUsage: 'SIGN_VERIFY' });
    const kem = await make({ KeySpec: 'ML_KEM_768', KeyUsage: 'ENCAPSULATE_DECAPSULATE' });
    const ct = Buffer.from((await client.send(new EncapsulateCommand({ KeyId: kem, EncapsulationAlgorithm: 'ML_KEM' }))).SharedSecretCiphertextBlob!);
    client.destroy();
    const cases = [
      { id: 'Sign ML-DSA-65 (RAW, 64 B)', operation: 'Sign', body: JSON.stringify({ KeyId: dsa, Message: MESSAGE.toString('base64'), SigningAlgorithm: 'ML_DSA_SHAKE_256' }) },
      { id: 'Decapsulate ML-KEM-768', operation: 'Decapsulate', body: JSON.stringify({ KeyId: kem, SharedSecretCiphertextBlob: ct.toString('base64'), EncapsulationAlgorithm: 'ML_KEM' }) },
    ];
    const signed = async (operation: string, body: string): Promise<Awaited<ReturnType<typeof signRequest>>> => {
      const req = await signRequest(credentials, server.port, operation, body);
      const res = await sendOnce(server.port, req);
      if (res.status !== 200) throw new Error(`pre-flight ${operation}: HTTP ${res.status} ${res.body.slice(0, 200)}`);
      return req;
    };
    // The shared request path (HTTP, SigV4, authorization, audit) optimised first (run.ts DEFAULT_SERVER_WARMUP_S).
    const encBody = JSON.stringify({ KeyId: symmetric, Plaintext: MESSAGE.toString('base64') });
    log(`${t.label}: server warm-up, Encrypt -c${conc} for ${DEFAULT_SERVER_WARMUP_S}s (unmeasured)`);
    await warmUpServer(opts, server.port, await signed('Encrypt', encBody), conc, DEFAULT_SERVER_WARMUP_S);
    const rows: Measured['rows'] = [];
    for (const c of cases) {
      log(`${t.label}: ${c.id}: warmup 2s, then -c${conc} ${durationS}s`);
      await runWrk(opts, server.port, await signed(c.operation, c.body), conc, 2);
      const req = await signed(c.operation, c.body);
      const before = treeTicks(server.pid);
      const { result } = await runWrk(opts, server.port, req, conc, durationS);
      const cpu = cpuDelta(before, treeTicks(server.pid));
      assertClean(c.id, result);
      rows.push({ id: c.id, api: rate(result), p50: result.p50_us / 1000, p99: result.p99_us / 1000, cpuUs: (cpu.seconds * 1e6) / result.requests });
    }
    log(`${t.label}: Encrypt -c${encConc} alone, ${durationS}s`);
    const alone = (await runWrk(opts, server.port, await signed('Encrypt', encBody), encConc, durationS)).result;
    assertClean('Encrypt alone', alone);
    /** Encrypt at -c<encConc> while `c` floods at -c<conc>. */
    const during = async (c: (typeof cases)[number]): Promise<[WrkResult, WrkResult]> => {
      log(`${t.label}: Encrypt -c${encConc} for ${durationS}s during a ${c.id} flood at -c${conc}`);
      const flood = runWrk(opts, server.port, await signed(c.operation, c.body), conc, durationS + 2);
      await new Promise((r) => setTimeout(r, 1000));
      const enc = (await runWrk(opts, server.port, await signed('Encrypt', encBody), encConc, durationS)).result;
      const f = (await flood).result;
      assertClean(`Encrypt during ${c.id} flood`, enc);
      assertClean(`${c.id} flood`, f);
      return [enc, f];
    };
    const [duringDsa, dsaFlood] = await during(cases[0]!);
    // ML-KEM runs on the request thread (src/keys/pq-pool.ts): what a flood of it does to Encrypt.
    const [duringKem, kemFlood] = await during(cases[1]!);
    return { rows, alone, duringDsa, dsaFlood, duringKem, kemFlood };
  } finally {
    await stopServer(server);
    killAllNow();
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '10' },
      workers: { type: 'string', default: '2' },
      concurrency: { type: 'string', default: '16' },
      'encrypt-concurrency': { type: 'string', default: '4' },
      /** Another built checkout to measure in the same run (e.g. a worktree of main), alternating with this one. */
      base: { type: 'string' },
      /** on (the default, `keyhold serve`), off (bench/keyhold-without-trail.ts), or both. */
      trail: { type: 'string', default: 'on' },
      /** With --base: rounds, each in the other order than the last (2 = ABBA). */
      rounds: { type: 'string', default: '1' },
    },
  });
  const durationS = Number(values.duration);
  const workers = Number(values.workers);
  const conc = Number(values.concurrency);
  const encConc = Number(values['encrypt-concurrency']);
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const modes = values.trail === 'both' ? [true, false] : [values.trail !== 'off'];
  const builds = [{ label: 'this build', root: REPO_ROOT }, ...(values.base === undefined ? [] : [{ label: `base ${values.base}`, root: resolve(values.base) }])];
  // Alternate the order of the builds per mode and per round (ABBA), so a drifting background load
  // hits both alike: the build measured second has done better in every one-round comparison
  // (docs/performance.md, session 12), so compare builds with --rounds 2 or more.
  const rounds = Math.max(1, Number(values.rounds));
  const targets: Target[] = Array.from({ length: rounds }, (_, r) =>
    modes.flatMap((trail, i) =>
      ((i + r) % 2 === 0 ? builds : [...builds].reverse()).map((b) => ({
        ...b,
        label: `${b.label}, trail ${trail ? 'on' : 'off'}${rounds > 1 ? `, round ${r + 1}` : ''}`,
        trail,
      })),
    ),
  ).flat();
  const results: [Target, Measured][] = [];
  const library: Record<string, number> = {};
  for (const [i, t] of targets.entries()) {
    results.push([t, await measure(t, workers, conc, encConc, durationS)]);
    // The library's own rates, between the servers' runs (same run, same background).
    if (i === 0 || i === targets.length - 1) {
      for (const op of ['sign', 'decapsulate', 'decapsulate-prepared'] as const) {
        log(`library ${op} on ${workers} threads, ${durationS}s`);
        library[op] = Math.max(library[op] ?? 0, await libraryRate(op, workers, durationS));
      }
    }
  }
  const lines: string[] = [
    `library on ${workers} threads (best of ${targets.length > 1 ? 2 : 1} measurements): ml_dsa65.sign ${library.sign!.toFixed(0)} op/s; ` +
      `ml_kem768.decapsulate ${library.decapsulate!.toFixed(0)} op/s, through ml_kem768.prepare(publicKey) ${library['decapsulate-prepared']!.toFixed(0)} op/s`,
    '',
  ];
  for (const [t, m] of results) {
    lines.push(`${t.label} (${t.root}):`);
    for (const r of m.rows) {
      const vs =
        r.id.startsWith('Sign')
          ? `API/library ${((100 * r.api) / library.sign!).toFixed(0)}%`
          : `API/library ${((100 * r.api) / library.decapsulate!).toFixed(0)}% (vs prepared ${((100 * r.api) / library['decapsulate-prepared']!).toFixed(0)}%)`;
      lines.push(`  ${r.id.padEnd(28)} ${r.api.toFixed(0).padStart(6)} req/s (p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, server CPU ${r.cpuUs.toFixed(0)} µs/request)   ${vs} (target ≥ 70%)`);
    }
    lines.push(`  Encrypt -c${encConc} alone: ${rate(m.alone).toFixed(0)} req/s, p99 ${(m.alone.p99_us / 1000).toFixed(2)} ms`);
    lines.push(`  Encrypt -c${encConc} during Sign ML-DSA-65 -c${conc} flood: ${rate(m.duringDsa).toFixed(0)} req/s, p99 ${(m.duringDsa.p99_us / 1000).toFixed(2)} ms (flood ${rate(m.dsaFlood).toFixed(0)} signs/s; target p99 < 20 ms)`);
    lines.push(
      `  Encrypt -c${encConc} during Decapsulate ML-KEM-768 -c${conc} flood: ${rate(m.duringKem).toFixed(0)} req/s, p99 ${(m.duringKem.p99_us / 1000).toFixed(2)} ms (flood ${rate(m.kemFlood).toFixed(0)} decapsulations/s; target p99 < 20 ms)`,
    );
  }
  const load = execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).trim();
  process.stdout.write(
    `\nKeyhold post-quantum benchmark — ${new Date().toISOString()} — node ${process.version}, ${cpus().length}× ${cpus()[0]?.model ?? '?'}\n` +
      `keyhold serve --workers ${workers}; wrk -t1 -c${conc} --latency, ${durationS}s per case; the machine is shared: /proc/loadavg at the end: ${load}\n\n` +
      `${lines.join('\n')}\n`,
  );
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    killAllNow();
    process.stderr.write(`bench failed: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  },
);
