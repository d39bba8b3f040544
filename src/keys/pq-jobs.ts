/**
 * Post-quantum jobs: ML-DSA (FIPS 204) and ML-KEM (FIPS 203) from `@noble/post-quantum`, pure
 * JavaScript. They run on the post-quantum threads (src/keys/pq-thread.ts), except ML-KEM
 * encapsulation and decapsulation, which src/keys/pq-pool.ts runs on the calling thread (a
 * fraction of a millisecond: the hop to a thread cost more than the work, issue 10).
 *
 * Keys arrive as seeds (src/crypto/post-quantum.ts) and are expanded here once, then kept in a
 * small LRU (per thread) keyed by a hash of spec and seed, so a busy key is not re-expanded per
 * request; an evicted expanded secret key is zeroed.
 *
 * ML-KEM public keys are also kept prepared (`ml_kem*.prepare`, @noble/post-quantum ≥ 0.7.1): the
 * K² SampleNTT expansions of Â and the decoding of t̂ are done once per key instead of in every
 * Encapsulate and in the re-encryption of every Decapsulate (FIPS 203 Alg. 18 line 8). That is
 * the library's own API for a key used repeatedly, and it roughly halves their CPU (ML-KEM-768
 * Decapsulate ~600 → ~350 µs here, issue 10). A prepared key holds public data only.
 *
 * `@noble/post-quantum` is ESM-only; Node ≥ 20.19 loads it with require().
 */
import { createHash } from 'node:crypto';
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';
import { ml_kem512, ml_kem768, ml_kem1024, type KEMPrepared } from '@noble/post-quantum/ml-kem.js';

/** A request to the thread. Seeds and messages are copies the thread wipes. */
export type PostQuantumJob = { readonly id: number; readonly spec: string } & (
  | { readonly op: 'public-key'; readonly seed: Uint8Array }
  | { readonly op: 'sign'; readonly seed: Uint8Array; readonly message: Uint8Array; readonly externalMu: boolean }
  | { readonly op: 'verify'; readonly publicKey: Uint8Array; readonly message: Uint8Array; readonly signature: Uint8Array; readonly externalMu: boolean }
  | { readonly op: 'encapsulate'; readonly publicKey: Uint8Array }
  | { readonly op: 'decapsulate'; readonly seed: Uint8Array; readonly ciphertext: Uint8Array }
);

/** The thread's answer: output buffers (in the job's order of meaning), a boolean, or an error. */
export interface PostQuantumResult {
  readonly id: number;
  readonly out?: Uint8Array[];
  readonly valid?: boolean;
  readonly error?: string;
}

