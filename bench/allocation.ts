/**
 * Bytes allocated per request on the hot path (the brief: Encrypt, Decrypt and GenerateDataKey
 * stay allocation-light). Unlike req/s and CPU per request, which move by up to half between
 * runs on a shared VM, what the request thread allocates per request depends on the code, not
 * on the machine's mood: a figure to compare across commits.
 *
 *  1. `keyhold serve --workers 1` (one process serves, so one heap holds every request) with
 *     bench/allocation-sampler.ts preloaded; `--trail off` uses bench/keyhold-without-trail.ts;
 *  2. an unmeasured Encrypt load (`--server-warmup`, so V8 has optimised the request path: its
 *     escape analysis removes allocations an unoptimised function makes);
 *  3. per case, one pre-signed request replayed by `wrk -t1 -c<C>` for `--duration` seconds
 *     while V8's sampling heap profiler runs in the serving thread, counting the objects
 *     already collected too (V8 scales each sample to the bytes it stands for);
 *  4. bytes per request = sampled bytes ÷ requests wrk completed in the window, and where they
 *     were allocated: grouped by the innermost Keyhold function on the stack (node:http's own
 *     allocations under `handleApi` count there), the top `--top` sites printed.
 *
 * The audit writer's threads are not sampled (their allocations do not pause the request thread).
 * A benchmark, not a test. Usage:
 *   node dist/bench/allocation.js [--duration 5] [--server-warmup 10] [--concurrency 16]
 *        [--cases encrypt-64,decrypt,generate-data-key] [--trail on|off|both] [--top 12]
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateKeyCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CASES,
  readCredentials,
  runWrk,
  setScriptDir,
  signRequest,
  sleep,
  startServer,
  stopServer,
  verify,
  warmUpServer,
  type Options,
  type ServerProcess,
} from './run';

const REPO_ROOT = resolve(__dirname, '..', '..');
const KEYHOLD_BIN = join(REPO_ROOT, 'bin', 'keyhold');
const SAMPLER = join(__dirname, 'allocation-sampler.js');
const REGION = 'us-east-1';

function log(msg: string): void {
  process.stderr.write(`[alloc-bench] ${msg}\n`);
}

/** A node of V8's sampling heap profile (HeapProfiler.SamplingHeapProfileNode). */
interface ProfileNode {
  readonly callFrame: { readonly functionName: string; readonly url: string };
  readonly selfSize: number;
  readonly children: readonly ProfileNode[];
}

/** Sampled bytes, in total and per site (the innermost Keyhold function on the stack). */
function attribute(root: ProfileNode): { total: number; sites: Map<string, number> } {
  const sites = new Map<string, number>();
  let total = 0;
  const walk = (node: ProfileNode, site: string): void => {
    const { url, functionName } = node.callFrame;
    const i = url.indexOf('/dist/src/');
    const here = i >= 0 ? `${url.slice(i + '/dist/src/'.length).replace(/\.js$/, '')} ${functionName || '(anonymous)'}` : site;
    if (node.selfSize > 0) {
      total += node.selfSize;
      const name = here === '' ? `(outside Keyhold) ${functionName || '(anonymous)'}` : here;
      sites.set(name, (sites.get(name) ?? 0) + node.selfSize);
    }
    for (const c of node.children) walk(c, here);
  };
  walk(root, '');
  return { total, sites };
}

async function waitForFile(path: string, ms: number): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) if (existsSync(path)) return;
  throw new Error(`the allocation profile ${path} was not written`);
}

interface CaseResult {
  readonly id: string;
  readonly requests: number;
  readonly bytesPerRequest: number;
  readonly top: readonly (readonly [string, number])[];
}

