/**
 * The KMS algorithm tables (STYLE habit 5): every signing, encryption and MAC algorithm of the
 * AWS KMS model with the facts the cryptography needs. Adding an algorithm is one line. Sources:
 * AWS KMS Developer Guide, "Key spec reference"; API_Sign.html (MessageType and digest lengths).
 */

/** How a signing algorithm signs. */
export type SigningScheme = 'rsa-pss' | 'rsa-pkcs1' | 'ecdsa' | 'ed25519' | 'ed25519ph' | 'ml-dsa' | 'sm2';

/** One SigningAlgorithmSpec. */
export interface SigningAlgorithm {
  readonly name: string;
  readonly scheme: SigningScheme;
  /** node:crypto digest name; undefined where the scheme hashes internally (Ed25519, ML-DSA). */
  readonly hash: string | undefined;
  /** The length a DIGEST message must have (bytes), when DIGEST is allowed. */
  readonly digestLength: number | undefined;
  /** MessageType values the algorithm accepts (API_Sign.html). */
  readonly messageTypes: readonly string[];
}

function signing(name: string, scheme: SigningScheme, hash: string | undefined, digestLength: number | undefined, messageTypes: string[]): SigningAlgorithm {
  return Object.freeze({ name, scheme, hash, digestLength, messageTypes: Object.freeze(messageTypes) });
}

const RAW_DIGEST = ['RAW', 'DIGEST'];

/** SigningAlgorithmSpec -> facts. */
export const SIGNING_ALGORITHMS: Readonly<Record<string, SigningAlgorithm>> = Object.freeze({
  RSASSA_PSS_SHA_256: signing('RSASSA_PSS_SHA_256', 'rsa-pss', 'sha256', 32, RAW_DIGEST),
  RSASSA_PSS_SHA_384: signing('RSASSA_PSS_SHA_384', 'rsa-pss', 'sha384', 48, RAW_DIGEST),
  RSASSA_PSS_SHA_512: signing('RSASSA_PSS_SHA_512', 'rsa-pss', 'sha512', 64, RAW_DIGEST),
  RSASSA_PKCS1_V1_5_SHA_256: signing('RSASSA_PKCS1_V1_5_SHA_256', 'rsa-pkcs1', 'sha256', 32, RAW_DIGEST),
  RSASSA_PKCS1_V1_5_SHA_384: signing('RSASSA_PKCS1_V1_5_SHA_384', 'rsa-pkcs1', 'sha384', 48, RAW_DIGEST),
  RSASSA_PKCS1_V1_5_SHA_512: signing('RSASSA_PKCS1_V1_5_SHA_512', 'rsa-pkcs1', 'sha512', 64, RAW_DIGEST),
  ECDSA_SHA_256: signing('ECDSA_SHA_256', 'ecdsa', 'sha256', 32, RAW_DIGEST),
  ECDSA_SHA_384: signing('ECDSA_SHA_384', 'ecdsa', 'sha384', 48, RAW_DIGEST),
  ECDSA_SHA_512: signing('ECDSA_SHA_512', 'ecdsa', 'sha512', 64, RAW_DIGEST),
  // Pure Ed25519 (RFC 8032 §5.1) signs the message itself: RAW only.
  ED25519_SHA_512: signing('ED25519_SHA_512', 'ed25519', undefined, undefined, ['RAW']),
  // Ed25519ph (RFC 8032 §5.1, phflag 1) signs a SHA-512 digest: DIGEST only (issue 10).
  ED25519_PH_SHA_512: signing('ED25519_PH_SHA_512', 'ed25519ph', 'sha512', 64, ['DIGEST']),
  // FIPS 204 ML-DSA: RAW, or EXTERNAL_MU of exactly 64 bytes (issue 10).
  ML_DSA_SHAKE_256: signing('ML_DSA_SHAKE_256', 'ml-dsa', undefined, 64, ['RAW', 'EXTERNAL_MU']),
  SM2DSA: signing('SM2DSA', 'sm2', 'sm3', 32, RAW_DIGEST),
});

/** One EncryptionAlgorithmSpec. */
export interface EncryptionAlgorithm {
  readonly name: string;
  readonly scheme: 'symmetric' | 'rsa-oaep' | 'sm2';
  /** OAEP hash (and MGF1 hash: AWS uses the same one), node:crypto name. */
  readonly hash: string | undefined;
  readonly hashLength: number;
}

/** EncryptionAlgorithmSpec -> facts. */
export const ENCRYPTION_ALGORITHMS: Readonly<Record<string, EncryptionAlgorithm>> = Object.freeze({
  SYMMETRIC_DEFAULT: Object.freeze({ name: 'SYMMETRIC_DEFAULT', scheme: 'symmetric', hash: undefined, hashLength: 0 }),
  RSAES_OAEP_SHA_1: Object.freeze({ name: 'RSAES_OAEP_SHA_1', scheme: 'rsa-oaep', hash: 'sha1', hashLength: 20 }),
  RSAES_OAEP_SHA_256: Object.freeze({ name: 'RSAES_OAEP_SHA_256', scheme: 'rsa-oaep', hash: 'sha256', hashLength: 32 }),
  SM2PKE: Object.freeze({ name: 'SM2PKE', scheme: 'sm2', hash: 'sm3', hashLength: 32 }),
});

/** One MacAlgorithmSpec (RFC 2104 HMAC with the named SHA-2 hash). */
export interface MacAlgorithm {
  readonly name: string;
  readonly hash: string;
  readonly macLength: number;
}

/** MacAlgorithmSpec -> facts. */
export const MAC_ALGORITHMS: Readonly<Record<string, MacAlgorithm>> = Object.freeze({
  HMAC_SHA_224: Object.freeze({ name: 'HMAC_SHA_224', hash: 'sha224', macLength: 28 }),
  HMAC_SHA_256: Object.freeze({ name: 'HMAC_SHA_256', hash: 'sha256', macLength: 32 }),
  HMAC_SHA_384: Object.freeze({ name: 'HMAC_SHA_384', hash: 'sha384', macLength: 48 }),
  HMAC_SHA_512: Object.freeze({ name: 'HMAC_SHA_512', hash: 'sha512', macLength: 64 }),
});

/**
 * The largest plaintext RSAES-OAEP can encrypt under a `modulusBits` key: k - 2·hLen - 2 bytes
 * (RFC 8017 §7.1.1), e.g. 190 bytes for RSA_2048 with SHA-256 — AWS's documented limits.
 */
export function oaepMaxPlaintext(modulusBits: number, alg: EncryptionAlgorithm): number {
  return modulusBits / 8 - 2 * alg.hashLength - 2;
}
