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
 *
 * A keyhold-without-trail server is started once on a temporary data directory to provision the
 * administrator and make the keys; it is stopped before the measurement, which opens the same
 * directory in-process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { CreateKeyCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { openAdapters } from '../src/adapters';
import { systemClock } from '../src/clock';
import { loadConfig } from '../src/config';
import { CredentialCache } from '../src/identity/credentials';
import { KeyPairGenerator } from '../src/keys/key-pair-generator';
import { Keyring } from '../src/keys/keyring';
import { SoftwareBackend } from '../src/keys/software-backend';
import { MODELLED_OPERATIONS } from '../src/model/operations';
import { KMS_OPERATIONS } from '../src/operations/registry';
import { SigV4Verifier } from '../src/protocol/sigv4';
import { createApiServer } from '../src/server/http-server';
import { Metrics } from '../src/server/metrics';
import { CacheLayer } from '../src/store/cache';
import { readCredentials, signRequest, startServer, stopServer, type PreparedRequest } from './run';

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

    const config = loadConfig({ 'data-dir': dataDir, region: REGION, port: '0' });
    const logger = pino({ level: 'warn' });
    const { trust, store } = await openAdapters(config, logger);
    const caches = new CacheLayer(store.changes);
    const creds = new CredentialCache(store, trust, systemClock, caches);
    const keyring = new Keyring(store, trust, systemClock, caches);
    const backend = new SoftwareBackend(keyring, new KeyPairGenerator(1));
    const verifier = new SigV4Verifier(creds, { services: new Set(['kms']), regions: new Set(config.regions), clock: systemClock });
    const api = createApiServer({
      services: { store, keyring, backend, trust, clock: systemClock, regions: config.regions },
      jsonServices: { TrentService: { signingName: 'kms', operations: KMS_OPERATIONS, modelled: new Set(MODELLED_OPERATIONS.kms) } },
      verifier,
      credentials: creds,
      logger,
      metrics: new Metrics(),
      maxBodyBytes: config.maxBodyBytes,
    });
    const handler = api.listeners('request')[0] as (req: unknown, res: unknown) => void;

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
    const run = (c: string, n: number): Promise<void> =>
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

    for (const c of cases) await run(c, 2000); // warm-up
    const results: Record<string, number[]> = {};
    for (let r = 0; r < Number(values.rounds); r++) {
      for (const c of cases) {
        const before = process.cpuUsage();
        await run(c, total);
        const used = process.cpuUsage(before);
        (results[c] ??= []).push((used.user + used.system) / total);
      }
    }
    process.stdout.write(`pipeline CPU µs/request (no HTTP parsing, no sockets, no trail; ${inflight} in flight, ${total} requests per round):\n`);
    for (const c of cases) {
      const xs = [...results[c]!].sort((a, b) => a - b);
      process.stdout.write(`${c.padEnd(20)} median ${xs[Math.floor(xs.length / 2)]!.toFixed(1)} µs  (${results[c]!.map((x) => x.toFixed(1)).join(' ')})\n`);
    }
    await backend.close();
    keyring.clear();
    await store.close();
    await trust.close();
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
