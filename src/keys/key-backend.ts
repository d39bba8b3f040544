/**
 * The `KeyBackend` port (docs/architecture.md §4): every cryptographic operation runs inside a backend, given
 * a key-version reference, so no operation handles raw key material. Backends: `software`
 * (src/keys/software-backend.ts: material wrapped by the root of trust, parsed KeyObjects cached
 * in memory); a PKCS#11 token and an external key store proxy later. Issue 10 added key agreement
 * (deriveSharedSecret), ML-DSA and Ed25519ph signing through `sign`, and ML-KEM
 * encapsulate/decapsulate.
 */
import type { EncryptionContext } from '../crypto/encryption-context';
import type { EncryptionAlgorithm, MacAlgorithm, SigningAlgorithm } from '../crypto/algorithms';
import type { CiphertextHeader } from '../crypto/symmetric-ciphertext';
import type { KeyRecord, KeyVersionRecord } from '../store/records';
import type { KeySpecFacts } from './key-specs';

/** One version of one key: what a backend operation runs with. */
export interface KeyVersionRef {
  readonly key: KeyRecord;
  readonly version: number;
}

/** A freshly generated data key pair (GenerateDataKeyPair); the caller wipes `privateKey`. */
export interface DataKeyPair {
  /** PKCS#8 DER. */
  readonly privateKey: Buffer;
  /** DER SubjectPublicKeyInfo. */
  readonly publicKey: Buffer;
}

/** Cryptography on keys the caller names but never holds. */
export interface KeyBackend {
  /** A short name for logs, e.g. "software". */
  readonly kind: string;
  /** New material of `spec` as version `version` of `arn`, stored only wrapped. Generation runs off the request thread. */
  createVersion(arn: string, spec: KeySpecFacts, version: number, origin: KeyVersionRecord['origin']): Promise<KeyVersionRecord>;
  /** Encrypts under a symmetric key version (src/crypto/symmetric-ciphertext.ts). */
  encryptSymmetric(ref: KeyVersionRef, plaintext: Buffer, context: EncryptionContext | undefined): Promise<Buffer>;
  /** Decrypts a symmetric blob; undefined when the version has no material; throws CiphertextError when the blob does not open. */
  decryptSymmetric(ref: KeyVersionRef, blob: Buffer, header: CiphertextHeader, context: EncryptionContext | undefined): Promise<Buffer | undefined>;
  /** The version's public key, DER SubjectPublicKeyInfo. */
  publicKey(ref: KeyVersionRef): Promise<Buffer>;
  /**
   * Signs a message (`digest` false: MessageType RAW) or a value computed from it (`digest` true:
   * DIGEST, or EXTERNAL_MU for ML-DSA — the 64-byte μ of FIPS 204 §6.2).
   */
  sign(ref: KeyVersionRef, alg: SigningAlgorithm, message: Buffer, digest: boolean): Promise<Buffer>;
  /** Whether `signature` is valid; never throws for an invalid one. */
  verify(ref: KeyVersionRef, alg: SigningAlgorithm, message: Buffer, digest: boolean, signature: Buffer): Promise<boolean>;
  /**
   * The raw ECDH shared secret of the version's private key and a peer's DER SPKI public key
   * (the caller wipes it); throws PeerKeyError (src/crypto/key-agreement.ts) for a peer key that
   * is malformed or on another curve.
   */
  deriveSharedSecret(ref: KeyVersionRef, peerPublicKey: Buffer): Promise<Buffer>;
  /** ML-KEM encapsulation to the version's public key: a fresh 32-byte secret and its ciphertext. */
  encapsulate(ref: KeyVersionRef): Promise<{ ciphertext: Buffer; sharedSecret: Buffer }>;
  /** ML-KEM decapsulation; undefined for a ciphertext of the wrong length (implicit rejection otherwise). */
  decapsulate(ref: KeyVersionRef, ciphertext: Buffer): Promise<Buffer | undefined>;
  /** RSAES-OAEP encryption to the version's public key. */
  encrypt(ref: KeyVersionRef, alg: EncryptionAlgorithm, plaintext: Buffer): Promise<Buffer>;
  /** RSAES-OAEP decryption; undefined for any ciphertext that does not decrypt. */
  decrypt(ref: KeyVersionRef, alg: EncryptionAlgorithm, ciphertext: Buffer): Promise<Buffer | undefined>;
  /** HMAC of `message`. */
  generateMac(ref: KeyVersionRef, alg: MacAlgorithm, message: Buffer): Promise<Buffer>;
  /** Constant-time comparison of `mac` with the HMAC of `message`. */
  verifyMac(ref: KeyVersionRef, alg: MacAlgorithm, message: Buffer, mac: Buffer): Promise<boolean>;
  /** A new key pair of a DataKeyPairSpec, generated off the request thread. */
  generateDataKeyPair(spec: KeySpecFacts): Promise<DataKeyPair>;
  close(): Promise<void>;
}
