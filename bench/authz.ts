/**
 * Authorization overhead benchmark (issue 3, "Fast: the evaluator adds no more than a few
 * percent to Encrypt throughput ... with a realistic key policy (five statements, conditions)").
 *
 * One `keyhold serve` on a fresh data directory; an IAM user `app` with an identity policy, and
 * three Encrypt cases replayed with wrk (one pre-signed request each, as bench/run.ts does):
 *
 *   root-default   the account root on a key with the default key policy (the cheapest path:
 *                  one statement, no identity policies)
 *   user-default   `app` on a key with the default key policy (key policy + identity policy)
 *   user-five      `app` on a key with a realistic five-statement key policy with conditions
 *                  (administrators, users with kms:CallerAccount + kms:EncryptionContext,
 *                  persistent-resource grants with kms:GrantIsForAWSResource, a Deny without
 *                  encryption context, a Deny outside the network with NotIpAddress)
 *
 * The cases alternate over several rounds (A B C A B C …) so drift hits all alike; the table
 * gives the median requests/s and the server's CPU µs per request (utime+stime of its process
 * tree from /proc), and each case relative to user-default. On a shared or busy machine the
 * wrk figures move by several percent from run to run, so the benchmark also times the
 * decision alone: `decideKms` (src/operations/authorize.ts) called in-process, on the same data
 * directory, with the same callers and keys — the evaluator's own cost per request, to set
 * against the server CPU per Encrypt.
 *
 * Usage: npx tsc -p tsconfig.json && node dist/bench/authz.js [--duration 5] [--rounds 3]
 *        [--workers 2] [--concurrency 32] [--wrk wrk] [--out bench/results/authz.json]
 *        [--decisions-only]   (skip wrk: time the decision alone)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Sha256 } from '@aws-crypto/sha256-js';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { systemClock } from '../src/clock';
import type { Caller } from '../src/identity/caller';
import { Keyring } from '../src/keys/keyring';
import { KeyPairGenerator } from '../src/keys/key-pair-generator';
import { SoftwareBackend } from '../src/keys/software-backend';
import { decideKms } from '../src/operations/authorize';
import type { Services } from '../src/operations/operation';
import { SqliteStore } from '../src/store/sqlite/sqlite-store';
import type { RootOfTrust } from '../src/trust/root-of-trust';

const REPO_ROOT = resolve(__dirname, '..', '..');
const KEYHOLD_BIN = join(REPO_ROOT, 'bin', 'keyhold');
const REGION = 'us-east-1';

interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
}

interface Prepared {
  headers: Record<string, string>;
  body: string;
}

function options(): { durationS: number; rounds: number; workers: number; concurrency: number; wrk: string; out: string; decisionsOnly: boolean } {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '5' },
      workers: { type: 'string', default: '2' },
      concurrency: { type: 'string', default: '32' },
      wrk: { type: 'string', default: 'wrk' },
      out: { type: 'string', default: join(REPO_ROOT, 'bench', 'results', 'authz.json') },
      'decisions-only': { type: 'boolean', default: false },
    },
  });
  const n = (v: string, name: string): number => {
    const x = Number(v);
    if (!Number.isSafeInteger(x) || x < 1) throw new Error(`--${name} must be a positive integer`);
    return x;
  };
  const o = {
    durationS: n(values.duration, 'duration'),
    rounds: n(values.rounds, 'rounds'),
    workers: n(values.workers, 'workers'),
    concurrency: n(values.concurrency, 'concurrency'),
    wrk: values.wrk,
    out: resolve(values.out),
    decisionsOnly: values['decisions-only'],
  };
  // Pre-signed requests are accepted for ±5 minutes.
  if (o.durationS * o.rounds * 3 > 240) throw new Error('--duration × --rounds × 3 cases must stay under 240 s');
  return o;
}

// ---------------------------------------------------------------------------------------------
// Server and /proc CPU accounting

async function startServer(dataDir: string, workers: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [KEYHOLD_BIN, 'serve', '--port', '0', '--data-dir', dataDir, '--region', REGION, '--workers', String(workers)], {
    env: { ...process.env, KEYHOLD_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const port = await new Promise<number>((res, rej) => {
    const timer = setTimeout(() => {
      // Its own process group: stop it and its workers before giving up.
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        /* gone */
      }
      rej(new Error(`server did not start:\n${out}`));
    }, 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      for (const line of out.split('\n')) {
        if (!line.includes('keyhold ready')) continue;
        try {
          const port = (JSON.parse(line) as { port: number }).port;
          clearTimeout(timer);
          res(port);
          return;
        } catch {
          /* partial line */
        }
      }
    });
    child.once('exit', (c) => rej(new Error(`server exited ${c}:\n${out}`)));
  });
  return { child, port };
}

