/**
 * Server CPU per request of two builds, compared ABBA in the same run (issue 11, "Hot path"):
 * on a shared machine absolute figures move with the load, but two builds measured alternately,
 * A B B A, under the same load can be compared. CPU time (utime+stime of the server's process
 * tree from /proc) over requests served is far less sensitive to the load than req/s.
 *
 *   node dist/bench/cpu-abba.js --base /tmp/base [--rounds 4] [--duration 5] [--warmup 1] [--workers 1]
 *        [--concurrency 16] [--cases encrypt-64,decrypt,generate-data-key,decapsulate,sign-rsa] [--trail]
 *
 * `--warmup S` is the unmeasured run before each measured one. Give the first rounds enough of it
 * on a slow machine: until V8 has optimised the request path its compiler threads' CPU counts as
 * the server's (a `perf record` of a worker 3 s into an Encrypt load at ~450 req/s showed 20% of
 * the process's CPU in TurboFan's concurrent compile jobs; issue 11).
 *
 * `--base DIR` is another build's root (a directory holding its `dist/`, `bin/` and a
 * `node_modules` link), e.g. made with
 *   git worktree add /tmp/base <commit> && cd /tmp/base && ln -s /work/main/node_modules && npx tsc -p .
 * "B" is this build. Both servers run at once on fresh data directories (without the audit trail
 * unless --trail: bench/keyhold-without-trail.ts); each round measures every case on A and B in
 * the round's order. Prints per-round figures and the median of each.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateKeyCommand, EncapsulateCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  cpuDelta, killAllNow, readCredentials, runWrk, sendOnce, setScriptDir, signRequest, startServer, stopServer, treeTicks,
  type Options, type PreparedRequest, type ServerProcess,
} from './run';

const REGION = 'us-east-1';
const PLAINTEXT_64 = Buffer.alloc(64, 0x61);

/** Keys made per build: a symmetric one, and those the chosen cases need. */
interface Keys {
  symmetric: string;
  ciphertext: string;
  kem?: string;
  kemCiphertext?: string;
  rsa?: string;
}

const BODIES: Record<string, { operation: string; needs?: 'kem' | 'rsa'; body(k: Keys): string }> = {
  'encrypt-64': { operation: 'Encrypt', body: (k) => JSON.stringify({ KeyId: k.symmetric, Plaintext: PLAINTEXT_64.toString('base64') }) },
  decrypt: { operation: 'Decrypt', body: (k) => JSON.stringify({ CiphertextBlob: k.ciphertext }) },
  'generate-data-key': { operation: 'GenerateDataKey', body: (k) => JSON.stringify({ KeyId: k.symmetric, KeySpec: 'AES_256' }) },
  decapsulate: {
    operation: 'Decapsulate',
    needs: 'kem',
    body: (k) => JSON.stringify({ KeyId: k.kem, SharedSecretCiphertextBlob: k.kemCiphertext, EncapsulationAlgorithm: 'ML_KEM' }),
  },
  'sign-rsa': {
    operation: 'Sign',
    needs: 'rsa',
    body: (k) => JSON.stringify({ KeyId: k.rsa, Message: PLAINTEXT_64.toString('base64'), SigningAlgorithm: 'RSASSA_PSS_SHA_256' }),
  },
};

interface Build {
  readonly name: string;
  readonly server: ServerProcess;
  readonly requests: Record<string, PreparedRequest>;
}

