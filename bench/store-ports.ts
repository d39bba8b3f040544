/**
 * Store-ports benchmark (issue 13): Encrypt, CreateKey and CreateGrant throughput of this
 * checkout against a base commit, both built side by side in the same run. The target: within
 * 5% of the base.
 *
 * The base commit is checked out with `git worktree add --detach` into a temporary directory,
 * its node_modules linked to this checkout's, and built with tsc; the worktree is removed at the
 * end. Each round starts `bin/keyhold serve --workers N` of each build on a fresh data directory
 * (base first in even rounds, head first in odd ones, so drift hits both alike), creates one key
 * with the AWS SDK, and replays one pre-signed request per case with wrk (bench/run.ts's
 * helpers): Encrypt of 64 bytes, CreateKey (each replay creates a key) and CreateGrant (each
 * replay adds an unnamed grant to the one key). Every non-2xx answer fails the run. The table
 * gives, per build and case, the median over rounds of requests/s, p50 and p99 latency, server
 * CPU per request (utime+stime of the server's process tree from /proc, over requests served:
 * steadier than req/s on a shared machine), and head/base of both.
 *
 * The machine this runs on may be shared: medians over alternating rounds damp the noise, not
 * remove it. Say so with the numbers.
 *
 * Usage: npx tsc -p tsconfig.json && node dist/bench/store-ports.js [--base-commit 3783d3e]
 *        [--rounds 5] [--duration 6] [--warmup 1] [--workers 2] [--concurrency 32]
 *        [--cases Encrypt,CreateKey,CreateGrant]
 *        [--out bench/results/store-ports.json]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
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
  type PreparedRequest,
  type ServerProcess,
} from './run';

/** Repository root: this file runs as dist/bench/store-ports.js. */
const REPO_ROOT = resolve(__dirname, '..', '..');
const REGION = 'us-east-1';
const CASES = ['Encrypt', 'CreateKey', 'CreateGrant'] as const;
type CaseName = (typeof CASES)[number];

interface Sample {
  readonly build: 'base' | 'head';
  readonly round: number;
  readonly op: CaseName;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Server CPU (utime+stime of the whole process tree) per request, µs. */
  readonly cpuUs: number;
}

function log(msg: string): void {
  process.stderr.write(`[store-ports] ${msg}\n`);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Checks out and builds `commit` in a temporary worktree; returns its directory. */
function buildBase(commit: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'keyhold-bench-base-'));
  rmSync(dir, { recursive: true, force: true });
  execFileSync('git', ['-C', REPO_ROOT, 'worktree', 'add', '--detach', dir, commit], { stdio: 'ignore' });
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
  log(`building ${commit} in ${dir}`);
  execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json')], { stdio: 'inherit' });
  return dir;
}

