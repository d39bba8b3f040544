/**
 * Encrypt with the audit trail on, PostgreSQL vs SQLite, in the same run (issue 14: PostgreSQL
 * at least 70% of SQLite at -c64), with one node and with two.
 *
 * - SQLite: each node is its own deployment (its own data directory and trail): the most
 *   generous baseline, since two SQLite nodes share nothing.
 * - PostgreSQL: every node on one database of a throwaway cluster (test/helpers/postgres.ts,
 *   on this machine, synchronous_commit on): each request's record is committed to PostgreSQL
 *   before its response.
 * - One node runs `--workers N` (default 2); two nodes run `--workers N/2` each, so both shapes
 *   have the same number of serving processes on the machine.
 * - Load: wrk (one thread, -c64 in all; split evenly over the nodes, one wrk per node, run at
 *   once) replaying one pre-signed Encrypt of 64 bytes (bench/run.ts helpers). Rounds alternate
 *   the order of the configurations, so background noise falls on all; medians are reported.
 *   With two nodes req/s is the sum, p50 the mean of the nodes' p50, p99 the larger p99.
 *
 * A benchmark, not a test. Usage:
 *   npx tsc -p tsconfig.json && node dist/bench/postgres-encrypt.js [--rounds 3] [--duration 10] [--concurrency 64] [--workers 2] [--wrk /usr/bin/wrk]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startPostgres, type PgCluster } from '../test/helpers/postgres';
import {
  killAllNow,
  readCredentials,
  runWrk,
  sendOnce,
  setScriptDir,
  signRequest,
  startServer,
  stopServer,
  type Options,
  type PreparedRequest,
  type ServerProcess,
  type WrkResult,
} from './run';

const REPO_ROOT = resolve(__dirname, '..', '..');
const KEYHOLD_BIN = join(REPO_ROOT, 'bin', 'keyhold');
const REGION = 'us-east-1';
const PASSPHRASE = 'benchmark passphrase';
const BODY = (keyId: string): string => JSON.stringify({ KeyId: keyId, Plaintext: Buffer.alloc(64, 0x61).toString('base64') });

type StoreKind = 'sqlite' | 'postgres';

interface Figures {
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

function log(msg: string): void {
  process.stderr.write(`[postgres-encrypt] ${msg}\n`);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
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

/** Starts `nodes` nodes of one deployment; the first provisions the administrator. */
async function startDeployment(kind: StoreKind, nodes: number, workers: number, work: string, pg: PgCluster, tag: string): Promise<{ servers: ServerProcess[]; dataDirs: string[] }> {
  const database = kind === 'postgres' ? await pg.createDatabase(`keyhold_bench_${tag}`) : undefined;
  const servers: ServerProcess[] = [];
  const dataDirs: string[] = [];
  for (let i = 0; i < nodes; i++) {
    const dataDir = join(work, `${tag}-node${i}`);
    const store = database === undefined ? [] : ['--store', pg.url(database), '--store-password-file', pg.passwordFile];
    const env = { ...process.env, KEYHOLD_MASTER_PASSPHRASE: PASSPHRASE, PGPASSWORD: '', PGPASSFILE: '/nonexistent' };
    servers.push(
      await startServer(`${tag}-${i}`, [KEYHOLD_BIN, 'serve', '--port', '0', '--data-dir', dataDir, '--region', REGION, '--workers', String(workers), ...store], 'keyhold ready', env),
    );
    dataDirs.push(dataDir);
  }
  return { servers, dataDirs };
}

