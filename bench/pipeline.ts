/**
 * CPU per request of Keyhold's request pipeline without HTTP parsing and sockets (issue 11, hot
 * path): the real listener handler (src/server/http-server.ts: headers, body, SigV4, routing,
 * decoding, authorization, key lookup, crypto, encoding, metrics) built in this process exactly
 * as a worker builds it, without the audit trail, driven by synthetic request and response
 * objects carrying one SDK-shaped, pre-signed request. Process CPU time over requests served,
 * with `--inflight` requests in flight. On a shared machine the figure is far steadier than a
 * wire benchmark's, at the price of warm caches (a real server interleaves more code between
 * requests, so it pays more): use it to compare builds, and bench/run.ts for the real thing.
 *
 *   node dist/bench/pipeline.js [--cases encrypt-64,decrypt,generate-data-key] [--requests 20000] [--rounds 3] [--inflight 16]
 *        [--base DIR]
 *
 * A keyhold-without-trail server is started once on a temporary data directory to provision the
 * administrator and make the keys; it is stopped before the measurement, which opens the same
 * directory in-process.
 *
 * `--base DIR` compares two builds in ONE process, ABBA: DIR is another build's root (holding its
 * `dist/`, e.g. `git worktree add /tmp/base <commit> && cd /tmp/base && ln -s /work/main/node_modules
 * && npx tsc -p .`). Its handler is built from its own modules on a copy of the data directory
 * and driven alternately with this build's, round by round (A B, then B A), so both see the same
 * machine load, JIT state and garbage collector: on a loaded machine differences of a few µs per
 * request stay visible, which separate runs (±15% apart) hide.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { CreateKeyCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { readCredentials, signRequest, startServer, stopServer, type PreparedRequest } from './run';

/** The modules a handler is built from, loaded from one build's `dist/src`. */
interface BuildModules {
  adapters: typeof import('../src/adapters');
  clock: typeof import('../src/clock');
  config: typeof import('../src/config');
  credentials: typeof import('../src/identity/credentials');
  generator: typeof import('../src/keys/key-pair-generator');
  keyring: typeof import('../src/keys/keyring');
  backend: typeof import('../src/keys/software-backend');
  operations: typeof import('../src/model/operations');
  registry: typeof import('../src/operations/registry');
  sigv4: typeof import('../src/protocol/sigv4');
  server: typeof import('../src/server/http-server');
  metrics: typeof import('../src/server/metrics');
  cache: typeof import('../src/store/cache');
}

/** Loads a build's modules by path (`src` = that build's dist/src), so two builds can share a process. */
function loadBuild(src: string): BuildModules {
  const r = (m: string): never => require(join(src, m)) as never;
  return {
    adapters: r('adapters'), clock: r('clock'), config: r('config'), credentials: r('identity/credentials'),
    generator: r('keys/key-pair-generator'), keyring: r('keys/keyring'), backend: r('keys/software-backend'),
    operations: r('model/operations'), registry: r('operations/registry'), sigv4: r('protocol/sigv4'),
    server: r('server/http-server'), metrics: r('server/metrics'), cache: r('store/cache'),
  };
}

/** A request handler built exactly as a worker builds it (without the trail), and how to close it. */
interface Pipeline {
  readonly name: string;
  readonly handler: (req: unknown, res: unknown) => void;
  close(): Promise<void>;
}

async function buildPipeline(name: string, m: BuildModules, dataDir: string): Promise<Pipeline> {
  const config = m.config.loadConfig({ 'data-dir': dataDir, region: REGION, port: '0' });
  const logger = pino({ level: 'warn' });
  const clock = m.clock.systemClock;
  const { trust, store } = await m.adapters.openAdapters(config, logger);
  const caches = new m.cache.CacheLayer(store.changes);
  const creds = new m.credentials.CredentialCache(store, trust, clock, caches);
  const keyring = new m.keyring.Keyring(store, trust, clock, caches);
  const backend = new m.backend.SoftwareBackend(keyring, new m.generator.KeyPairGenerator(1));
  const verifier = new m.sigv4.SigV4Verifier(creds, { services: new Set(['kms']), regions: new Set(config.regions), clock });
  const api = m.server.createApiServer({
    services: { store, keyring, backend, trust, clock, regions: config.regions },
    jsonServices: { TrentService: { signingName: 'kms', operations: m.registry.KMS_OPERATIONS, modelled: new Set(m.operations.MODELLED_OPERATIONS.kms) } },
    verifier,
    credentials: creds,
    logger,
    metrics: new m.metrics.Metrics(),
    maxBodyBytes: config.maxBodyBytes,
  });
  return {
    name,
    handler: api.listeners('request')[0] as (req: unknown, res: unknown) => void,
    async close() {
      await backend.close();
      keyring.clear();
      await store.close();
      await trust.close();
    },
  };
}

const REGION = 'us-east-1';
const PLAINTEXT_64 = Buffer.alloc(64, 0x61);

/** A stand-in for node:http's IncomingMessage: what the handler reads, and one body chunk. */
class FakeRequest extends EventEmitter {
  readonly method = 'POST';
  readonly url = '/';
  readonly rawHeaders: string[];
  readonly headers: Record<string, string>;
  readonly socket = { remoteAddress: '127.0.0.1' };

  constructor(req: PreparedRequest, rawHeaders: string[]) {
    super();
    this.rawHeaders = rawHeaders;
    this.headers = req.headers;
  }
}