async function prepare(server: ServerProcess, dataDir: string): Promise<Record<CaseName, PreparedRequest>> {
  const credentials = readCredentials(dataDir);
  const kms = new KMSClient({ endpoint: `http://127.0.0.1:${server.port}`, region: REGION, credentials });
  try {
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const account = key.AWSAccountId!;
    const reqs: Record<CaseName, PreparedRequest> = {
      Encrypt: await signRequest(credentials, server.port, 'Encrypt', JSON.stringify({ KeyId: key.KeyId, Plaintext: Buffer.alloc(64, 7).toString('base64') })),
      CreateKey: await signRequest(credentials, server.port, 'CreateKey', '{}'),
      CreateGrant: await signRequest(
        credentials, server.port, 'CreateGrant',
        JSON.stringify({ KeyId: key.KeyId, GranteePrincipal: `arn:aws:iam::${account}:root`, Operations: ['Encrypt', 'Decrypt'] }),
      ),
    };
    for (const op of CASES) {
      const r = await sendOnce(server.port, reqs[op]);
      if (r.status !== 200) throw new Error(`${op} answered ${r.status}: ${r.body}`);
    }
    return reqs;
  } finally {
    kms.destroy();
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'base-commit': { type: 'string', default: '3783d3e' },
      rounds: { type: 'string', default: '5' },
      duration: { type: 'string', default: '6' },
      warmup: { type: 'string', default: '1' },
      workers: { type: 'string', default: '2' },
      concurrency: { type: 'string', default: '32' },
      cases: { type: 'string', default: CASES.join(',') },
      wrk: { type: 'string', default: 'wrk' },
      out: { type: 'string', default: join(REPO_ROOT, 'bench', 'results', 'store-ports.json') },
    },
  });
  const rounds = Number(values.rounds);
  const duration = Number(values.duration);
  const warmup = Number(values.warmup);
  const conc = Number(values.concurrency);
  const cases = CASES.filter((c) => (values.cases as string).split(',').includes(c));
  const wrkOpts = { wrk: values.wrk } as Options;
  const work = mkdtempSync(join(tmpdir(), 'keyhold-bench-ports-'));
  setScriptDir(work);
  const baseDir = buildBase(values['base-commit'] as string);
  const builds = { base: baseDir, head: REPO_ROOT } as const;
  const samples: Sample[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const order: ('base' | 'head')[] = round % 2 === 0 ? ['base', 'head'] : ['head', 'base'];
      for (const build of order) {
        const dataDir = join(work, `${build}-${round}`);
        mkdirSync(dataDir, { mode: 0o700 });
        const server = await startServer(
          `keyhold ${build}`,
          [join(builds[build], 'bin', 'keyhold'), 'serve', '--port', '0', '--data-dir', dataDir, '--region', REGION, '--workers', values.workers as string],
          'keyhold ready',
          { ...process.env, KEYHOLD_LOG_LEVEL: 'info', KEYHOLD_MASTER_PASSPHRASE: 'bench-only-passphrase' },
        );
        try {
          const reqs = await prepare(server, dataDir);
          for (const op of cases) {
            if (warmup > 0) await runWrk(wrkOpts, server.port, reqs[op], conc, warmup);
            const ticks = treeTicks(server.pid);
            const { result } = await runWrk(wrkOpts, server.port, reqs[op], conc, duration);
            const cpu = cpuDelta(ticks, treeTicks(server.pid));
            const errors = result.non2xx + result.err_connect + result.err_read + result.err_write + result.err_timeout + result.err_status;
            if (errors > 0) throw new Error(`${build} ${op}: ${errors} failed requests (${result.first_non2xx})`);
            const s: Sample = {
              build, round, op,
              rps: result.requests / (result.duration_us / 1e6),
              p50Ms: result.p50_us / 1000,
              p99Ms: result.p99_us / 1000,
              cpuUs: (cpu.seconds * 1e6) / result.requests,
            };
            samples.push(s);
            log(`round ${round} ${build} ${op}: ${s.rps.toFixed(0)} req/s, p50 ${s.p50Ms.toFixed(2)} ms, p99 ${s.p99Ms.toFixed(2)} ms, CPU ${s.cpuUs.toFixed(0)} µs/req`);
          }
        } finally {
          await stopServer(server);
          rmSync(dataDir, { recursive: true, force: true });
        }
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
    try {
      execFileSync('git', ['-C', REPO_ROOT, 'worktree', 'remove', '--force', baseDir], { stdio: 'ignore' });
    } catch {
      rmSync(baseDir, { recursive: true, force: true });
    }
  }

  const table = cases.map((op) => {
    const of = (b: 'base' | 'head', f: (s: Sample) => number): number => median(samples.filter((s) => s.build === b && s.op === op).map(f));
    const row = {
      op,
      base: { rps: of('base', (s) => s.rps), p50Ms: of('base', (s) => s.p50Ms), p99Ms: of('base', (s) => s.p99Ms), cpuUs: of('base', (s) => s.cpuUs) },
      head: { rps: of('head', (s) => s.rps), p50Ms: of('head', (s) => s.p50Ms), p99Ms: of('head', (s) => s.p99Ms), cpuUs: of('head', (s) => s.cpuUs) },
    };
    return { ...row, ratio: row.head.rps / row.base.rps };
  });
  const lines = [
    `Store ports vs ${values['base-commit']}: --workers ${values.workers}, wrk -c${conc}, ${duration} s x ${rounds} alternating rounds (medians)`,
    'case          base req/s  p50 ms  p99 ms  CPU µs   head req/s  p50 ms  p99 ms  CPU µs   head/base  CPU head/base',
    ...table.map(
      (r) =>
        `${r.op.padEnd(12)} ${r.base.rps.toFixed(0).padStart(10)} ${r.base.p50Ms.toFixed(2).padStart(7)} ${r.base.p99Ms.toFixed(2).padStart(7)} ${r.base.cpuUs.toFixed(0).padStart(7)}` +
        ` ${r.head.rps.toFixed(0).padStart(12)} ${r.head.p50Ms.toFixed(2).padStart(7)} ${r.head.p99Ms.toFixed(2).padStart(7)} ${r.head.cpuUs.toFixed(0).padStart(7)}` +
        `   ${(r.ratio * 100).toFixed(1).padStart(8)}%  ${((100 * r.head.cpuUs) / r.base.cpuUs).toFixed(1).padStart(12)}%`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  mkdirSync(dirname(values.out as string), { recursive: true });
  writeFileSync(values.out as string, `${JSON.stringify({ at: new Date().toISOString(), baseCommit: values['base-commit'], rounds, duration, concurrency: conc, workers: Number(values.workers), table, samples }, null, 2)}\n`);
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      killAllNow();
      process.stderr.write(`bench failed: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}

