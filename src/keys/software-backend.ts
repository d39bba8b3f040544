/**
 * The software KeyBackend (docs/architecture.md §4): material wrapped by the root of trust in the store,
 * unwrapped through the keyring, which caches parsed KeyObjects per version and drops them with
 * the key's other cache entries. Key pairs are generated on the bounded generation threads
 * (src/keys/key-pair-generator.ts); symmetric and HMAC material comes from the CSPRNG.
 *
 * ML-DSA and ML-KEM (issue 10) keep a seed as seed-form PKCS#8 (src/crypto/post-quantum.ts), made
 * from the CSPRNG here; their operations go through src/keys/pq-pool.ts (ML-DSA on the niced
 * post-quantum threads, ML-KEM on the calling thread), which expands each seed once and keeps
 * ML-KEM public keys prepared (src/keys/pq-jobs.ts). Their public keys are cached per unwrapped
 * material buffer, so they drop with the keyring's other entries for the key.
 */
import { constants, createHmac, createPrivateKey, createPublicKey, privateDecrypt, publicEncrypt, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { EncryptionAlgorithm, MacAlgorithm, SigningAlgorithm } from '../crypto/algorithms';
import type { EncryptionContext } from '../crypto/encryption-context';
import { ecdhSharedSecret } from '../crypto/key-agreement';
import { POST_QUANTUM, postQuantumPkcs8, postQuantumPublicFromSpki, postQuantumSeedFromPkcs8, postQuantumSpki } from '../crypto/post-quantum';
import { signMessage, verifyMessage } from '../crypto/signatures';
import { decryptSymmetric, encryptSymmetric, type CiphertextHeader } from '../crypto/symmetric-ciphertext';
import { ServiceError } from '../errors';
import type { KeyVersionRecord } from '../store/records';
import type { DataKeyPair, KeyBackend, KeyVersionRef } from './key-backend';
import type { KeyPairGenerator } from './key-pair-generator';
import type { KeySpecFacts } from './key-specs';
import type { Keyring } from './keyring';
import { PostQuantumPool } from './pq-pool';

/** Software key backend over the keyring's caches. */
export class SoftwareBackend implements KeyBackend {
  readonly kind = 'software';
  readonly #keyring: Keyring;
  readonly #generator: KeyPairGenerator;
  /** DER SPKI per private KeyObject (computed once). */
  readonly #publicDer = new WeakMap<KeyObject, Buffer>();
  readonly #publicObjects = new WeakMap<KeyObject, KeyObject>();
  readonly #pq: PostQuantumPool;
  /** Post-quantum DER SPKI per unwrapped material buffer (the keyring's cached copy). */
  readonly #pqPublic = new WeakMap<Buffer, Buffer>();

  constructor(keyring: Keyring, generator: KeyPairGenerator, pq: PostQuantumPool = new PostQuantumPool()) {
    this.#keyring = keyring;
    this.#generator = generator;
    this.#pq = pq;
  }

  async createVersion(arn: string, spec: KeySpecFacts, version: number, origin: KeyVersionRecord['origin']): Promise<KeyVersionRecord> {
    const g = spec.generation;
    if (g === undefined) throw new Error(`no generation for ${spec.spec}`);
    const material =
      g.type === 'secret' ? randomBytes(g.bytes)
      : g.type === 'post-quantum' ? newPostQuantumKey(spec.spec, g.seedBytes)
      : await this.#generator.generate(g);
    try {
      return await this.#keyring.versionFor(arn, version, origin, material, randomBytes(32).toString('hex'));
    } finally {
      material.fill(0);
    }
  }

  async encryptSymmetric(ref: KeyVersionRef, plaintext: Buffer, context: EncryptionContext | undefined): Promise<Buffer> {
    const material = await this.#keyring.material(ref.key, ref.version);
    if (material === undefined) throw unavailable(ref);
    return encryptSymmetric(ref.key.accountId, ref.key.keyId, ref.version, material, plaintext, context);
  }

  async decryptSymmetric(ref: KeyVersionRef, blob: Buffer, header: CiphertextHeader, context: EncryptionContext | undefined): Promise<Buffer | undefined> {
    const material = await this.#keyring.material(ref.key, ref.version);
    if (material === undefined) return undefined;
    return decryptSymmetric(blob, header, material, context);
  }

  async #private(ref: KeyVersionRef): Promise<KeyObject> {
    const k = await this.#keyring.keyObject(ref.key, ref.version, 'private');
    if (k === undefined) throw unavailable(ref);
    return k;
  }

  async #public(ref: KeyVersionRef): Promise<KeyObject> {
    const priv = await this.#private(ref);
    let pub = this.#publicObjects.get(priv);
    if (pub === undefined) {
      pub = createPublicKey(priv);
      this.#publicObjects.set(priv, pub);
    }
    return pub;
  }

  /** The seed of a post-quantum version (a copy the caller wipes). */
  async #seed(ref: KeyVersionRef): Promise<Buffer> {
    const material = await this.#keyring.material(ref.key, ref.version);
    const seed = material === undefined ? undefined : postQuantumSeedFromPkcs8(ref.key.keySpec, material);
    if (seed === undefined) throw unavailable(ref);
    return seed;
  }

  /** The raw public key of a post-quantum version. */
  async #pqPublicRaw(ref: KeyVersionRef): Promise<Buffer> {
    return postQuantumPublicFromSpki(ref.key.keySpec, await this.publicKey(ref)) as Buffer;
  }

  async #pqPublicSpki(ref: KeyVersionRef): Promise<Buffer> {
    const material = await this.#keyring.material(ref.key, ref.version);
    if (material === undefined) throw unavailable(ref);
    let spki = this.#pqPublic.get(material);
    if (spki === undefined) {
      const seed = await this.#seed(ref);
      try {
        const r = await this.#pq.run({ op: 'public-key', spec: ref.key.keySpec, seed });
        spki = postQuantumSpki(ref.key.keySpec, output(r.out, 0));
      } finally {
        seed.fill(0);
      }
      this.#pqPublic.set(material, spki);
    }
    return spki;
  }

  async publicKey(ref: KeyVersionRef): Promise<Buffer> {
    if (POST_QUANTUM[ref.key.keySpec] !== undefined) return this.#pqPublicSpki(ref);
    const priv = await this.#private(ref);
    let der = this.#publicDer.get(priv);
    if (der === undefined) {
      der = (await this.#public(ref)).export({ type: 'spki', format: 'der' });
      this.#publicDer.set(priv, der);
    }
    return der;
  }

  async sign(ref: KeyVersionRef, alg: SigningAlgorithm, message: Buffer, digest: boolean): Promise<Buffer> {
    if (alg.scheme === 'ml-dsa') {
      const seed = await this.#seed(ref);
      try {
        const r = await this.#pq.run({ op: 'sign', spec: ref.key.keySpec, seed, message, externalMu: digest });
        return output(r.out, 0);
      } finally {
        seed.fill(0);
      }
    }
    return signMessage(alg, await this.#private(ref), message, digest);
  }

  async verify(ref: KeyVersionRef, alg: SigningAlgorithm, message: Buffer, digest: boolean, signature: Buffer): Promise<boolean> {
    if (alg.scheme === 'ml-dsa') {
      const publicKey = await this.#pqPublicRaw(ref);
      const r = await this.#pq.run({ op: 'verify', spec: ref.key.keySpec, publicKey, message, signature, externalMu: digest });
      return r.valid === true;
    }
    return verifyMessage(alg, await this.#public(ref), message, digest, signature);
  }

  async deriveSharedSecret(ref: KeyVersionRef, peerPublicKey: Buffer): Promise<Buffer> {
    return ecdhSharedSecret(await this.#private(ref), peerPublicKey);
  }

  async encapsulate(ref: KeyVersionRef): Promise<{ ciphertext: Buffer; sharedSecret: Buffer }> {
    const publicKey = await this.#pqPublicRaw(ref);
    const r = await this.#pq.run({ op: 'encapsulate', spec: ref.key.keySpec, publicKey });
    return { ciphertext: output(r.out, 0), sharedSecret: output(r.out, 1) };
  }

  async decapsulate(ref: KeyVersionRef, ciphertext: Buffer): Promise<Buffer | undefined> {
    // FIPS 203 §7.3 input check 1: the ciphertext has the parameter set's exact length.
    if (ciphertext.length !== POST_QUANTUM[ref.key.keySpec]?.outputBytes) return undefined;
    const seed = await this.#seed(ref);
    try {
      const r = await this.#pq.run({ op: 'decapsulate', spec: ref.key.keySpec, seed, ciphertext });
      return output(r.out, 0);
    } finally {
      seed.fill(0);
    }
  }

  async encrypt(ref: KeyVersionRef, alg: EncryptionAlgorithm, plaintext: Buffer): Promise<Buffer> {
    return publicEncrypt({ key: await this.#public(ref), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: alg.hash }, plaintext);
  }

  async decrypt(ref: KeyVersionRef, alg: EncryptionAlgorithm, ciphertext: Buffer): Promise<Buffer | undefined> {
    const key = await this.#private(ref);
    if (ciphertext.length !== (key.asymmetricKeyDetails?.modulusLength ?? 0) / 8) return undefined;
    try {
      return privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: alg.hash }, ciphertext);
    } catch {
      return undefined;
    }
  }

  async #secret(ref: KeyVersionRef): Promise<KeyObject> {
    const k = await this.#keyring.keyObject(ref.key, ref.version, 'secret');
    if (k === undefined) throw unavailable(ref);
    return k;
  }

  async generateMac(ref: KeyVersionRef, alg: MacAlgorithm, message: Buffer): Promise<Buffer> {
    return createHmac(alg.hash, await this.#secret(ref)).update(message).digest();
  }

  async verifyMac(ref: KeyVersionRef, alg: MacAlgorithm, message: Buffer, mac: Buffer): Promise<boolean> {
    const expected = createHmac(alg.hash, await this.#secret(ref)).update(message).digest();
    // Length first (not secret: every MAC of the algorithm has it), then constant time.
    return mac.length === expected.length && timingSafeEqual(mac, expected);
  }

  async generateDataKeyPair(spec: KeySpecFacts): Promise<DataKeyPair> {
    const g = spec.generation;
    if (g === undefined || g.type === 'secret') throw new Error(`no key pair for ${spec.spec}`);
    if (g.type === 'post-quantum') {
      const seed = randomBytes(g.seedBytes);
      try {
        const r = await this.#pq.run({ op: 'public-key', spec: spec.spec, seed });
        return { privateKey: postQuantumPkcs8(spec.spec, seed), publicKey: postQuantumSpki(spec.spec, output(r.out, 0)) };
      } finally {
        seed.fill(0);
      }
    }
    const privateKey = await this.#generator.generate(g);
    const publicKey = createPublicKey(createPrivateKey({ key: privateKey, format: 'der', type: 'pkcs8' })).export({ type: 'spki', format: 'der' });
    return { privateKey, publicKey };
  }

  async close(): Promise<void> {
    await Promise.all([this.#generator.close(), this.#pq.close()]);
  }
}

/** A new post-quantum private key: a CSPRNG seed as seed-form PKCS#8 (the caller wipes it). */
function newPostQuantumKey(spec: string, seedBytes: number): Buffer {
  const seed = randomBytes(seedBytes);
  try {
    return postQuantumPkcs8(spec, seed);
  } finally {
    seed.fill(0);
  }
}

/** Output `i` of a post-quantum job as a Buffer. */
function output(out: Uint8Array[] | undefined, i: number): Buffer {
  const b = out?.[i];
  if (b === undefined) throw new Error('post-quantum job returned no output');
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function unavailable(ref: KeyVersionRef): ServiceError {
  return new ServiceError('KeyUnavailableException', `${ref.key.arn} is unavailable.`);
}
