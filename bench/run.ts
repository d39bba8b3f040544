/**
 * Keyhold throughput benchmark (issue 2, "Performance"). One run:
 *
 *  1. starts a bare single-process `node:http` server (bench/bare-server.ts) as the baseline;
 *  2. starts `bin/keyhold serve` on a fresh temporary data directory, creates one symmetric key
 *     with the AWS SDK and makes a ciphertext for the Decrypt case;
 *  3. for each case (Encrypt 64 B, Encrypt 4 KiB, Decrypt of a 64 B ciphertext, GenerateDataKey
 *     AES_256) and each concurrency, pre-signs ONE request with @smithy/signature-v4 (headers
 *     shaped like @aws-sdk/client-kms's), checks with a plain HTTP request that the server
 *     answers it with 200, and replays it with `wrk -t1 -c<conc> -d<duration> --latency`; a
 *     generated Lua script sends exactly those bytes, counts non-2xx responses and socket errors,
 *     and any of either fails the case;
 *  4. samples utime+stime from /proc for the server's whole process tree (Keyhold's primary and
 *     its cluster workers) before and after each run: server CPU µs per request;
 *  5. replays the same Encrypt 64 B request bytes against the bare server at each concurrency,
 *     before and after the Keyhold cases (ratios use the mean of the two);
 *  6. prints the table and writes bench/results/latest.json;
 *  7. measures latency below peak for Encrypt 64 B: a closed loop with few connections, and a
 *     paced run at about half of the peak rate (wrk's delay() hook; wrk has no wrk2-style
 *     constant-rate mode, see the printed notes for what exactly is measured).
 *
 * The load comes from wrk (C, one thread), never from node; its own CPU use is reported so a
 * saturated load generator is visible. Servers run in their own process groups and are stopped
 * in `finally`, also on Ctrl-C.
 *
 * Usage: npm run bench -- [--duration 10] [--workers 2] [--concurrency 16,64] [--warmup 2]
 *        [--low-concurrency 4] [--cases encrypt-64,decrypt] [--no-half-load]
 *        [--keyhold-node-arg=--cpu-prof ...] [--out bench/results/latest.json]
 * Profiling: `--workers 1 --cases encrypt-64 --keyhold-node-arg=--cpu-prof
 * --keyhold-node-arg=--cpu-prof-dir=DIR`, then `node dist/bench/profile-summary.js DIR/<file>`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateKeyCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

/** Repository root: this file runs as dist/bench/run.js. */
const REPO_ROOT = resolve(__dirname, '..', '..');
const KEYHOLD_BIN = join(REPO_ROOT, 'bin', 'keyhold');
const BARE_SERVER = join(__dirname, 'bare-server.js');
const REGION = 'us-east-1';
const JSON_TYPE = 'application/x-amz-json-1.1';
/** Signatures are accepted ±5 minutes; a replayed request must finish well inside that. */
const MAX_SIGNED_REPLAY_S = 240;
/**
 * Seconds of unmeasured Encrypt load a fresh Keyhold server gets before anything is measured.
 * Its CPU per request keeps falling for the first ~20–30 s of load while V8 optimises the request
 * path (2 workers, -c16, trail on, 5 s windows on one server: 454 → 398 → 404 → 411 → 327 → 312
 * → 284 → 252 µs per request, 3.7k → 6.2k req/s; 2026-12-07, issue 11): a 1–2 s warm-up measured a
 * server still compiling, not the steady state a long-running server is in.
 */
export const DEFAULT_SERVER_WARMUP_S = 25;

/** Unmeasured load on a fresh server until its request path is optimised (DEFAULT_SERVER_WARMUP_S). */
export async function warmUpServer(opts: Options, port: number, req: PreparedRequest, connections: number, seconds: number): Promise<void> {
  if (seconds <= 0) return;
  const w = await runWrk(opts, port, req, connections, seconds);
  if (w.result.non2xx > 0) throw new Error(`server warm-up: ${w.result.non2xx} non-2xx responses (first: ${w.result.first_non2xx})`);
}

// ---------------------------------------------------------------------------------------------
// Options

export interface Options {
  durationS: number;
  warmupS: number;
  /** Unmeasured Encrypt load on a fresh Keyhold server before anything is measured (steady state). */
  serverWarmupS: number;
  workers: number;
  concurrency: number[];
  lowConcurrency: number;
  halfLoad: boolean;
  cases: string[] | undefined;
  keyholdNodeArgs: string[];
  /** Keyhold built in-process without its audit trail (bench/keyhold-without-trail.ts). */
  noTrail: boolean;
  out: string;
  wrk: string;
}