/** A stand-in for ServerResponse: checks the status, calls `done` at end(). */
class FakeResponse {
  status = 0;
  readonly #done: (status: number) => void;
  constructor(done: (status: number) => void) {
    this.#done = done;
  }
  writeHead(status: number): this {
    this.status = status;
    return this;
  }
  setHeader(): void {}
  end(): void {
    this.#done(this.status);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      cases: { type: 'string', default: 'encrypt-64,decrypt,generate-data-key' },
      requests: { type: 'string', default: '20000' },
      rounds: { type: 'string', default: '3' },
      inflight: { type: 'string', default: '16' },
      base: { type: 'string' },
    },
    strict: true,
  });
  const total = Number(values.requests);
  const inflight = Number(values.inflight);
  const work = mkdtempSync(join(tmpdir(), 'keyhold-pipeline-'));
  const dataDir = join(work, 'data');
  try {
    // Provision with the real server, then stop it: the measurement opens the same directory.
    const entry = join(__dirname, 'keyhold-without-trail.js');
    const server = await startServer('keyhold', [entry, 'serve', '--port', '0', '--data-dir', dataDir, '--region', REGION, '--workers', '1'], 'keyhold ready');
    const credentials = readCredentials(dataDir);
    let keyId: string;
    let ciphertext: string;
    try {
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
      const client = new KMSClient({ endpoint: `http://127.0.0.1:${server.port}`, region: REGION, credentials, maxAttempts: 1 });
      keyId = (await client.send(new CreateKeyCommand({ Description: 'pipeline bench' }))).KeyMetadata!.KeyId!;
      ciphertext = Buffer.from((await client.send(new EncryptCommand({ KeyId: keyId, Plaintext: PLAINTEXT_64 }))).CiphertextBlob!).toString('base64');
      client.destroy();
    } finally {
      await stopServer(server);
    }

    const pipelines: Pipeline[] = [];
    if (values.base !== undefined) {
      const baseDir = join(work, 'data-base');
      cpSync(dataDir, baseDir, { recursive: true });
      pipelines.push(await buildPipeline('A (base)', loadBuild(join(resolvePath(values.base), 'dist', 'src')), baseDir));
    }
    pipelines.push(await buildPipeline(values.base === undefined ? 'this build' : 'B (this build)', loadBuild(join(__dirname, '..', 'src')), dataDir));

    const bodies: Record<string, { operation: string; body: string }> = {
      'encrypt-64': { operation: 'Encrypt', body: JSON.stringify({ KeyId: keyId, Plaintext: PLAINTEXT_64.toString('base64') }) },
      decrypt: { operation: 'Decrypt', body: JSON.stringify({ CiphertextBlob: ciphertext }) },
      'generate-data-key': { operation: 'GenerateDataKey', body: JSON.stringify({ KeyId: keyId, KeySpec: 'AES_256' }) },
    };
    const cases = values.cases.split(',');
    const prepared: Record<string, { req: PreparedRequest; raw: string[]; body: Buffer }> = {};
    for (const c of cases) {
      const def = bodies[c];
      if (def === undefined) throw new Error(`unknown case ${c}; known: ${Object.keys(bodies).join(', ')}`);
      const req = await signRequest(credentials, 8080, def.operation, def.body);
      const raw: string[] = [];
      for (const [k, v] of Object.entries(req.headers)) raw.push(k, v);
      prepared[c] = { req, raw, body: Buffer.from(req.body) };
    }

    /** Sends `n` copies of one request, `inflight` at a time; resolves when all are answered. */
    const run = (handler: Pipeline['handler'], c: string, n: number): Promise<void> =>
      new Promise((resolve, reject) => {
        const p = prepared[c]!;
        let started = 0;
        let finished = 0;
        const one = (): void => {
          started++;
          const req = new FakeRequest(p.req, p.raw);
          const res = new FakeResponse((status) => {
            if (status !== 200) {
              reject(new Error(`${c}: HTTP ${status}`));
              return;
            }
            finished++;
            if (finished === n) resolve();
            else if (started < n) one();
          });
          handler(req, res);
          // The body arrives after the handler subscribed, as from a socket.
          setImmediate(() => {
            req.emit('data', p.body);
            req.emit('end');
          });
        };
        for (let i = 0; i < Math.min(inflight, n); i++) one();
      });

    for (const p of pipelines) for (const c of cases) await run(p.handler, c, 2000); // warm-up
    const results: Record<string, number[]> = {};
    for (let r = 0; r < Number(values.rounds); r++) {
      const order = r % 2 === 0 ? pipelines : [...pipelines].reverse();
      for (const c of cases) {
        for (const p of order) {
          const before = process.cpuUsage();
          await run(p.handler, c, total);
          const used = process.cpuUsage(before);
          (results[`${c} ${p.name}`] ??= []).push((used.user + used.system) / total);
        }
      }
    }
    process.stdout.write(`pipeline CPU µs/request (no HTTP parsing, no sockets, no trail; ${inflight} in flight, ${total} requests per round):\n`);
    const medianOf = (k: string): number => {
      const xs = [...results[k]!].sort((a, b) => a - b);
      return xs.length % 2 === 1 ? xs[(xs.length - 1) / 2]! : (xs[xs.length / 2 - 1]! + xs[xs.length / 2]!) / 2;
    };
    for (const c of cases) {
      for (const p of pipelines) {
        const k = `${c} ${p.name}`;
        process.stdout.write(`${k.padEnd(34)} median ${medianOf(k).toFixed(1)} µs  (${results[k]!.map((x) => x.toFixed(1)).join(' ')})\n`);
      }
      if (pipelines.length === 2) {
        const a = medianOf(`${c} ${pipelines[0]!.name}`);
        const b = medianOf(`${c} ${pipelines[1]!.name}`);
        process.stdout.write(`${c.padEnd(34)} B - A ${(b - a).toFixed(1)} µs (${((100 * (b - a)) / a).toFixed(1)}%)\n`);
      }
    }
    for (const p of pipelines) await p.close();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`pipeline bench failed: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  },
);
