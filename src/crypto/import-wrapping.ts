/**
 * Import wrapping (BYOK): the RSA wrapping key pairs GetParametersForImport hands out and the
 * unwrapping of the key material ImportKeyMaterial receives (kms-reference.md §14.4).
 *
 *   RSAES_OAEP_SHA_1 / _SHA_256        RSAES-OAEP (RFC 8017 §7.1) of the material, MGF1 with
 *                                      the same hash and an empty label — what
 *                                      `openssl pkeyutl -encrypt -pkeyopt rsa_padding_mode:oaep
 *                                      -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256`
 *                                      produces (AWS developer guide, "Encrypt the key material").
 *   RSA_AES_KEY_WRAP_SHA_1 / _SHA_256  PKCS#11 v2.40 §2.1.21 CKM_RSA_AES_KEY_WRAP: an ephemeral
 *                                      AES key wrapped with RSAES-OAEP, immediately followed by
 *                                      the material wrapped under that AES key with AES Key Wrap
 *                                      with Padding (RFC 5649) — the concatenation AWS tells
 *                                      users to build with `openssl enc -id-aes256-wrap-pad`.
 *
 * Every unwrapping failure is one `UnwrapError` with no detail, so the caller cannot become a
 * padding oracle (Manger's attack on OAEP needs distinguishable failures). Imports nothing from
 * the project (docs/architecture.md §2).
 */
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { promisify } from 'node:util';

const generateKeyPairAsync = promisify(generateKeyPair);

/** How one WrappingAlgorithm wraps material. */
export interface WrappingAlgorithm {
  readonly name: string;
  /** The OAEP hash (and MGF1 hash). */
  readonly hash: 'sha1' | 'sha256';
  /** `rsa-oaep`: material wrapped directly; `rsa-aes-kwp`: RSA-wrapped AES key + RFC 5649 wrap. */
  readonly scheme: 'rsa-oaep' | 'rsa-aes-kwp';
}

/** The wrapping algorithms Keyhold accepts (AWS's AlgorithmSpec minus RSAES_PKCS1_V1_5 and SM2PKE). */
export const WRAPPING_ALGORITHMS: Readonly<Record<string, WrappingAlgorithm>> = Object.freeze({
  RSAES_OAEP_SHA_1: Object.freeze({ name: 'RSAES_OAEP_SHA_1', hash: 'sha1', scheme: 'rsa-oaep' }),
  RSAES_OAEP_SHA_256: Object.freeze({ name: 'RSAES_OAEP_SHA_256', hash: 'sha256', scheme: 'rsa-oaep' }),
  RSA_AES_KEY_WRAP_SHA_1: Object.freeze({ name: 'RSA_AES_KEY_WRAP_SHA_1', hash: 'sha1', scheme: 'rsa-aes-kwp' }),
  RSA_AES_KEY_WRAP_SHA_256: Object.freeze({ name: 'RSA_AES_KEY_WRAP_SHA_256', hash: 'sha256', scheme: 'rsa-aes-kwp' }),
} satisfies Record<string, WrappingAlgorithm>);

/** RSA modulus sizes of the wrapping key specs (AWS's WrappingKeySpec minus SM2). */
export const WRAPPING_KEY_SPECS: Readonly<Record<string, number>> = Object.freeze({
  RSA_2048: 2048,
  RSA_3072: 3072,
  RSA_4096: 4096,
});

/** The one error for every failure to unwrap (no detail, on purpose). */
export class UnwrapError extends Error {
  constructor() {
    super('the wrapped key material could not be unwrapped');
    this.name = 'UnwrapError';
  }
}

/** A wrapping key pair: the public key as DER SubjectPublicKeyInfo, the private key as DER PKCS#8. */
export interface WrappingKeyPair {
  readonly publicKey: Buffer;
  /** Secret: the caller wraps it for storage and wipes it. */
  readonly privateKey: Buffer;
}

/** Generates an RSA wrapping key pair (e = 65537) off the event loop. */
export async function generateWrappingKeyPair(modulusBits: number): Promise<WrappingKeyPair> {
  const { publicKey, privateKey } = await generateKeyPairAsync('rsa', {
    modulusLength: modulusBits,
    publicExponent: 0x10001,
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
  });
  return { publicKey, privateKey };
}

