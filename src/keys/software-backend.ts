/**
 * The software KeyBackend (docs/architecture.md §4): material wrapped by the root of trust in the store,
 * unwrapped through the keyring, which caches parsed KeyObjects per version and drops them with
 * the key's other cache entries. Key pairs are generated on the bounded generation threads
 * (src/keys/key-pair-generator.ts); symmetric and HMAC material comes from the CSPRNG.
 */
import { constants, createHmac, createPrivateKey, createPublicKey, privateDecrypt, publicEncrypt, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { EncryptionAlgorithm, MacAlgorithm, SigningAlgorithm } from '../crypto/algorithms';
import type { EncryptionContext } from '../crypto/encryption-context';
import { signMessage, verifyMessage } from '../crypto/signatures';
import { decryptSymmetric, encryptSymmetric, type CiphertextHeader } from '../crypto/symmetric-ciphertext';
import { ServiceError } from '../errors';
import type { KeyVersionRecord } from '../store/records';
import type { DataKeyPair, KeyBackend, KeyVersionRef } from './key-backend';
import type { KeyPairGenerator } from './key-pair-generator';
import type { KeySpecFacts } from './key-specs';
import type { Keyring } from './keyring';

/** Software key backend over the keyring's caches. */
export class SoftwareBackend implements KeyBackend {
  readonly kind = 'software';
  readonly #keyring: Keyring;
  readonly #generator: KeyPairGenerator;
  /** DER SPKI per private KeyObject (computed once). */
  readonly #publicDer = new WeakMap<KeyObject, Buffer>();
  readonly #publicObjects = new WeakMap<KeyObject, KeyObject>();

  constructor(keyring: Keyring, generator: KeyPairGenerator) {
    this.#keyring = keyring;
    this.#generator = generator;
  }

  async createVersion(arn: string, spec: KeySpecFacts, version: number, origin: KeyVersionRecord['origin']): Promise<KeyVersionRecord> {
    const g = spec.generation;
    if (g === undefined) throw new Error(`no generation for ${spec.spec}`);
    const material = g.type === 'secret' ? randomBytes(g.bytes) : await this.#generator.generate(g);
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

  async publicKey(ref: KeyVersionRef): Promise<Buffer> {
    const priv = await this.#private(ref);
    let der = this.#publicDer.get(priv);
    if (der === undefined) {
      der = (await this.#public(ref)).export({ type: 'spki', format: 'der' });
      this.#publicDer.set(priv, der);
    }
    return der;
  }

  async sign(ref: KeyVersionRef, alg: SigningAlgorithm, message: Buffer, digest: boolean): Promise<Buffer> {
    return signMessage(alg, await this.#private(ref), message, digest);
  }

  async verify(ref: KeyVersionRef, alg: SigningAlgorithm, message: Buffer, digest: boolean, signature: Buffer): Promise<boolean> {
    return verifyMessage(alg, await this.#public(ref), message, digest, signature);
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
    const privateKey = await this.#generator.generate(g);
    const publicKey = createPublicKey(createPrivateKey({ key: privateKey, format: 'der', type: 'pkcs8' })).export({ type: 'spki', format: 'der' });
    return { privateKey, publicKey };
  }

  async close(): Promise<void> {
    await this.#generator.close();
  }
}

function unavailable(ref: KeyVersionRef): ServiceError {
  return new ServiceError('KeyUnavailableException', `${ref.key.arn} is unavailable.`);
}
