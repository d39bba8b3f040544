/**
 * Where the API loses against the library (issues 9 and 10, "Performance"): CPU per request of
 * the asymmetric operations through Keyhold's request pipeline, beside the CPU of the bare
 * primitive (node:crypto / @noble) on the same key and message in the same process. The
 * difference is the per-request cost of the pipeline (headers, body, SigV4, JSON, authorization,
 * key lookup, backend, encoding) without sockets and without the audit trail; the wire benches
 * (bench/asymmetric.ts, bench/post-quantum.ts) add HTTP, wrk and the trail.
 *
 * The handler is the real listener (src/server/http-server.ts) built in this process as a worker
 * builds it, fed synthetic request/response objects carrying one SDK-shaped pre-signed request,
 * as bench/pipeline.ts does. Process CPU (all threads: ML-DSA runs on the post-quantum threads)
 * over requests served. On a shared machine CPU time is far steadier than a wire rate.
 *
 *   node dist/bench/asymmetric-cpu.js [--cases encrypt,sign-rsa,...] [--requests 3000] [--rounds 3] [--inflight 16]
 *
 * A keyhold-without-trail server is started once to provision the administrator and make the
 * keys; it is stopped before the measurement, which opens the same directory in-process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import { constants, createHmac, sign as nodeSign, type KeyObject } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { CreateKeyCommand, EncapsulateCommand, KMSClient, type CreateKeyCommandInput } from '@aws-sdk/client-kms';
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { openAdapters } from '../src/adapters';
import { systemClock } from '../src/clock';
import { loadConfig } from '../src/config';
import { postQuantumSeedFromPkcs8 } from '../src/crypto/post-quantum';
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
import type { KeyRecord } from '../src/store/records';
import type { KeyVersionRef } from '../src/keys/key-backend';
import { MAC_ALGORITHMS, SIGNING_ALGORITHMS, type MacAlgorithm, type SigningAlgorithm } from '../src/crypto/algorithms';
import { readCredentials, signRequest, startServer, stopServer, type PreparedRequest } from './run';

const REGION = 'us-east-1';
const MESSAGE = Buffer.alloc(64, 0x61);

class FakeRequest extends EventEmitter {
  readonly method = 'POST';
  readonly url = '/';
  readonly socket = { remoteAddress: '127.0.0.1' };
  constructor(
    readonly headers: Record<string, string>,
    readonly rawHeaders: string[],
  ) {
    super();
  }
}

class FakeResponse {
  status = 0;
  constructor(readonly done: (status: number) => void) {}
  writeHead(status: number): this {
    this.status = status;
    return this;
  }
  setHeader(): void {}
  end(): void {
    this.done(this.status);
  }
}

interface CaseDef {
  readonly operation: string;
  readonly body: string;
  /** The bare primitive on the same key and input, or undefined (measured by the pipeline only). */
  readonly primitive?: () => unknown;
  /** The backend call the operation makes (src/keys/software-backend.ts), on the same input. */
  readonly backend?: () => Promise<unknown>;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      cases: { type: 'string', default: 'encrypt,sign-rsa,sign-p256,sign-ed25519,mac,decapsulate,sign-mldsa' },
      requests: { type: 'string', default: '3000' },
      rounds: { type: 'string', default: '3' },
      inflight: { type: 'string', default: '16' },
    },
    strict: true,
  });
  const total = Number(values.requests);
  const inflight = Number(values.inflight);
  const work = mkdtempSync(join(tmpdir(), 'keyhold-asym-cpu-'));
  const dataDir = join(work, 'data');
  try {
    const entry = join(__dirname, 'keyhold-without-trail.js');
    const server = await startServer('keyhold', [entry, 'serve', '--port', '0', '--data-dir', dataDir, '--region', REGION, '--workers', '1'], 'keyhold ready');
    const credentials = readCredentials(dataDir);
    const keys: Record<string, string> = {};
    const arns: Record<string, string> = {};
    let ciphertext: Buffer;
    try {
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
      const client = new KMSClient({ endpoint: `http://127.0.0.1:${server.port}`, region: REGION, credentials, maxAttempts: 1 });
      const make = async (input: CreateKeyCommandInput): Promise<string> => {
        const m = (await client.send(new CreateKeyCommand(input))).KeyMetadata!;
        arns[m.KeyId!] = m.Arn!;
        return m.KeyId!;
      };
      keys.symmetric = await make({});
      keys.rsa = await make({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' });
      keys.p256 = await make({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
      keys.ed25519 = await make({ KeySpec: 'ECC_NIST_EDWARDS25519', KeyUsage: 'SIGN_VERIFY' });
      keys.hmac = await make({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
      keys.mldsa = await make({ KeySpec: 'ML_DSA_65', KeyUsage: 'SIGN_VERIFY' });
      keys.mlkem = await make({ KeySpec: 'ML_KEM_768', KeyUsage: 'ENCAPSULATE_DECAPSULATE' });
      ciphertext = Buffer.from((await client.send(new EncapsulateCommand({ KeyId: keys.mlkem, EncapsulationAlgorithm: 'ML_KEM' }))).SharedSecretCiphertextBlob!);
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
    const apiServer = createApiServer({
      services: { store, keyring, backend, trust, clock: systemClock, regions: config.regions },
      jsonServices: { TrentService: { signingName: 'kms', operations: KMS_OPERATIONS, modelled: new Set(MODELLED_OPERATIONS.kms) } },
      verifier,
      credentials: creds,
      logger,
      metrics: new Metrics(),
      maxBodyBytes: config.maxBodyBytes,
    });
    const handler = apiServer.listeners('request')[0] as (req: unknown, res: unknown) => void;

    // The primitives' keys, read the way the backend reads them (the keyring's caches).
    const arnOf = async (id: string): Promise<KeyRecord> => (await keyring.getKey(arns[id]!))!;
    const objectOf = async (id: string, kind: 'private' | 'secret'): Promise<KeyObject> => {
      const key = await arnOf(id);
      return (await keyring.keyObject(key, key.currentVersion, kind)) as KeyObject;
    };
    const rsa = await objectOf(keys.rsa, 'private');
    const p256 = await objectOf(keys.p256, 'private');
    const ed = await objectOf(keys.ed25519, 'private');
    const hmac = await objectOf(keys.hmac, 'secret');
    const seedOf = async (id: string): Promise<Buffer> => {
      const key = await arnOf(id);
      return postQuantumSeedFromPkcs8(key.keySpec, (await keyring.material(key, key.currentVersion)) as Buffer) as Buffer;
    };
    const dsaKey = ml_dsa65.keygen(await seedOf(keys.mldsa)).secretKey;
    const kemPair = ml_kem768.keygen(await seedOf(keys.mlkem));
    const kemKey = kemPair.secretKey;
    // The library's fastest way for a key used repeatedly (what the backend does too).
    const kemPrepared = ml_kem768.prepare(kemPair.publicKey);

    const ref = async (id: string): Promise<KeyVersionRef> => {
      const key = await arnOf(id);
      return { key, version: key.currentVersion };
    };
    const [rsaRef, p256Ref, edRef, hmacRef, dsaRef, kemRef] = await Promise.all(['rsa', 'p256', 'ed25519', 'hmac', 'mldsa', 'mlkem'].map((k) => ref(keys[k]!)));
    const alg = (name: string): SigningAlgorithm => SIGNING_ALGORITHMS[name] as SigningAlgorithm;
    const b64 = MESSAGE.toString('base64');
    const defs: Record<string, CaseDef> = {
      encrypt: { operation: 'Encrypt', body: JSON.stringify({ KeyId: keys.symmetric, Plaintext: b64 }) },
      'sign-rsa': {
        operation: 'Sign',
        body: JSON.stringify({ KeyId: keys.rsa, Message: b64, SigningAlgorithm: 'RSASSA_PSS_SHA_256' }),
        primitive: () => nodeSign('sha256', MESSAGE, { key: rsa, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }),
        backend: () => backend.sign(rsaRef!, alg('RSASSA_PSS_SHA_256'), MESSAGE, false),
      },
      'sign-p256': {
        operation: 'Sign',
        body: JSON.stringify({ KeyId: keys.p256, Message: b64, SigningAlgorithm: 'ECDSA_SHA_256' }),
        primitive: () => nodeSign('sha256', MESSAGE, { key: p256, dsaEncoding: 'der' }),
        backend: () => backend.sign(p256Ref!, alg('ECDSA_SHA_256'), MESSAGE, false),
      },
      'sign-ed25519': {
        operation: 'Sign',
        body: JSON.stringify({ KeyId: keys.ed25519, Message: b64, SigningAlgorithm: 'ED25519_SHA_512' }),
        primitive: () => nodeSign(null, MESSAGE, ed),
        backend: () => backend.sign(edRef!, alg('ED25519_SHA_512'), MESSAGE, false),
      },
      mac: {
        operation: 'GenerateMac',
        body: JSON.stringify({ KeyId: keys.hmac, Message: b64, MacAlgorithm: 'HMAC_SHA_256' }),
        primitive: () => createHmac('sha256', hmac).update(MESSAGE).digest(),
        backend: () => backend.generateMac(hmacRef!, MAC_ALGORITHMS.HMAC_SHA_256 as MacAlgorithm, MESSAGE),
      },
      decapsulate: {
        operation: 'Decapsulate',
        body: JSON.stringify({ KeyId: keys.mlkem, SharedSecretCiphertextBlob: ciphertext.toString('base64'), EncapsulationAlgorithm: 'ML_KEM' }),
        primitive: () => kemPrepared.decapsulate(ciphertext, kemKey),
        backend: () => backend.decapsulate(kemRef!, ciphertext),
      },
      'sign-mldsa': {
        operation: 'Sign',
        body: JSON.stringify({ KeyId: keys.mldsa, Message: b64, SigningAlgorithm: 'ML_DSA_SHAKE_256' }),
        primitive: () => ml_dsa65.sign(MESSAGE, dsaKey),
        backend: () => backend.sign(dsaRef!, alg('ML_DSA_SHAKE_256'), MESSAGE, false),
      },
    };
    const cases = values.cases.split(',');
    const prepared: Record<string, { headers: Record<string, string>; raw: string[]; body: Buffer }> = {};
    for (const c of cases) {
      const def = defs[c];
      if (def === undefined) throw new Error(`unknown case ${c}; known: ${Object.keys(defs).join(', ')}`);
      const req: PreparedRequest = await signRequest(credentials, 8080, def.operation, def.body);
      const raw: string[] = [];
      for (const [k, v] of Object.entries(req.headers)) raw.push(k, v);
      prepared[c] = { headers: req.headers, raw, body: Buffer.from(req.body) };
    }
    // ML-DSA takes milliseconds: fewer of them.
    const count = (c: string): number => (c === 'sign-mldsa' ? Math.max(50, Math.round(total / 20)) : total);

    const run = (c: string, n: number): Promise<void> =>
      new Promise((resolve, reject) => {
        const p = prepared[c]!;
        let started = 0;
        let finished = 0;
        const one = (): void => {
          started++;
          const req = new FakeRequest(p.headers, p.raw);
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
          setImmediate(() => {
            req.emit('data', p.body);
            req.emit('end');
          });
        };
        for (let i = 0; i < Math.min(inflight, n); i++) one();
      });
    const primitive = (c: string, n: number): void => {
      const f = defs[c]!.primitive!;
      for (let i = 0; i < n; i++) f();
    };

    /** `n` backend calls, `inflight` at a time (ML-DSA's run on the post-quantum threads). */
    const direct = async (c: string, n: number): Promise<void> => {
      const f = defs[c]!.backend!;
      let left = n;
      await Promise.all(
        Array.from({ length: Math.min(inflight, n) }, async () => {
          while (left-- > 0) await f();
        }),
      );
    };

    for (const c of cases) {
      await run(c, Math.min(500, count(c)));
      if (defs[c]!.backend) await direct(c, Math.min(200, count(c)));
      if (defs[c]!.primitive) primitive(c, Math.min(200, count(c)));
    }
    const api: Record<string, number[]> = {};
    const lib: Record<string, number[]> = {};
    const back: Record<string, number[]> = {};
    for (let r = 0; r < Number(values.rounds); r++) {
      for (const c of cases) {
        const n = count(c);
        let before = process.cpuUsage();
        await run(c, n);
        let used = process.cpuUsage(before);
        (api[c] ??= []).push((used.user + used.system) / n);
        if (defs[c]!.backend) {
          before = process.cpuUsage();
          await direct(c, n);
          used = process.cpuUsage(before);
          (back[c] ??= []).push((used.user + used.system) / n);
        }
        if (defs[c]!.primitive) {
          before = process.cpuUsage();
          primitive(c, n);
          used = process.cpuUsage(before);
          (lib[c] ??= []).push((used.user + used.system) / n);
        }
      }
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    process.stdout.write(`CPU µs per request through the pipeline (no sockets, no trail; ${inflight} in flight) vs the backend call alone vs the bare primitive, medians of ${values.rounds} rounds:\n`);
    for (const c of cases) {
      const a = median(api[c]!);
      const l = lib[c] === undefined ? undefined : median(lib[c]!);
      const b = back[c] === undefined ? undefined : median(back[c]!);
      process.stdout.write(
        `${c.padEnd(14)} pipeline ${a.toFixed(0).padStart(6)} µs` +
          (b === undefined ? '' : `   backend ${b.toFixed(0).padStart(6)} µs`) +
          (l === undefined ? '' : `   primitive ${l.toFixed(0).padStart(6)} µs   overhead ${(a - l).toFixed(0).padStart(5)} µs   primitive/pipeline ${((100 * l) / a).toFixed(0)}%`) +
          `   (${api[c]!.map((x) => x.toFixed(0)).join(' ')})\n`,
      );
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
    process.stderr.write(`asymmetric-cpu bench failed: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  },
);