interface Expanded {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

const DSA = { ML_DSA_44: ml_dsa44, ML_DSA_65: ml_dsa65, ML_DSA_87: ml_dsa87 } as const;
const KEM = { ML_KEM_512: ml_kem512, ML_KEM_768: ml_kem768, ML_KEM_1024: ml_kem1024 } as const;

/** Expanded keys kept (an ML-DSA-87 key is ~7 KiB; 128 of them stay under 1 MiB). */
const CACHE_ENTRIES = 128;
const cache = new Map<string, Expanded>();
/** Prepared ML-KEM public keys kept (an ML-KEM-1024 one holds Â, t̂ and ek: ~12 KiB; 128 of them ~1.5 MiB). */
const PREPARED_ENTRIES = 128;
const prepared = new Map<string, KEMPrepared>();

function dsa(spec: string): (typeof DSA)[keyof typeof DSA] {
  const d = DSA[spec as keyof typeof DSA];
  if (d === undefined) throw new Error(`${spec} is not an ML-DSA key spec`);
  return d;
}

function kem(spec: string): (typeof KEM)[keyof typeof KEM] {
  const k = KEM[spec as keyof typeof KEM];
  if (k === undefined) throw new Error(`${spec} is not an ML-KEM key spec`);
  return k;
}

/** The expanded key pair of `seed` (FIPS 204 ML-DSA.KeyGen_internal(ξ), FIPS 203 ML-KEM.KeyGen_internal(d, z)). */
function expand(spec: string, seed: Uint8Array): Expanded {
  const name = createHash('sha256').update(spec).update('\0').update(seed).digest('hex');
  const hit = touch(cache, name);
  if (hit !== undefined) return hit;
  const pair = spec in DSA ? dsa(spec).keygen(seed) : kem(spec).keygen(seed);
  const entry = { secretKey: pair.secretKey, publicKey: pair.publicKey };
  cache.set(name, entry);
  if (cache.size > CACHE_ENTRIES) {
    const oldest = cache.keys().next().value as string;
    cache.get(oldest)?.secretKey.fill(0);
    cache.delete(oldest);
  }
  return entry;
}

/** `map`'s entry `name` made most recently used. */
function touch<V>(map: Map<string, V>, name: string): V | undefined {
  const hit = map.get(name);
  if (hit !== undefined) {
    map.delete(name);
    map.set(name, hit);
  }
  return hit;
}

/** The ML-KEM public key `publicKey` of `spec`, prepared once (its Â expanded, t̂ decoded). */
function preparedKem(spec: string, publicKey: Uint8Array): KEMPrepared {
  const name = createHash('sha256').update(spec).update('\0').update(publicKey).digest('hex');
  const hit = touch(prepared, name);
  if (hit !== undefined) return hit;
  const entry = kem(spec).prepare(publicKey);
  prepared.set(name, entry);
  if (prepared.size > PREPARED_ENTRIES) {
    const oldest = prepared.keys().next().value as string;
    prepared.get(oldest)?.clean();
    prepared.delete(oldest);
  }
  return entry;
}

/** Runs one job on the calling thread. */
export function runPostQuantumJob(job: PostQuantumJob): Omit<PostQuantumResult, 'id'> {
  switch (job.op) {
    case 'public-key':
      return { out: [Uint8Array.from(expand(job.spec, job.seed).publicKey)] };
    case 'sign': {
      const { secretKey } = expand(job.spec, job.seed);
      // RAW: pure ML-DSA.Sign with an empty context (FIPS 204 Alg. 2); EXTERNAL_MU: the caller's
      // 64-byte μ goes straight into ML-DSA.Sign_internal (FIPS 204 §6.2, Alg. 7 line 6 skipped).
      // Both hedged: fresh 32-byte rnd per signature, as FIPS 204 recommends.
      const signature = job.externalMu
        ? dsa(job.spec).internal.sign(job.message, secretKey, { externalMu: true })
        : dsa(job.spec).sign(job.message, secretKey);
      return { out: [signature] };
    }
    case 'verify': {
      const d = dsa(job.spec);
      const valid = job.externalMu
        ? d.internal.verify(job.signature, job.message, job.publicKey, { externalMu: true })
        : d.verify(job.signature, job.message, job.publicKey);
      return { valid };
    }
    case 'encapsulate': {
      const { cipherText, sharedSecret } = preparedKem(job.spec, job.publicKey).encapsulate();
      return { out: [cipherText, sharedSecret] };
    }
    case 'decapsulate': {
      // FIPS 203 Alg. 18 with implicit rejection: a wrong ciphertext of the right length yields
      // a pseudorandom secret, never an error. The prepared key checks that the secret key embeds
      // it (with H(ek), the input check of FIPS 203 §7.3).
      const { secretKey, publicKey } = expand(job.spec, job.seed);
      return { out: [preparedKem(job.spec, publicKey).decapsulate(job.ciphertext, secretKey)] };
    }
    default:
      throw new Error('unknown post-quantum job');
  }
}

/** Wipes the secrets a job carried (the seed; a message to sign). */
export function wipeJob(job: PostQuantumJob): void {
  if ('seed' in job) job.seed.fill(0);
  if (job.op === 'sign') job.message.fill(0);
}

