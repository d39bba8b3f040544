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
 * A benchmark, not a test: the machine is shared, so read the load average printed at the end.
 * Usage: node dist/bench/post-quantum.js [--duration 10] [--workers 2] [--concurrency 16] [--encrypt-concurrency 4]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { CreateKeyCommand, EncapsulateCommand, KMSClient, type CreateKeyCommandInput } from '@aws-sdk/client-kms';
import {
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
const KEYHOLD_BIN = join(REPO_ROOT, 'bin', 'keyhold');
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
  op = () => ml_kem768.decapsulate(cipherText, secretKey);
}
for (let i = 0; i < 20; i++) op();
const end = Date.now() + workerData.seconds * 1000;
let n = 0;
while (Date.now() < end) { op(); n++; }
parentPort.postMessage(n);
`;

/** Operations per second of `op` on `threads` threads of this process for `seconds`. */
async function libraryRate(op: 'sign' | 'decapsulate', threads: number, seconds: number): Promise<number> {
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

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '10' },
      workers: { type: 'string', default: '2' },
      concurrency: { type: 'string', default: '16' },
      'encrypt-concurrency': { type: 'string', default: '4' },
    },
  });
  const durationS = Number(values.duration);
  const workers = Number(values.workers);
  const conc = Number(values.concurrency);
  const encConc = Number(values['encrypt-concurrency']);
  const opts = { wrk: 'wrk' } as Options;
  const work = mkdtempSync(join(tmpdir(), 'keyhold-pq-bench-'));
  setScriptDir(work);
  const dataDir = join(work, 'data');
  mkdirSync(dataDir, { mode: 0o700 });
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const server = await startServer('keyhold', [KEYHOLD_BIN, 'serve', '--port', '0', '--data-dir', dataDir, '--region', REGION, '--workers', String(workers)], 'keyhold ready');
  const lines: string[] = [];
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
      { id: 'Sign ML-DSA-65 (RAW, 64 B)', op: 'sign' as const, operation: 'Sign', body: JSON.stringify({ KeyId: dsa, Message: MESSAGE.toString('base64'), SigningAlgorithm: 'ML_DSA_SHAKE_256' }) },
      { id: 'Decapsulate ML-KEM-768', op: 'decapsulate' as const, operation: 'Decapsulate', body: JSON.stringify({ KeyId: kem, SharedSecretCiphertextBlob: ct.toString('base64'), EncapsulationAlgorithm: 'ML_KEM' }) },
    ];
    const signed = async (operation: string, body: string): Promise<Awaited<ReturnType<typeof signRequest>>> => {
      const req = await signRequest(credentials, server.port, operation, body);
      const res = await sendOnce(server.port, req);
      if (res.status !== 200) throw new Error(`pre-flight ${operation}: HTTP ${res.status} ${res.body.slice(0, 200)}`);
      return req;
    };

    for (const c of cases) {
      log(`${c.id}: warmup 2s, then -c${conc} ${durationS}s`);
      await runWrk(opts, server.port, await signed(c.operation, c.body), conc, 2);
      const req = await signed(c.operation, c.body);
      const before = treeTicks(server.pid);
      const { result } = await runWrk(opts, server.port, req, conc, durationS);
      const cpu = cpuDelta(before, treeTicks(server.pid));
      assertClean(c.id, result);
      log(`${c.id}: library rate on ${workers} threads, ${durationS}s`);
      const lib = await libraryRate(c.op, workers, durationS);
      const api = rate(result);
      lines.push(
        `${c.id.padEnd(28)} API ${api.toFixed(0).padStart(6)} req/s (p50 ${(result.p50_us / 1000).toFixed(1)} ms, p99 ${(result.p99_us / 1000).toFixed(1)} ms, ` +
          `server CPU ${((cpu.seconds * 1e6) / result.requests).toFixed(0)} µs/request)   library on ${workers} threads ${lib.toFixed(0).padStart(6)} op/s   ` +
          `API/library ${((100 * api) / lib).toFixed(0)}% (target ≥ 70%)`,
      );
    }

    const encBody = JSON.stringify({ KeyId: symmetric, Plaintext: MESSAGE.toString('base64') });
    log(`Encrypt -c${encConc} alone, ${durationS}s`);
    const alone = (await runWrk(opts, server.port, await signed('Encrypt', encBody), encConc, durationS)).result;
    assertClean('Encrypt alone', alone);
    log(`Encrypt -c${encConc} for ${durationS}s during a Sign ML-DSA-65 flood at -c${conc}`);
    const flood = runWrk(opts, server.port, await signed('Sign', cases[0]!.body), conc, durationS + 2);
    await new Promise((r) => setTimeout(r, 1000));
    const during = (await runWrk(opts, server.port, await signed('Encrypt', encBody), encConc, durationS)).result;
    const floodResult = (await flood).result;
    assertClean('Encrypt during flood', during);
    assertClean('Sign flood', floodResult);
    // ML-KEM runs on the request thread (src/keys/pq-pool.ts): what a flood of it does to Encrypt.
    log(`Encrypt -c${encConc} for ${durationS}s during a Decapsulate ML-KEM-768 flood at -c${conc}`);
    const kemFlood = runWrk(opts, server.port, await signed('Decapsulate', cases[1]!.body), conc, durationS + 2);
    await new Promise((r) => setTimeout(r, 1000));
    const duringKem = (await runWrk(opts, server.port, await signed('Encrypt', encBody), encConc, durationS)).result;
    const kemFloodResult = (await kemFlood).result;
    assertClean('Encrypt during Decapsulate flood', duringKem);
    assertClean('Decapsulate flood', kemFloodResult);
    lines.push('');
    lines.push(`Encrypt -c${encConc} alone:                         ${rate(alone).toFixed(0)} req/s, p99 ${(alone.p99_us / 1000).toFixed(2)} ms`);
    lines.push(
      `Encrypt -c${encConc} during Sign ML-DSA-65 -c${conc} flood: ${rate(during).toFixed(0)} req/s, p99 ${(during.p99_us / 1000).toFixed(2)} ms ` +
        `(flood: ${rate(floodResult).toFixed(0)} signs/s; target p99 < 20 ms)`,
    );
    lines.push(
      `Encrypt -c${encConc} during Decapsulate ML-KEM-768 -c${conc} flood: ${rate(duringKem).toFixed(0)} req/s, p99 ${(duringKem.p99_us / 1000).toFixed(2)} ms ` +
        `(flood: ${rate(kemFloodResult).toFixed(0)} decapsulations/s; target p99 < 20 ms)`,
    );
  } finally {
    await stopServer(server);
    killAllNow();
    rmSync(work, { recursive: true, force: true });
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