/** One measurement of one configuration: fresh nodes, a key each, a warmup, then wrk on every node at once. */
async function measure(kind: StoreKind, nodes: number, workers: number, conc: number, durationS: number, opts: Options, work: string, pg: PgCluster, tag: string): Promise<Figures> {
  const { servers, dataDirs } = await startDeployment(kind, nodes, workers, work, pg, tag);
  try {
    const requests: PreparedRequest[] = [];
    for (const [i, s] of servers.entries()) {
      // SQLite: each node has its own administrator; PostgreSQL: the first node's serves all.
      const credentials = readCredentials(kind === 'sqlite' ? (dataDirs[i] as string) : (dataDirs[0] as string));
      const create = await sendOnce(s.port, await signRequest(credentials, s.port, 'CreateKey', '{}'));
      if (create.status !== 200) throw new Error(`CreateKey on ${tag}-${i}: HTTP ${create.status} ${create.body.slice(0, 200)}`);
      const keyId = (JSON.parse(create.body) as { KeyMetadata: { KeyId: string } }).KeyMetadata.KeyId;
      const req = await signRequest(credentials, s.port, 'Encrypt', BODY(keyId));
      const check = await sendOnce(s.port, req);
      if (check.status !== 200) throw new Error(`Encrypt on ${tag}-${i}: HTTP ${check.status} ${check.body.slice(0, 200)}`);
      requests.push(req);
    }
    const per = Math.max(1, Math.round(conc / nodes));
    await Promise.all(servers.map((s, i) => runWrk(opts, s.port, requests[i]!, per, 2)));
    const results = await Promise.all(servers.map((s, i) => runWrk(opts, s.port, requests[i]!, per, durationS)));
    for (const [i, r] of results.entries()) assertClean(`${tag}-${i}`, r.result);
    return {
      rps: results.reduce((a, r) => a + rate(r.result), 0),
      p50Ms: results.reduce((a, r) => a + r.result.p50_us, 0) / results.length / 1000,
      p99Ms: Math.max(...results.map((r) => r.result.p99_us)) / 1000,
    };
  } finally {
    for (const s of servers) await stopServer(s);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      duration: { type: 'string', default: '10' },
      concurrency: { type: 'string', default: '64' },
      workers: { type: 'string', default: '2' },
      wrk: { type: 'string', default: '/usr/bin/wrk' },
    },
  });
  const rounds = Number(values.rounds);
  const durationS = Number(values.duration);
  const conc = Number(values.concurrency);
  const workers = Number(values.workers);
  const opts = { wrk: values.wrk } as Options;
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const work = mkdtempSync(join(tmpdir(), 'keyhold-pg-encrypt-'));
  setScriptDir(work);
  const pg = await startPostgres();
  const configs: [StoreKind, number][] = [['sqlite', 1], ['postgres', 1], ['sqlite', 2], ['postgres', 2]];
  const figures = new Map<string, Figures[]>();
  try {
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? configs : [...configs].reverse();
      for (const [kind, nodes] of order) {
        const perNode = nodes === 1 ? workers : Math.max(1, Math.floor(workers / nodes));
        const tag = `r${round}_${kind}_${nodes}`;
        log(`round ${round + 1}/${rounds}: ${kind}, ${nodes} node(s) x ${perNode} worker(s), -c${conc} ${durationS}s`);
        const f = await measure(kind, nodes, perNode, conc, durationS, opts, work, pg, tag);
        log(`  ${f.rps.toFixed(0)} req/s, p50 ${f.p50Ms.toFixed(1)} ms, p99 ${f.p99Ms.toFixed(1)} ms`);
        const key = `${kind}/${nodes}`;
        figures.set(key, [...(figures.get(key) ?? []), f]);
      }
    }
  } finally {
    await pg.destroy();
    rmSync(work, { recursive: true, force: true });
  }
  console.log(`\nEncrypt 64 B, trail on, -c${conc}, ${rounds} alternating rounds of ${durationS} s (medians; per-round req/s in brackets)`);
  console.log('| Nodes | Store | req/s | p50 ms | p99 ms | PostgreSQL / SQLite |');
  console.log('|---|---|---|---|---|---|');
  for (const nodes of [1, 2]) {
    const sqlite = figures.get(`sqlite/${nodes}`) ?? [];
    for (const kind of ['sqlite', 'postgres'] as const) {
      const fs = figures.get(`${kind}/${nodes}`) ?? [];
      if (fs.length === 0) continue;
      const rps = median(fs.map((f) => f.rps));
      const ratio = kind === 'postgres' && sqlite.length > 0 ? `${((100 * rps) / median(sqlite.map((f) => f.rps))).toFixed(0)}%` : '';
      console.log(
        `| ${nodes} | ${kind} | ${rps.toFixed(0)} [${fs.map((f) => f.rps.toFixed(0)).join(', ')}] | ${median(fs.map((f) => f.p50Ms)).toFixed(1)} | ${median(fs.map((f) => f.p99Ms)).toFixed(1)} | ${ratio} |`,
      );
    }
  }
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    killAllNow();
    process.exit(130);
  });
}
main().then(
  () => process.exit(0),
  (e: unknown) => {
    killAllNow();
    process.stderr.write(`bench failed: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  },
);