/** RFC 5649 §3: the alternative initial value that marks AES Key Wrap with Padding. */
const KWP_AIV = Buffer.from('a65959a6', 'hex');
const KWP_CIPHERS: Readonly<Record<number, string>> = Object.freeze({
  16: 'id-aes128-wrap-pad',
  24: 'id-aes192-wrap-pad',
  32: 'id-aes256-wrap-pad',
});

/** AES Key Wrap with Padding (RFC 5649 §4.1) of `plaintext` under a 128/192/256-bit `kek`. */
export function aesKeyWrapPad(kek: Buffer, plaintext: Buffer): Buffer {
  const cipher = KWP_CIPHERS[kek.length];
  if (cipher === undefined) throw new RangeError('kek must be 16, 24 or 32 bytes');
  if (plaintext.length === 0) throw new RangeError('plaintext must not be empty');
  const c = createCipheriv(cipher, kek, KWP_AIV);
  return Buffer.concat([c.update(plaintext), c.final()]);
}

/** AES Key Unwrap with Padding (RFC 5649 §4.2); throws UnwrapError when the integrity check fails. */
export function aesKeyUnwrapPad(kek: Buffer, wrapped: Buffer): Buffer {
  const cipher = KWP_CIPHERS[kek.length];
  // RFC 5649 §4.2: at least two 64-bit blocks, a whole number of them.
  if (cipher === undefined || wrapped.length < 16 || wrapped.length % 8 !== 0) throw new UnwrapError();
  let head: Buffer | undefined;
  let tail: Buffer | undefined;
  try {
    const d = createDecipheriv(cipher, kek, KWP_AIV);
    head = d.update(wrapped);
    tail = d.final();
    return Buffer.concat([head, tail]);
  } catch {
    throw new UnwrapError();
  } finally {
    head?.fill(0);
    tail?.fill(0);
  }
}

function oaepDecrypt(privateKey: KeyObject, hash: WrappingAlgorithm['hash'], ciphertext: Buffer): Buffer {
  try {
    // OpenSSL's MGF1 digest defaults to the OAEP digest, which is what AWS's openssl commands set.
    return privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, ciphertext);
  } catch {
    throw new UnwrapError();
  }
}

function oaepEncrypt(publicKeyDer: Buffer, hash: WrappingAlgorithm['hash'], plaintext: Buffer): Buffer {
  const key = createPublicKey({ key: publicKeyDer, format: 'der', type: 'spki' });
  return publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, plaintext);
}

/**
 * Unwraps key material wrapped under the public half of `privateKeyDer` with `algorithm`.
 * Returns a buffer the caller owns and must wipe; throws UnwrapError on any failure.
 */
export function unwrapKeyMaterial(algorithm: WrappingAlgorithm, privateKeyDer: Buffer, wrapped: Buffer): Buffer {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: privateKeyDer, format: 'der', type: 'pkcs8' });
  } catch {
    throw new UnwrapError();
  }
  const bits = privateKey.asymmetricKeyDetails?.modulusLength;
  if (privateKey.asymmetricKeyType !== 'rsa' || bits === undefined) throw new UnwrapError();
  const k = Math.ceil(bits / 8);
  if (algorithm.scheme === 'rsa-oaep') {
    if (wrapped.length !== k) throw new UnwrapError();
    return oaepDecrypt(privateKey, algorithm.hash, wrapped);
  }
  // CKM_RSA_AES_KEY_WRAP: RSA-OAEP(AES key) is exactly k bytes, the RFC 5649 wrap follows.
  if (wrapped.length <= k) throw new UnwrapError();
  const aesKey = oaepDecrypt(privateKey, algorithm.hash, wrapped.subarray(0, k));
  try {
    return aesKeyUnwrapPad(aesKey, wrapped.subarray(k));
  } finally {
    aesKey.fill(0);
  }
}

/**
 * Wraps key material as a client following AWS's instructions would (tests, tooling). The
 * RSA_AES schemes use a fresh 256-bit AES key, as AWS's `openssl rand -out aes-key.bin 32` does.
 */
export function wrapKeyMaterial(algorithm: WrappingAlgorithm, publicKeyDer: Buffer, material: Buffer): Buffer {
  if (algorithm.scheme === 'rsa-oaep') return oaepEncrypt(publicKeyDer, algorithm.hash, material);
  const aesKey = randomBytes(32);
  try {
    return Buffer.concat([oaepEncrypt(publicKeyDer, algorithm.hash, aesKey), aesKeyWrapPad(aesKey, material)]);
  } finally {
    aesKey.fill(0);
  }
}