async function measure(trail: boolean, o: { durationS: number; warmupS: number; concurrency: number; cases: readonly string[]; top: number; work: string }): Promise<CaseResult[]> {
  const dataDir = join(o.work, `data-${trail ? 'on' : 'off'}`);
  mkdirSync(dataDir);
  const profile = join(o.work, `profile-${trail ? 'on' : 'off'}.json`);
  const entry = trail ? KEYHOLD_BIN : join(__dirname, 'keyhold-without-trail.js');
  const env = { ...process.env, KEYHOLD_ALLOCATION_PROFILE: profile };
  let server: ServerProcess | undefined;
  const wrkOpts = { wrk: 'wrk' } as Options;
  try {
    server = await startServer('keyhold', ['-r', SAMPLER, entry, 'serve', '--port', '0', '--data-dir', dataDir, '--region', REGION, '--workers', '1'], 'keyhold ready', env);
    const port = server.port;
    const credentials = readCredentials(dataDir);
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const client = new KMSClient({ endpoint: `http://127.0.0.1:${port}`, region: REGION, credentials, maxAttempts: 1 });
    const keyId = (await client.send(new CreateKeyCommand({ Description: 'allocation bench' }))).KeyMetadata?.KeyId;
    if (keyId === undefined) throw new Error('CreateKey returned no KeyId');
    const enc = await client.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.alloc(64, 0x61) }));
    const ciphertext = Buffer.from(enc.CiphertextBlob ?? new Uint8Array()).toString('base64');
    client.destroy();
    const encrypt = CASES.find((c) => c.id === 'encrypt-64')!;
    log(`${trail ? 'trail on' : 'trail off'}: server warm-up, Encrypt -c16 for ${o.warmupS}s (unmeasured)`);
    await warmUpServer(wrkOpts, port, await signRequest(credentials, port, encrypt.operation, encrypt.body(keyId, ciphertext)), 16, o.warmupS);
    const results: CaseResult[] = [];
    for (const id of o.cases) {
      const def = CASES.find((c) => c.id === id);
      if (def === undefined) throw new Error(`unknown case ${id}`);
      const req = await signRequest(credentials, port, def.operation, def.body(keyId, ciphertext));
      await verify(port, def, req, 'keyhold');
      await runWrk(wrkOpts, port, req, o.concurrency, 2);
      rmSync(profile, { force: true });
      process.kill(server.pid, 'SIGUSR2');
      await sleep(200);
      const { result } = await runWrk(wrkOpts, port, req, o.concurrency, o.durationS);
      process.kill(server.pid, 'SIGUSR2');
      await waitForFile(profile, 30_000);
      await sleep(200);
      if (result.non2xx > 0) throw new Error(`${def.label}: ${result.non2xx} non-2xx answers`);
      const { total, sites } = attribute((JSON.parse(readFileSync(profile, 'utf8')) as { head: ProfileNode }).head);
      const top = [...sites].sort((a, b) => b[1] - a[1]).slice(0, o.top).map(([k, v]) => [k, v / result.requests] as const);
      results.push({ id, requests: result.requests, bytesPerRequest: total / result.requests, top });
      log(`${def.label}: ${result.requests} requests, ${(total / result.requests).toFixed(0)} B/request`);
    }
    return results;
  } finally {
    if (server !== undefined) await stopServer(server);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '5' },
      'server-warmup': { type: 'string', default: '10' },
      concurrency: { type: 'string', default: '16' },
      cases: { type: 'string', default: 'encrypt-64,decrypt,generate-data-key' },
      trail: { type: 'string', default: 'on' },
      top: { type: 'string', default: '12' },
    },
    strict: true,
  });
  const trails = values.trail === 'both' ? [true, false] : values.trail === 'off' ? [false] : values.trail === 'on' ? [true] : undefined;
  if (trails === undefined) throw new Error('--trail takes on, off or both');
  const work = mkdtempSync(join(tmpdir(), 'keyhold-alloc-'));
  setScriptDir(work);
  const o = {
    durationS: Number(values.duration),
    warmupS: Number(values['server-warmup']),
    concurrency: Number(values.concurrency),
    cases: values.cases.split(',').filter(Boolean),
    top: Number(values.top),
    work,
  };
  try {
    const lines = [
      '',
      `Keyhold allocation benchmark — ${new Date().toISOString()} — node ${process.version}`,
      `keyhold serve --workers 1; wrk -t1 -c${o.concurrency}, ${o.durationS}s per case; V8 sampling heap profiler (collected objects included) on the request thread`,
    ];
    for (const trail of trails) {
      lines.push('', `trail ${trail ? 'on' : 'off'}:`);
      for (const r of await measure(trail, o)) {
        lines.push(`  ${r.id.padEnd(18)} ${r.bytesPerRequest.toFixed(0).padStart(7)} B/request (${r.requests} requests)`);
        for (const [site, b] of r.top) lines.push(`    ${b.toFixed(0).padStart(7)}  ${site}`);
      }
    }
    lines.push('', `/proc/loadavg at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