function log(msg: string): void {
  process.stderr.write(`[cpu-abba] ${msg}\n`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
}

async function startBuild(name: string, root: string, work: string, workers: number, trail: boolean, cases: string[]): Promise<Build> {
  const dataDir = mkdtempSync(join(work, `${name}-`));
  const entry = trail ? join(root, 'bin', 'keyhold') : join(root, 'dist', 'bench', 'keyhold-without-trail.js');
  const server = await startServer(name, [entry, 'serve', '--port', '0', '--data-dir', dataDir, '--region', REGION, '--workers', String(workers)], 'keyhold ready');
  const credentials = readCredentials(dataDir);
  const client = new KMSClient({ endpoint: `http://127.0.0.1:${server.port}`, region: REGION, credentials, maxAttempts: 1 });
  const keyId = (await client.send(new CreateKeyCommand({ Description: 'cpu-abba' }))).KeyMetadata!.KeyId!;
  const ct = Buffer.from((await client.send(new EncryptCommand({ KeyId: keyId, Plaintext: PLAINTEXT_64 }))).CiphertextBlob!).toString('base64');
  const keys: Keys = { symmetric: keyId, ciphertext: ct };
  if (cases.some((c) => BODIES[c]!.needs === 'kem')) {
    keys.kem = (await client.send(new CreateKeyCommand({ KeySpec: 'ML_KEM_768', KeyUsage: 'ENCAPSULATE_DECAPSULATE' }))).KeyMetadata!.KeyId!;
    const e = await client.send(new EncapsulateCommand({ KeyId: keys.kem, EncapsulationAlgorithm: 'ML_KEM' }));
    keys.kemCiphertext = Buffer.from(e.SharedSecretCiphertextBlob!).toString('base64');
  }
  if (cases.some((c) => BODIES[c]!.needs === 'rsa')) {
    keys.rsa = (await client.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.KeyId!;
  }
  client.destroy();
  const requests: Record<string, PreparedRequest> = {};
  for (const c of cases) {
    const def = BODIES[c]!;
    const req = await signRequest(credentials, server.port, def.operation, def.body(keys));
    const res = await sendOnce(server.port, req);
    if (res.status !== 200) throw new Error(`${name} ${c}: HTTP ${res.status} ${res.body.slice(0, 200)}`);
    requests[c] = req;
  }
  return { name, server, requests };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      base: { type: 'string' },
      rounds: { type: 'string', default: '4' },
      duration: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      workers: { type: 'string', default: '1' },
      concurrency: { type: 'string', default: '16' },
      cases: { type: 'string', default: 'encrypt-64' },
      trail: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.base === undefined) throw new Error('--base DIR is required');
  const cases = values.cases.split(',');
  for (const c of cases) if (BODIES[c] === undefined) throw new Error(`unknown case ${c}; known: ${Object.keys(BODIES).join(', ')}`);
  const rounds = Number(values.rounds);
  const duration = Number(values.duration);
  const warmup = Number(values.warmup);
  if (!(warmup >= 1)) throw new Error('--warmup must be at least 1 (seconds)');
  const conc = Number(values.concurrency);
  const workers = Number(values.workers);
  const work = mkdtempSync(join(tmpdir(), 'keyhold-abba-'));
  setScriptDir(work);
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const opts = { wrk: 'wrk' } as Options;
  const builds: Build[] = [];
  try {
    builds.push(await startBuild('A', resolve(values.base), work, workers, values.trail, cases));
    builds.push(await startBuild('B', resolve(__dirname, '..', '..'), work, workers, values.trail, cases));
    const cpu: Record<string, number[]> = {};
    const rps: Record<string, number[]> = {};
    const p99: Record<string, number[]> = {};
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? [builds[0]!, builds[1]!] : [builds[1]!, builds[0]!];
      for (const c of cases) {
        for (const b of order) {
          await runWrk(opts, b.server.port, b.requests[c]!, conc, warmup);
          const before = treeTicks(b.server.pid);
          const { result: w } = await runWrk(opts, b.server.port, b.requests[c]!, conc, duration);
          const used = cpuDelta(before, treeTicks(b.server.pid));
          if (w.non2xx > 0 || w.err_status > 0 || w.requests === 0) throw new Error(`${b.name} ${c}: ${w.non2xx} non-2xx`);
          const us = (used.seconds * 1e6) / w.requests;
          const k = `${c} ${b.name}`;
          (cpu[k] ??= []).push(us);
          (rps[k] ??= []).push(w.requests / (w.duration_us / 1e6));
          (p99[k] ??= []).push(w.p99_us / 1000);
          log(`round ${r + 1} ${k}: ${us.toFixed(1)} µs CPU/req, ${(w.requests / (w.duration_us / 1e6)).toFixed(0)} req/s, p99 ${(w.p99_us / 1000).toFixed(2)} ms`);
        }
      }
    }
    process.stdout.write(`\ncase, build: median CPU µs/request (rounds), median req/s, median p99 (rounds) — -c${conc}, ${workers} worker(s), trail ${values.trail ? 'on' : 'off'}\n`);
    for (const k of Object.keys(cpu)) {
      process.stdout.write(
        `${k.padEnd(22)} ${median(cpu[k]!).toFixed(1).padStart(7)} µs  (${cpu[k]!.map((x) => x.toFixed(0)).join(' ')})  ${median(rps[k]!).toFixed(0)} req/s` +
          `  p99 ${median(p99[k]!).toFixed(2)} ms (${p99[k]!.map((x) => x.toFixed(1)).join(' ')})\n`,
      );
    }
  } finally {
    for (const b of builds) await stopServer(b.server);
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    killAllNow();
    process.stderr.write(`cpu-abba failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