const USAGE = `Usage: node dist/bench/run.js [options]
  --duration S          seconds per measured wrk run (default 10; at most ${MAX_SIGNED_REPLAY_S})
  --warmup S            unmeasured wrk run before each case (default 2; 0 to skip)
  --server-warmup S     unmeasured Encrypt load on the fresh Keyhold server first (default ${DEFAULT_SERVER_WARMUP_S}; 0 to skip)
  --workers N           keyhold serve --workers N (default 2)
  --concurrency LIST    comma-separated wrk connection counts (default 16,64)
  --low-concurrency N   connections for the low-load latency run (default 4)
  --no-half-load        skip the latency-below-peak runs
  --cases LIST          only these cases: encrypt-64,encrypt-4k,decrypt,generate-data-key
  --keyhold-node-arg A  extra node flag for the Keyhold processes (repeatable), e.g. --cpu-prof
  --no-trail            Keyhold built in-process without its audit trail (to measure the trail's cost)
  --out FILE            JSON results (default bench/results/latest.json)
  --wrk PATH            wrk binary (default wrk)`;

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      'server-warmup': { type: 'string', default: String(DEFAULT_SERVER_WARMUP_S) },
      workers: { type: 'string', default: '2' },
      concurrency: { type: 'string', default: '16,64' },
      'low-concurrency': { type: 'string', default: '4' },
      'no-half-load': { type: 'boolean', default: false },
      cases: { type: 'string' },
      'keyhold-node-arg': { type: 'string', multiple: true, default: [] },
      'no-trail': { type: 'boolean', default: false },
      out: { type: 'string', default: join(REPO_ROOT, 'bench', 'results', 'latest.json') },
      wrk: { type: 'string', default: 'wrk' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    process.exit(0);
  }
  const seconds = (name: string, v: string, min: number): number => {
    const n = Number(v.replace(/s$/, ''));
    if (!Number.isFinite(n) || n < min || n > MAX_SIGNED_REPLAY_S || !Number.isInteger(n)) {
      throw new Error(`--${name} must be a whole number of seconds from ${min} to ${MAX_SIGNED_REPLAY_S}`);
    }
    return n;
  };
  const positive = (name: string, v: string): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
    return n;
  };
  const cases = values.cases?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const c of cases ?? []) {
    if (!CASES.some((k) => k.id === c)) throw new Error(`unknown case ${c}; known: ${CASES.map((k) => k.id).join(', ')}`);
  }
  const durationS = seconds('duration', values.duration, 1);
  const warmupS = seconds('warmup', values.warmup, 0);
  return {
    durationS,
    warmupS,
    serverWarmupS: seconds('server-warmup', values['server-warmup'], 0),
    workers: positive('workers', values.workers),
    concurrency: values.concurrency.split(',').map((s) => positive('concurrency', s.trim())),
    lowConcurrency: positive('low-concurrency', values['low-concurrency']),
    halfLoad: !values['no-half-load'],
    cases,
    keyholdNodeArgs: values['keyhold-node-arg'],
    noTrail: values['no-trail'],
    out: resolve(values.out),
    wrk: values.wrk,
  };
}

// ---------------------------------------------------------------------------------------------
// Child processes

export interface ServerProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly port: number;
  /** The last 64 KiB of stdout+stderr. */
  output(): string;
}

const running = new Set<ServerProcess>();
/** wrk processes in flight (killed with the servers on Ctrl-C). */
const loadGenerators = new Set<ChildProcess>();

/**
 * Starts a server in its own process group (so its cluster workers can be signalled with it)
 * and waits for the JSON log line `readyMsg`, returning its `port`.
 */
export async function startServer(name: string, args: string[], readyMsg: string, env: NodeJS.ProcessEnv = process.env): Promise<ServerProcess> {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  const append = (d: Buffer): void => {
    out += d.toString();
    if (out.length > 65_536) out = out.slice(-65_536);
  };
  // Always drain the pipes: a server blocked on a full stdout pipe would stall the benchmark.
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  let pending = '';
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 60 s:\n${out}`)), 60_000);
    const onData = (d: Buffer): void => {
      pending += d.toString();
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (!line.includes(readyMsg)) continue;
        try {
          const rec = JSON.parse(line) as { msg?: string; port?: number };
          if (rec.msg === readyMsg && typeof rec.port === 'number') {
            clearTimeout(timer);
            child.stdout!.off('data', onData);
            child.off('exit', onExit);
            resolvePort(rec.port);
            return;
          }
        } catch {
          /* not a JSON line */
        }
      }
    };
    const onExit = (code: number | null, signal: string | null): void => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before it was ready:\n${out}`));
    };
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  const proc: ServerProcess = { name, child, pid: child.pid!, port, output: () => out };
  running.add(proc);
  return proc;
}

/** SIGTERM to the server's process group, SIGKILL after `graceMs`; resolves when the leader exited. */
export async function stopServer(proc: ServerProcess, graceMs = 20_000): Promise<void> {
  running.delete(proc);
  const signalGroup = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-proc.pid, sig);
    } catch {
      /* already gone */
    }
  };
  if (proc.child.exitCode === null && proc.child.signalCode === null) {
    const exited = new Promise<void>((r) => proc.child.once('exit', () => r()));
    signalGroup('SIGTERM');
    const timer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
  // Workers that outlived their primary (they should not) go too.
  signalGroup('SIGKILL');
}