function treeTicks(root: number): number {
  const parent = new Map<number, number>();
  const ticks = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const t = readFileSync(`/proc/${e}/stat`, 'latin1');
      const f = t.slice(t.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(e), Number(f[1]));
      ticks.set(Number(e), Number(f[11]) + Number(f[12]));
    } catch {
      /* gone */
    }
  }
  let sum = 0;
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.pop() as number;
    sum += ticks.get(pid) ?? 0;
    for (const [child, p] of parent) if (p === pid) queue.push(child);
  }
  return sum;
}

// ---------------------------------------------------------------------------------------------
// Signed requests

async function sign(port: number, service: string, headers: Record<string, string>, body: string, creds: Creds): Promise<Prepared> {
  const req = new HttpRequest({
    method: 'POST',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port,
    path: '/',
    headers: { host: `127.0.0.1:${port}`, 'content-length': String(Buffer.byteLength(body)), ...headers },
    body,
  });
  const signed = await new SignatureV4({ credentials: creds, region: REGION, service, sha256: Sha256 }).sign(req);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers)) out[k] = String(v);
  return { headers: out, body };
}

function send(port: number, p: Prepared): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const r = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: p.headers, agent: false }, (m) => {
      let t = '';
      m.setEncoding('utf8');
      m.on('data', (c: string) => (t += c));
      m.on('end', () => res({ status: m.statusCode ?? 0, body: t }));
    });
    r.on('error', rej);
    r.end(p.body);
  });
}