/** Synchronous last resort for signals: kill every group we started. */
export function killAllNow(): void {
  for (const w of loadGenerators) w.kill('SIGKILL');
  loadGenerators.clear();
  for (const p of running) {
    try {
      process.kill(-p.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  running.clear();
}

// ---------------------------------------------------------------------------------------------
// Server CPU from /proc

const CLK_TCK = ((): number => {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
})();

interface ProcStat {
  ppid: number;
  /** utime + stime, in clock ticks. */
  ticks: number;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid ..." — comm may contain spaces and parentheses.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // After comm: [0]=state(3) [1]=ppid(4) ... [11]=utime(14) [12]=stime(15)
  return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
}

/** utime+stime ticks of `root` and all its descendants, by pid. */
export function treeTicks(root: number): Map<number, number> {
  const stats = new Map<number, ProcStat>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = readStat(Number(entry));
    if (s !== undefined) stats.set(Number(entry), s);
  }
  const children = new Map<number, number[]>();
  for (const [pid, s] of stats) {
    const list = children.get(s.ppid);
    if (list === undefined) children.set(s.ppid, [pid]);
    else list.push(pid);
  }
  const out = new Map<number, number>();
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    const s = stats.get(pid);
    if (s === undefined) continue;
    out.set(pid, s.ticks);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/**
 * Machine-wide CPU seconds so far (/proc/stat "cpu" line): process time (user, nice, system),
 * interrupt time (irq, softirq: on loopback this is mostly TCP delivery for both ends, which
 * no process is charged for) and hypervisor steal.
 */
function systemCpu(): { process: number; irq: number; steal: number } {
  const line = readFileSync('/proc/stat', 'latin1').split('\n')[0]!;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice (guest time is inside user)
  const at = (i: number): number => f[i] ?? 0;
  return { process: (at(0) + at(1) + at(2)) / CLK_TCK, irq: (at(5) + at(6)) / CLK_TCK, steal: at(7) / CLK_TCK };
}

/** CPU seconds the tree used between two samples; processes that vanished are reported. */
export function cpuDelta(before: Map<number, number>, after: Map<number, number>): { seconds: number; processes: number; vanished: number } {
  let ticks = 0;
  for (const [pid, t] of after) ticks += t - (before.get(pid) ?? 0);
  let vanished = 0;
  for (const pid of before.keys()) if (!after.has(pid)) vanished++;
  return { seconds: ticks / CLK_TCK, processes: after.size, vanished };
}

// ---------------------------------------------------------------------------------------------
// Signed requests

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface PreparedRequest {
  /** Header name -> value, exactly as sent (names in the SDK's lowercase). */
  headers: Record<string, string>;
  body: string;
}

export function readCredentials(dataDir: string): Credentials {
  const text = readFileSync(join(dataDir, 'credentials'), 'utf8');
  const id = /aws_access_key_id\s*=\s*(\S+)/.exec(text)?.[1];
  const secret = /aws_secret_access_key\s*=\s*(\S+)/.exec(text)?.[1];
  if (id === undefined || secret === undefined) throw new Error('the credentials file has no default profile');
  return { accessKeyId: id, secretAccessKey: secret };
}

/**
 * Signs one awsJson1_1 request the way @aws-sdk/client-kms does: the same header set (the SDK
 * signs amz-sdk-*, content-length, content-type, host, x-amz-content-sha256, x-amz-date,
 * x-amz-target and x-amz-user-agent; user-agent is unsigned), so the server does the same
 * canonicalisation work as for a real client.
 */
export async function signRequest(credentials: Credentials, port: number, operation: string, body: string): Promise<PreparedRequest> {
  const signer = new SignatureV4({ credentials, region: REGION, service: 'kms', sha256: Sha256 });
  const request = new HttpRequest({
    method: 'POST',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port,
    path: '/',
    headers: {
      'content-type': JSON_TYPE,
      'x-amz-target': `TrentService.${operation}`,
      'content-length': String(Buffer.byteLength(body)),
      'x-amz-user-agent': 'aws-sdk-js/3.1164.0',
      'user-agent': 'aws-sdk-js/3.1164.0 ua/2.1 lang/js md/nodejs api/kms keyhold-bench',
      host: `127.0.0.1:${port}`,
      'amz-sdk-invocation-id': '6f0c6b1e-7c1a-4d43-9d4e-2a8f3f1b0c11',
      'amz-sdk-request': 'attempt=1; max=1',
    },
    body,
  });
  const signed = await signer.sign(request);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers)) headers[k] = String(v);
  return { headers, body };
}

/** One plain HTTP exchange with exactly the prepared headers and body. */
export function sendOnce(port: number, req: PreparedRequest): Promise<{ status: number; body: string }> {
  return new Promise((resolveResponse, reject) => {
    const r = httpRequest(
      { host: '127.0.0.1', port, method: 'POST', path: '/', headers: req.headers, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolveResponse({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    r.setTimeout(10_000, () => r.destroy(new Error('verification request timed out')));
    r.end(req.body);
  });
}

// ---------------------------------------------------------------------------------------------
// wrk

/** A Lua string literal for arbitrary bytes (decimal escapes outside printable ASCII). */
function luaString(s: string): string {
  let out = '"';
  for (const b of Buffer.from(s, 'utf8')) {
    if (b === 0x22) out += '\\"';
    else if (b === 0x5c) out += '\\\\';
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += '\\' + String(b).padStart(3, '0');
  }
  return out + '"';
}

/**
 * The wrk script: sends exactly `req` on every request; counts responses outside 2xx per thread
 * (remembering the first one's status and body start) and reports everything from done() as one
 * JSON line. `delayMs`, when given, paces each connection: wrk waits a random 0..2×mean (integer
 * ms, dithered to hit the mean) before writing the next request; latency is timed from the write.
 */
function wrkScript(req: PreparedRequest, delayMs?: number): string {
  const lines = [
    '-- generated by bench/run.ts: replays one pre-signed request',
    'wrk.method = "POST"',
    'wrk.path = "/"',
    `wrk.body = ${luaString(req.body)}`,
    'wrk.headers = {}',
  ];
  // wrk.format() adds "Host" unless present and always sets "Content-Length" under exactly those
  // spellings; use them, or the request would carry each header twice.
  const WRK_NAMES: Record<string, string> = { host: 'Host', 'content-length': 'Content-Length' };
  for (const [k, v] of Object.entries(req.headers)) lines.push(`wrk.headers[${luaString(WRK_NAMES[k] ?? k)}] = ${luaString(v)}`);
  lines.push(`
non2xx = 0
first_bad = ""
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if non2xx == 1 then
      first_bad = tostring(status) .. " " .. string.sub(tostring(body or ""), 1, 300)
    end
  end
end
`);
  if (delayMs !== undefined) {
    lines.push(`
local mean_ms = ${delayMs.toFixed(4)}
function delay()
  -- exponential-ish spacing would need sub-ms timers; use a dithered uniform 0..2*mean
  local d = math.random() * 2 * mean_ms
  local base = math.floor(d)
  if math.random() < d - base then base = base + 1 end
  return base
end
`);
  }
  lines.push(`
local function jsonstr(s)
  return '"' .. string.gsub(s, '[%c"\\\\]', function(c) return string.format("\\\\u%04x", string.byte(c)) end) .. '"'
end

function done(summary, latency, requests)
  local bad, first = 0, ""
  for _, t in ipairs(threads) do
    bad = bad + (t:get("non2xx") or 0)
    local f = t:get("first_bad")
    if first == "" and f ~= nil then first = f end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"non2xx":%d,"first_non2xx":%s,' ..
    '"err_connect":%d,"err_read":%d,"err_write":%d,"err_timeout":%d,"err_status":%d,' ..
    '"lat_mean_us":%.1f,"lat_stdev_us":%.1f,"lat_max_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,"wrk_cpu_s":%.3f}\\n',
    summary.requests, summary.duration, summary.bytes, bad, jsonstr(first),
    e.connect, e.read, e.write, e.timeout, e.status,
    latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    os.clock()))
end
`);
  return lines.join('\n');
}

export interface WrkResult {
  requests: number;
  duration_us: number;
  bytes: number;
  non2xx: number;
  first_non2xx: string;
  err_connect: number;
  err_read: number;
  err_write: number;
  err_timeout: number;
  err_status: number;
  lat_mean_us: number;
  lat_stdev_us: number;
  lat_max_us: number;
  p50_us: number;
  p90_us: number;
  p99_us: number;
  p999_us: number;
  wrk_cpu_s: number;
}

let scriptDir = '';
let scriptSeq = 0;

/** Where runWrk writes its Lua scripts (for other benchmarks that import these helpers). */
export function setScriptDir(dir: string): void {
  scriptDir = dir;
}

export async function runWrk(opts: Options, port: number, req: PreparedRequest, connections: number, seconds: number, delayMs?: number): Promise<{ result: WrkResult; raw: string; args: string[] }> {
  const script = join(scriptDir, `case-${++scriptSeq}.lua`);
  writeFileSync(script, wrkScript(req, delayMs));
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '--timeout', '10s', '-s', script, `http://127.0.0.1:${port}/`];
  const child = spawn(opts.wrk, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  loadGenerators.add(child);
  child.once('exit', () => loadGenerators.delete(child));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((r, reject) => {
    child.once('error', reject);
    child.once('exit', (c) => r(c));
  });
  const line = stdout.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
  if (code !== 0 || line === undefined) throw new Error(`wrk ${args.join(' ')} failed (exit ${code}):\n${stdout}\n${stderr}`);
  return { result: JSON.parse(line.slice('BENCH_RESULT '.length)) as WrkResult, raw: stdout, args };
}

// ---------------------------------------------------------------------------------------------
// Cases

export interface CaseDef {
  readonly id: string;
  readonly label: string;
  readonly operation: string;
  body(keyId: string, ciphertext: string): string;
  /** Throws unless a 200 body is the right answer. */
  check(json: Record<string, unknown>): void;
}

const PLAINTEXT_64 = Buffer.alloc(64, 0x61);
const PLAINTEXT_4K = Buffer.alloc(4096, 0x62);

function expectBlob(json: Record<string, unknown>, member: string, length?: number): Buffer {
  const v = json[member];
  if (typeof v !== 'string') throw new Error(`response has no ${member}`);
  const b = Buffer.from(v, 'base64');
  if (length !== undefined && b.length !== length) throw new Error(`${member} is ${b.length} bytes, expected ${length}`);
  return b;
}

export const CASES: readonly CaseDef[] = [
  {
    id: 'encrypt-64',
    label: 'Encrypt 64 B',
    operation: 'Encrypt',
    body: (keyId) => JSON.stringify({ KeyId: keyId, Plaintext: PLAINTEXT_64.toString('base64') }),
    check: (j) => void expectBlob(j, 'CiphertextBlob'),
  },
  {
    id: 'encrypt-4k',
    label: 'Encrypt 4 KiB',
    operation: 'Encrypt',
    body: (keyId) => JSON.stringify({ KeyId: keyId, Plaintext: PLAINTEXT_4K.toString('base64') }),
    check: (j) => void expectBlob(j, 'CiphertextBlob'),
  },
  {
    id: 'decrypt',
    label: 'Decrypt 64 B',
    operation: 'Decrypt',
    body: (_keyId, ciphertext) => JSON.stringify({ CiphertextBlob: ciphertext }),
    check: (j) => {
      if (!expectBlob(j, 'Plaintext').equals(PLAINTEXT_64)) throw new Error('Decrypt returned the wrong plaintext');
    },
  },
  {
    id: 'generate-data-key',
    label: 'GenerateDataKey AES_256',
    operation: 'GenerateDataKey',
    body: (keyId) => JSON.stringify({ KeyId: keyId, KeySpec: 'AES_256' }),
    check: (j) => {
      expectBlob(j, 'Plaintext', 32);
      expectBlob(j, 'CiphertextBlob');
    },
  },
];

interface Row {
  server: 'bare' | 'keyhold';
  case: string;
  caseLabel: string;
  concurrency: number;
  requests: number;
  seconds: number;
  rps: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  p999_ms: number;
  max_ms: number;
  serverCpuSeconds: number;
  /** Server CPU seconds per wall second: how many cores the server kept busy. */
  serverCores: number;
  cpuUsPerRequest: number;
  /** wrk's own CPU seconds per wall second (1.0 = its one thread saturated). */
  wrkCores: number;
  /**
   * CPU per wall second used by other processes on the machine during the run (process time
   * minus server minus wrk, plus hypervisor steal): well above 0 means the figures are
   * disturbed by other work.
   */
  otherCores: number;
  /** Interrupt (mostly softirq network) CPU per wall second, charged to no process. */
  irqCores: number;
  /**
   * Audit records per durable commit during the run (/metrics' keyhold_audit_records_total over
   * keyhold_audit_commits_total): what the trail's cost per request follows. Keyhold with its trail only.
   */
  recordsPerCommit?: number;
  /** Mean req/s of the bare server at this concurrency (runs before and after). */
  bareRps?: number;
  ratioToBare?: number;
  wrkArgs: string;
}

/** Verifies, optionally warms up, then measures one (server, request, concurrency) point. */
async function measure(
  opts: Options,
  server: ServerProcess,
  kind: 'bare' | 'keyhold',
  def: CaseDef,
  req: PreparedRequest,
  connections: number,
  seconds: number,
  delayMs?: number,
): Promise<Row> {
  const auditBefore = kind === 'keyhold' ? await auditCounts(server.port) : undefined;
  const sysBefore = systemCpu();
  const before = treeTicks(server.pid);
  const { result: w, args } = await runWrk(opts, server.port, req, connections, seconds, delayMs);
  const after = treeTicks(server.pid);
  const sysAfter = systemCpu();
  const auditAfter = auditBefore === undefined ? undefined : await auditCounts(server.port);
  const commits = auditBefore === undefined || auditAfter === undefined ? 0 : auditAfter.commits - auditBefore.commits;
  const what = `${kind} ${def.label} at -c${connections}`;
  const socketErrors = w.err_connect + w.err_read + w.err_write + w.err_timeout;
  if (w.non2xx > 0 || w.err_status > 0) {
    throw new Error(`${what}: ${w.non2xx} non-2xx responses (first: ${w.first_non2xx}); the numbers would be fake`);
  }
  if (socketErrors > 0) {
    throw new Error(`${what}: socket errors connect=${w.err_connect} read=${w.err_read} write=${w.err_write} timeout=${w.err_timeout}`);
  }
  if (w.requests === 0) throw new Error(`${what}: no requests completed`);
  const cpu = cpuDelta(before, after);
  if (cpu.vanished > 0) process.stderr.write(`warning: ${cpu.vanished} server process(es) exited during ${what}; CPU figure is low\n`);
  const wall = w.duration_us / 1e6;
  return {
    server: kind,
    case: def.id,
    caseLabel: def.label,
    concurrency: connections,
    requests: w.requests,
    seconds: wall,
    rps: w.requests / wall,
    p50_ms: w.p50_us / 1000,
    p90_ms: w.p90_us / 1000,
    p99_ms: w.p99_us / 1000,
    p999_ms: w.p999_us / 1000,
    max_ms: w.lat_max_us / 1000,
    serverCpuSeconds: cpu.seconds,
    serverCores: cpu.seconds / wall,
    cpuUsPerRequest: (cpu.seconds * 1e6) / w.requests,
    wrkCores: w.wrk_cpu_s / wall,
    otherCores: Math.max(0, sysAfter.process - sysBefore.process - cpu.seconds - w.wrk_cpu_s + (sysAfter.steal - sysBefore.steal)) / wall,
    irqCores: (sysAfter.irq - sysBefore.irq) / wall,
    ...(commits > 0 ? { recordsPerCommit: (auditAfter!.records - auditBefore!.records) / commits } : {}),
    wrkArgs: ['wrk', ...args.slice(0, -2), '<script>', args[args.length - 1]].join(' '),
  };
}

/** The audit trail's running counts from the server's /metrics (summed over workers); undefined without a trail. */
async function auditCounts(port: number): Promise<{ commits: number; records: number } | undefined> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  if (!res.ok) return undefined;
  const text = await res.text();
  const sum = (name: string): number | undefined => {
    let n: number | undefined;
    for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)$`, 'gm'))) n = (n ?? 0) + Number(m[1]);
    return n;
  };
  const commits = sum('keyhold_audit_commits_total');
  const records = sum('keyhold_audit_records_total');
  return commits === undefined || records === undefined ? undefined : { commits, records };
}

/** The plain-HTTP pre-flight: same headers, same body, must be a 200 with the right content. */
export async function verify(port: number, def: CaseDef, req: PreparedRequest, kind: string): Promise<void> {
  const res = await sendOnce(port, req);
  if (res.status !== 200) {
    throw new Error(`pre-flight ${kind} ${def.label}: HTTP ${res.status} ${res.body.slice(0, 300)}`);
  }
  if (kind === 'keyhold') def.check(JSON.parse(res.body) as Record<string, unknown>);
}

// ---------------------------------------------------------------------------------------------
// Output

function fmt(n: number, digits: number): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function table(rows: Row[]): string {
  const head = ['server', 'case', 'conc', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req', 'srv cores', 'wrk cores', 'other', 'rec/commit', 'vs bare'];
  const body = rows.map((r) => [
    r.server,
    r.caseLabel,
    String(r.concurrency),
    fmt(r.rps, 0),
    fmt(r.p50_ms, 2),
    fmt(r.p99_ms, 2),
    fmt(r.cpuUsPerRequest, 1),
    fmt(r.serverCores, 2),
    fmt(r.wrkCores, 2),
    fmt(r.otherCores, 2),
    r.recordsPerCommit === undefined ? '' : fmt(r.recordsPerCommit, 1),
    r.ratioToBare === undefined ? '' : `${fmt(r.ratioToBare * 100, 1)}%`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const left = new Set([0, 1]);
  const line = (cells: string[]): string =>
    cells.map((c, i) => (left.has(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------------------------------------
// Main

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  try {
    execFileSync(opts.wrk, ['-v'], { stdio: 'ignore' });
  } catch (e) {
    // `wrk -v` exits 1 after printing its version; only a missing binary throws ENOENT.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`wrk not found (${opts.wrk}); install the Debian package wrk`);
  }
  const wrkVersion = ((): string => {
    try {
      return execFileSync(opts.wrk, ['-v'], { encoding: 'utf8' }).split('\n')[0]!.trim();
    } catch (e) {
      return String((e as { stdout?: string }).stdout ?? '').split('\n')[0]!.trim();
    }
  })();
  const selected = CASES.filter((c) => opts.cases === undefined || opts.cases.includes(c.id));
  const work = mkdtempSync(join(tmpdir(), 'keyhold-bench-'));
  scriptDir = work;
  const dataDir = join(work, 'data');
  mkdirSync(dataDir, { mode: 0o700 });
  const rows: Row[] = [];
  const halfLoad: Record<string, unknown>[] = [];
  let bare: ServerProcess | undefined;
  let keyhold: ServerProcess | undefined;
  const started = new Date();
  try {
    bare = await startServer('bare server', [BARE_SERVER, '--port', '0'], 'bare ready');
    log(`bare node:http server pid ${bare.pid} on port ${bare.port}`);
    const entry = opts.noTrail ? join(__dirname, 'keyhold-without-trail.js') : KEYHOLD_BIN;
    const keyholdArgs = [...opts.keyholdNodeArgs, entry, 'serve', '--port', '0', '--data-dir', dataDir, '--region', REGION, '--workers', String(opts.workers)];
    keyhold = await startServer('keyhold', keyholdArgs, 'keyhold ready');
    log(`keyhold pid ${keyhold.pid} (--workers ${opts.workers}) on port ${keyhold.port}, data dir ${dataDir}`);
    await sleep(200);

    const credentials = readCredentials(dataDir);
    // The SDK's notice that it will need Node 22 from 2027 is noise in the benchmark's output.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const client = new KMSClient({ endpoint: `http://127.0.0.1:${keyhold.port}`, region: REGION, credentials, maxAttempts: 1 });
    const created = await client.send(new CreateKeyCommand({ Description: 'keyhold bench' }));
    const keyId = created.KeyMetadata?.KeyId;
    if (keyId === undefined) throw new Error('CreateKey returned no KeyId');
    const enc = await client.send(new EncryptCommand({ KeyId: keyId, Plaintext: PLAINTEXT_64 }));
    if (enc.CiphertextBlob === undefined) throw new Error('Encrypt returned no CiphertextBlob');
    const ciphertext = Buffer.from(enc.CiphertextBlob).toString('base64');
    client.destroy();
    log(`key ${keyId}; 64 B ciphertext is ${enc.CiphertextBlob.length} bytes`);

    // Baseline: the very request bytes of the Encrypt 64 B case (only Host differs).
    const encrypt64 = CASES[0]!;
    // Every wrk run gets a request signed (and checked) right before it, so each replay stays
    // well inside the ±5 minute window whatever the durations.
    const signed = async (def: CaseDef): Promise<PreparedRequest> => {
      const req = await signRequest(credentials, keyhold!.port, def.operation, def.body(keyId, ciphertext));
      await verify(keyhold!.port, def, req, 'keyhold');
      return req;
    };
    if (opts.serverWarmupS > 0) {
      log(`keyhold: server warm-up, Encrypt 64 B -c${Math.max(...opts.concurrency)} for ${opts.serverWarmupS}s (unmeasured)`);
      await warmUpServer(opts, keyhold.port, await signed(encrypt64), Math.max(...opts.concurrency), opts.serverWarmupS);
    }
    const bareReq = await signRequest(credentials, bare.port, encrypt64.operation, encrypt64.body(keyId, ciphertext));
    await verify(bare.port, encrypt64, bareReq, 'bare');
    // Measured before and after the Keyhold cases; ratios use the mean, so a machine that got
    // busier or quieter during the run shows up as a before/after gap instead of a skewed ratio.
    const bareRps = new Map<number, number[]>();
    const runBare = async (phase: 'before' | 'after'): Promise<void> => {
      const bareDef: CaseDef = { ...encrypt64, id: `bare-${phase}`, label: `fixed JSON (${phase})` };
      for (const c of opts.concurrency) {
        log(`bare server (${phase}), -c${c}, ${opts.durationS}s`);
        const row = await measure(opts, bare!, 'bare', bareDef, bareReq, c, opts.durationS);
        bareRps.set(c, [...(bareRps.get(c) ?? []), row.rps]);
        rows.push(row);
      }
    };
    if (opts.warmupS > 0) await runWrk(opts, bare.port, bareReq, opts.concurrency[0]!, opts.warmupS);
    await runBare('before');

    for (const def of selected) {
      if (opts.warmupS > 0) {
        log(`keyhold ${def.label}: warmup ${opts.warmupS}s`);
        const w = await runWrk(opts, keyhold.port, await signed(def), opts.concurrency[0]!, opts.warmupS);
        if (w.result.non2xx > 0) throw new Error(`warmup of ${def.label}: ${w.result.non2xx} non-2xx responses (first: ${w.result.first_non2xx})`);
      }
      for (const c of opts.concurrency) {
        log(`keyhold ${def.label}, -c${c}, ${opts.durationS}s`);
        rows.push(await measure(opts, keyhold, 'keyhold', def, await signed(def), c, opts.durationS));
      }
    }
    await runBare('after');
    for (const row of rows) {
      if (row.server !== 'keyhold') continue;
      const b = bareRps.get(row.concurrency)!;
      row.bareRps = b.reduce((x, y) => x + y, 0) / b.length;
      row.ratioToBare = row.rps / row.bareRps;
    }

    const peakRow = rows.filter((r) => r.server === 'keyhold' && r.case === 'encrypt-64').sort((a, b) => b.rps - a.rps)[0];
    if (opts.halfLoad && peakRow !== undefined) {
      log(`keyhold Encrypt 64 B, low load -c${opts.lowConcurrency}, ${opts.durationS}s`);
      const low = await measure(opts, keyhold, 'keyhold', encrypt64, await signed(encrypt64), opts.lowConcurrency, opts.durationS);
      halfLoad.push({
        kind: 'closed-loop-low-concurrency',
        description: `wrk -c${opts.lowConcurrency}: ${opts.lowConcurrency} connections, each sending its next request as soon as the previous answer arrives`,
        ...low,
        fractionOfPeak: low.rps / peakRow.rps,
      });
      // Paced: 16 connections, each waiting a dithered delay so that the total offered rate is
      // about half of the peak. wrk times latency from the write, so this is the service time
      // seen at that rate (no coordinated-omission correction, unlike wrk2).
      const conns = 16;
      const target = peakRow.rps / 2;
      // wrk's timers have millisecond granularity and fire late, so the delay is calibrated: a
      // short unmeasured probe gives the per-request overhead on top of the delay.
      let delayMs = Math.max(0, (conns * 1000) / target - low.p50_ms);
      const probeS = Math.max(2, opts.warmupS);
      const probe = await runWrk(opts, keyhold.port, await signed(encrypt64), conns, probeS, delayMs);
      const probeRps = probe.result.requests / (probe.result.duration_us / 1e6);
      if (probe.result.non2xx > 0) throw new Error(`paced probe: ${probe.result.non2xx} non-2xx responses (first: ${probe.result.first_non2xx})`);
      const overheadMs = Math.max(0, (conns * 1000) / probeRps - delayMs);
      delayMs = Math.max(0, (conns * 1000) / target - overheadMs);
      log(`keyhold Encrypt 64 B, paced at ~${fmt(target, 0)} req/s (${conns} connections, mean delay ${fmt(delayMs, 2)} ms), ${opts.durationS}s`);
      const paced = await measure(opts, keyhold, 'keyhold', encrypt64, await signed(encrypt64), conns, opts.durationS, delayMs);
      halfLoad.push({
        kind: 'paced-half-peak',
        description: `wrk -c${conns} with a Lua delay() of mean ${delayMs.toFixed(2)} ms per connection between answer and next request (calibrated by a ${probeS}s probe), aiming at 50% of the peak Encrypt 64 B rate (${fmt(peakRow.rps, 0)} req/s at -c${peakRow.concurrency}); latency timed from each write, so this is closed-loop service time, not wrk2-style corrected latency`,
        targetRps: target,
        meanDelayMs: delayMs,
        ...paced,
        fractionOfPeak: paced.rps / peakRow.rps,
      });
    }
  } finally {
    const stops: Promise<void>[] = [];
    if (keyhold !== undefined) stops.push(stopServer(keyhold));
    if (bare !== undefined) stops.push(stopServer(bare));
    await Promise.all(stops);
    killAllNow();
    rmSync(work, { recursive: true, force: true });
  }

  // ------------------------------------------------------------------ report
  const cpuModel = cpus()[0]?.model ?? 'unknown';
  const header =
    `Keyhold benchmark — ${started.toISOString()} — node ${process.version}, ${wrkVersion}, ${cpus().length}× ${cpuModel}\n` +
    `keyhold serve --workers ${opts.workers}; wrk -t1 --latency, ${opts.durationS}s per run` +
    (opts.warmupS > 0 ? `, ${opts.warmupS}s unmeasured warmup per case` : '') +
    `; server CPU = utime+stime of the whole server process tree (/proc, ${CLK_TCK} Hz)`;
  process.stdout.write(`\n${header}\n\n${table(rows)}\n`);
  process.stdout.write(
    '\nreq/s and latency are wrk\'s; "srv cores" = server CPU seconds per wall second; "wrk cores" = wrk\'s CPU per wall second\n' +
      '(1.00 = the load generator\'s single thread was saturated); "other" = CPU per wall second used by other processes on the machine\n' +
      '(plus hypervisor steal; includes kernel threads such as block-I/O workers serving the server\'s fsyncs; well above 0 usually means\n' +
      'the run was disturbed by other work); "rec/commit" = audit records per durable commit during the run (from /metrics;\n' +
      'each commit costs thread wake-ups and an fdatasync, so the trail\'s cost per request falls as it rises);\n' +
      '"vs bare" = req/s ÷ the bare node:http server\'s req/s at the same\n' +
      'concurrency, mean of the runs before and after the Keyhold cases (the bare server is ONE process; Keyhold uses its workers).\n' +
      'Every response was checked to be 2xx.\n',
  );
  const disturbed = rows.filter((r) => r.otherCores > 0.15);
  if (disturbed.length > 0) {
    process.stdout.write(
      `\nWARNING: other processes used up to ${fmt(Math.max(...disturbed.map((r) => r.otherCores)), 2)} cores during ${disturbed.length} of ${rows.length} runs ` +
        '(column "other"); on a 2-core machine that takes CPU from the server and wrk, so those figures are low. Re-run on an idle machine.\n',
    );
  }
  if (halfLoad.length > 0) {
    process.stdout.write('\nLatency below peak, Encrypt 64 B (wrk has no constant-rate mode; closed-loop measurements, see notes):\n');
    for (const h of halfLoad) {
      const r = h as unknown as Row & { fractionOfPeak: number; description: string };
      process.stdout.write(
        `  ${h.kind}: ${fmt(r.rps, 0)} req/s = ${fmt(r.fractionOfPeak * 100, 0)}% of peak; p50 ${fmt(r.p50_ms, 2)} ms, p99 ${fmt(r.p99_ms, 2)} ms, ` +
          `p99.9 ${fmt(r.p999_ms, 2)} ms, max ${fmt(r.max_ms, 2)} ms, ${fmt(r.cpuUsPerRequest, 1)} CPU µs/req\n    (${r.description})\n`,
      );
    }
  }
  const enc = rows.filter((r) => r.server === 'keyhold' && r.case === 'encrypt-64');
  const checks: { name: string; ok: boolean; detail: string }[] = [];
  for (const r of enc) {
    checks.push({ name: `Encrypt 64 B ≥ 30% of bare at -c${r.concurrency}`, ok: (r.ratioToBare ?? 0) >= 0.3, detail: `${fmt((r.ratioToBare ?? 0) * 100, 1)}%` });
  }
  const paced = halfLoad.find((h) => h.kind === 'paced-half-peak') as (Row & { fractionOfPeak: number }) | undefined;
  if (paced !== undefined) {
    checks.push({ name: 'Encrypt 64 B p99 < 5 ms at ~half of peak (paced)', ok: paced.p99_ms < 5, detail: `p99 ${fmt(paced.p99_ms, 2)} ms at ${fmt(paced.fractionOfPeak * 100, 0)}% of peak` });
  }
  if (checks.length > 0) {
    process.stdout.write('\nIssue 2 targets:\n');
    for (const c of checks) process.stdout.write(`  [${c.ok ? 'PASS' : 'FAIL'}] ${c.name}: ${c.detail}\n`);
  }
  const result = {
    startedAt: started.toISOString(),
    command: ['node', ...process.argv.slice(1).map((a) => (a.startsWith(REPO_ROOT) ? a.slice(REPO_ROOT.length + 1) : a))].join(' '),
    environment: { node: process.version, wrk: wrkVersion, cpus: cpus().length, cpuModel, clkTck: CLK_TCK },
    options: { ...opts, out: undefined },
    rows,
    latencyBelowPeak: halfLoad,
    checks,
  };
  mkdirSync(resolve(opts.out, '..'), { recursive: true });
  writeFileSync(opts.out, JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(`\nResults written to ${opts.out}\n`);
  return 0;
}

// Run only as a program: bench/asymmetric.ts imports the helpers above.
if (require.main === module) {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      log(`${sig}: stopping servers`);
      killAllNow();
      if (scriptDir !== '') rmSync(scriptDir, { recursive: true, force: true });
      process.exit(130);
    });
  }

  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      killAllNow();
      process.stderr.write(`bench failed: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