async function iam(port: number, action: string, params: Record<string, string>, creds: Creds): Promise<string> {
  const body = new URLSearchParams({ Action: action, Version: '2010-05-08', ...params }).toString();
  const p = await sign(port, 'iam', { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body, creds);
  const a = await send(port, p);
  if (a.status !== 200) throw new Error(`iam:${action} -> ${a.status} ${a.body}`);
  return a.body;
}

function encryptRequest(port: number, keyId: string, creds: Creds): Promise<Prepared> {
  const body = JSON.stringify({ KeyId: keyId, Plaintext: Buffer.alloc(64, 7).toString('base64'), EncryptionContext: { app: 'billing', tenant: 't-1' } });
  return sign(port, 'kms', { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.Encrypt', 'user-agent': 'keyhold-bench-authz' }, body, creds);
}

// ---------------------------------------------------------------------------------------------
// wrk

function lua(s: string): string {
  let o = '"';
  for (const b of Buffer.from(s, 'utf8')) o += b === 0x22 ? '\\"' : b === 0x5c ? '\\\\' : b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\${String(b).padStart(3, '0')}`;
  return o + '"';
}

function script(p: Prepared): string {
  const names: Record<string, string> = { host: 'Host', 'content-length': 'Content-Length' };
  const lines = ['wrk.method = "POST"', 'wrk.path = "/"', `wrk.body = ${lua(p.body)}`, 'wrk.headers = {}'];
  for (const [k, v] of Object.entries(p.headers)) lines.push(`wrk.headers[${lua(names[k] ?? k)}] = ${lua(v)}`);
  lines.push(`
bad = 0
local threads = {}
function setup(t) table.insert(threads, t) end
function response(status) if status ~= 200 then bad = bad + 1 end end
function done(summary, latency)
  local b = 0
  for _, t in ipairs(threads) do b = b + (t:get("bad") or 0) end
  io.write(string.format('AUTHZ_RESULT %d %d %d %d %d\\n', summary.requests, summary.duration, b,
    latency:percentile(50), latency:percentile(99)))
end`);
  return lines.join('\n');
}

async function wrk(bin: string, dir: string, port: number, p: Prepared, connections: number, seconds: number): Promise<{ requests: number; seconds: number; p50: number; p99: number }> {
  const file = join(dir, `w-${Math.random().toString(36).slice(2)}.lua`);
  writeFileSync(file, script(p));
  const child = spawn(bin, ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', file, `http://127.0.0.1:${port}/`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise<void>((r, j) => {
    child.once('error', j);
    child.once('exit', () => r());
  });
  const m = /AUTHZ_RESULT (\d+) (\d+) (\d+) (\d+) (\d+)/.exec(out);
  if (m === null) throw new Error(`wrk gave no result:\n${out}`);
  if (Number(m[3]) > 0) throw new Error(`${m[3]} responses were not 200`);
  return { requests: Number(m[1]), seconds: Number(m[2]) / 1e6, p50: Number(m[4]), p99: Number(m[5]) };
}

// ---------------------------------------------------------------------------------------------

/** A realistic five-statement key policy (the console's default shape plus two guard rails). */
function fiveStatementPolicy(account: string): string {
  const root = `arn:aws:iam::${account}:root`;
  return JSON.stringify({
    Version: '2012-10-17',
    Id: 'bench-five-statements',
    Statement: [
      { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: root }, Action: 'kms:*', Resource: '*' },
      {
        Sid: 'Allow access for Key Administrators',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${account}:user/key-admin` },
        Action: ['kms:Create*', 'kms:Describe*', 'kms:Enable*', 'kms:List*', 'kms:Put*', 'kms:Update*', 'kms:Revoke*', 'kms:Disable*', 'kms:Get*', 'kms:Delete*', 'kms:TagResource', 'kms:UntagResource', 'kms:ScheduleKeyDeletion', 'kms:CancelKeyDeletion'],
        Resource: '*',
      },
      {
        Sid: 'Allow use of the key',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${account}:user/app` },
        Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
        Resource: '*',
        Condition: { StringEquals: { 'kms:CallerAccount': account }, StringLike: { 'kms:EncryptionContext:app': ['billing', 'payroll-*'] } },
      },
      {
        Sid: 'Allow attachment of persistent resources',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${account}:user/app` },
        Action: ['kms:CreateGrant', 'kms:ListGrants', 'kms:RevokeGrant'],
        Resource: '*',
        Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
      },
      {
        Sid: 'Deny use without an encryption context or from outside the network',
        Effect: 'Deny',
        Principal: '*',
        Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
        Condition: { Null: { 'kms:EncryptionContext:tenant': 'true' }, NotIpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '127.0.0.0/8', '192.168.0.0/16'] } },
      },
    ],
  });
}

/** Times `decideKms` for the three cases in this process, against the server's store file. */
async function timeDecisions(
  dataDir: string,
  account: string,
  who: { root: Creds; app: Creds; appUserId: string },
  keys: { plain: string; five: string },
): Promise<{ case: string; usPerDecision: number }[]> {
  const store = new SqliteStore({ path: join(dataDir, 'keyhold.db') });
  // Decisions never touch key material: no root of trust is needed.
  const trust = {} as RootOfTrust;
  const keyring = new Keyring(store, trust, systemClock);
  const svc: Services = { store, keyring, backend: new SoftwareBackend(keyring, new KeyPairGenerator(1)), trust, clock: systemClock };
  const origin = { sourceIp: '127.0.0.1', userAgent: 'keyhold-bench-authz', secureTransport: false };
  const rootCaller: Caller = {
    accountId: account, principalArn: `arn:aws:iam::${account}:root`, principalId: account, principalType: 'Root', userName: null, accessKeyId: who.root.accessKeyId,
  };
  const appCaller: Caller = {
    accountId: account, principalArn: `arn:aws:iam::${account}:user/app`, principalId: who.appUserId, principalType: 'IAMUser', userName: 'app',
    accessKeyId: who.app.accessKeyId, uniqueId: who.appUserId,
  };
  const keyOf = async (id: string) => {
    const k = await keyring.getKey(`arn:aws:kms:${REGION}:${account}:key/${id}`);
    if (k === undefined) throw new Error(`key ${id} not found`);
    return k;
  };
  const cases = [
    { case: 'root-default', caller: rootCaller, key: await keyOf(keys.plain) },
    { case: 'user-default', caller: appCaller, key: await keyOf(keys.plain) },
    { case: 'user-five', caller: appCaller, key: await keyOf(keys.five) },
  ];
  const out: { case: string; usPerDecision: number }[] = [];
  try {
    for (const c of cases) {
      const ctx = { caller: c.caller, origin, region: REGION, requestId: 'bench' };
      const req = { action: 'kms:Encrypt', key: c.key, encryptionAlgorithm: 'SYMMETRIC_DEFAULT', encryptionContext: { app: 'billing', tenant: 't-1' } };
      const once = await decideKms(ctx, svc, req);
      if (!once.allowed) throw new Error(`${c.case}: the decision was ${once.reason}`);
      const n = 20_000;
      const samples: number[] = [];
      for (let round = 0; round < 6; round++) {
        // CPU time, not wall time: other load on the machine does not count.
        const t0 = process.cpuUsage();
        for (let i = 0; i < n; i++) await decideKms(ctx, svc, req);
        const t = process.cpuUsage(t0);
        if (round > 0) samples.push((t.user + t.system) / n);
      }
      out.push({ case: c.case, usPerDecision: Number(median(samples).toFixed(2)) });
    }
  } finally {
    await store.close();
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

async function main(): Promise<void> {
  const o = options();
  const dataDir = mkdtempSync(join(tmpdir(), 'keyhold-bench-authz-'));
  const { child, port } = await startServer(dataDir, o.workers);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = (): void => {
    try {
      process.kill(-(child.pid as number), 'SIGTERM');
    } catch {
      /* gone */
    }
  };
  process.once('SIGINT', () => {
    stop();
    process.exit(130);
  });
  try {
    const text = readFileSync(join(dataDir, 'credentials'), 'utf8');
    const root: Creds = {
      accessKeyId: /aws_access_key_id\s*=\s*(\S+)/.exec(text)?.[1] as string,
      secretAccessKey: /aws_secret_access_key\s*=\s*(\S+)/.exec(text)?.[1] as string,
    };
    const account = /account (\d{12})/.exec(text)?.[1] as string;
    await iam(port, 'CreateUser', { UserName: 'key-admin' }, root);
    const appUser = await iam(port, 'CreateUser', { UserName: 'app' }, root);
    const appUserId = /<UserId>([^<]+)</.exec(appUser)?.[1] as string;
    await iam(port, 'PutUserPolicy', {
      UserName: 'app',
      PolicyName: 'use-keys',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey*'], Resource: `arn:aws:kms:*:${account}:key/*` },
          { Effect: 'Deny', Action: 'kms:*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' }, StringEquals: { 'aws:RequestedRegion': 'eu-north-1' } } },
        ],
      }),
    }, root);
    const keyXml = await iam(port, 'CreateAccessKey', { UserName: 'app' }, root);
    const app: Creds = {
      accessKeyId: /<AccessKeyId>([^<]+)</.exec(keyXml)?.[1] as string,
      secretAccessKey: /<SecretAccessKey>([^<]+)</.exec(keyXml)?.[1] as string,
    };
    const kms = new KMSClient({ endpoint: `http://127.0.0.1:${port}`, region: REGION, credentials: root, maxAttempts: 1 });
    const plain = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const five = (await kms.send(new CreateKeyCommand({ Policy: fiveStatementPolicy(account) }))).KeyMetadata!.KeyId!;
    kms.destroy();

    const cases = [
      { id: 'root-default', req: await encryptRequest(port, plain, root) },
      { id: 'user-default', req: await encryptRequest(port, plain, app) },
      { id: 'user-five', req: await encryptRequest(port, five, app) },
    ];
    for (const c of cases) {
      const a = await send(port, c.req);
      if (a.status !== 200) throw new Error(`${c.id}: ${a.status} ${a.body}`);
    }
    if (o.decisionsOnly) {
      for (const d of await timeDecisions(dataDir, account, { root, app, appUserId }, { plain, five })) {
        process.stdout.write(`${d.case.padEnd(13)} ${d.usPerDecision.toFixed(2).padStart(7)} µs per decision\n`);
      }
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'keyhold-bench-authz-wrk-'));
    // Warm every path once (JIT, caches).
    for (const c of cases) await wrk(o.wrk, dir, port, c.req, o.concurrency, 1);
    const results = new Map<string, { rps: number[]; cpuUs: number[]; p50: number[]; p99: number[] }>();
    const clk = 100;
    for (let round = 0; round < o.rounds; round++) {
      for (const c of cases) {
        const before = treeTicks(child.pid as number);
        const r = await wrk(o.wrk, dir, port, c.req, o.concurrency, o.durationS);
        const cpu = (treeTicks(child.pid as number) - before) / clk;
        const e = results.get(c.id) ?? { rps: [], cpuUs: [], p50: [], p99: [] };
        e.rps.push(r.requests / r.seconds);
        e.cpuUs.push((cpu * 1e6) / r.requests);
        e.p50.push(r.p50);
        e.p99.push(r.p99);
        results.set(c.id, e);
      }
    }
    rmSync(dir, { recursive: true, force: true });
    const base = results.get('user-default')!;
    const rows = cases.map((c) => {
      const e = results.get(c.id)!;
      return {
        case: c.id,
        rps: Math.round(median(e.rps)),
        cpuUsPerRequest: Number(median(e.cpuUs).toFixed(1)),
        p50Us: median(e.p50),
        p99Us: median(e.p99),
        rpsVsUserDefault: `${(((median(e.rps) / median(base.rps)) - 1) * 100).toFixed(1)}%`,
        cpuVsUserDefault: `${(((median(e.cpuUs) / median(base.cpuUs)) - 1) * 100).toFixed(1)}%`,
        rounds: e.rps.map((x) => Math.round(x)),
      };
    });
    process.stdout.write(`Encrypt 64 B, ${o.workers} worker(s), ${o.concurrency} connections, ${o.rounds} × ${o.durationS} s per case (medians)\n`);
    process.stdout.write('case           req/s   CPU µs/req  p50 µs  p99 µs  req/s vs user-default  CPU vs user-default\n');
    for (const r of rows) {
      process.stdout.write(
        `${r.case.padEnd(13)} ${String(r.rps).padStart(6)}  ${String(r.cpuUsPerRequest).padStart(10)}  ${String(r.p50Us).padStart(6)}  ${String(r.p99Us).padStart(6)}  ${r.rpsVsUserDefault.padStart(21)}  ${r.cpuVsUserDefault.padStart(19)}\n`,
      );
    }
    const decisions = await timeDecisions(dataDir, account, { root, app, appUserId }, { plain, five });
    process.stdout.write('\nThe decision alone (decideKms in-process, same data directory; CPU µs per call, median of 5 × 20000):\n');
    for (const d of decisions) process.stdout.write(`${d.case.padEnd(13)} ${d.usPerDecision.toFixed(2).padStart(7)} µs\n`);
    mkdirSync(dirname(o.out), { recursive: true });
    writeFileSync(o.out, JSON.stringify({ date: new Date().toISOString(), options: o, rows, decisions }, null, 2) + '\n');
    process.stdout.write(`results: ${o.out}\n`);
  } finally {
    stop();
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exitCode = 1;
});
