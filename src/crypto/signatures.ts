/**
 * Signing and verification for the KMS signing algorithms (src/crypto/algorithms.ts), over a
 * message (RAW) or its digest (DIGEST), with the encodings AWS KMS returns: DER ECDSA
 * signatures (RFC 3279 §2.2.3) as made, without low-S normalisation; RSASSA-PSS with salt length
 * = digest length and MGF1 with the message hash; Ed25519 over the message (RFC 8032).
 *
 * RAW goes through node:crypto (OpenSSL). node:crypto cannot sign a precomputed digest, so
 * DIGEST uses the standard constructions around OpenSSL's RSA primitive (DigestInfo with
 * PKCS#1 type-1 padding, RFC 8017 §9.2; EMSA-PSS, src/crypto/emsa-pss.ts) and @noble/curves'
 * audited ECDSA with prehash off.
 *
 * ED25519_PH_SHA_512 is Ed25519ph (RFC 8032 §5.1, phflag 1, empty context), which OpenSSL 3.0
 * lacks, from @noble/curves. AWS takes it with MessageType DIGEST only and "still performs the
 * SHA-512 prehash" of FIPS 186-5 §7.8.1 step 1 on the 64 bytes given (API_Sign.html,
 * MessageType): the caller's bytes are the message M of Ed25519ph, so PH(M) = SHA-512(M) is
 * computed here and the input is hashed twice, once by the caller and once by KMS.
 */
import { constants, createHash, privateEncrypt, publicDecrypt, sign, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import { ed25519ph } from '@noble/curves/ed25519';
import { p256, p384, p521 } from '@noble/curves/nist';
import { secp256k1 } from '@noble/curves/secp256k1';
import type { SigningAlgorithm } from './algorithms';
import { emsaPssEncode, emsaPssVerify } from './emsa-pss';

/** DigestInfo prefixes (RFC 8017 §9.2, note 1). */
const DIGEST_INFO: Readonly<Record<string, Buffer>> = Object.freeze({
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
});

/** @noble/curves implementations by OpenSSL curve name. */
const NOBLE_CURVES = Object.freeze({ prime256v1: p256, secp384r1: p384, secp521r1: p521, secp256k1 } as const);

/** The algorithm cannot run here (SM2DSA; ML-DSA runs on the backend's post-quantum threads). */
export class UnsupportedAlgorithmError extends Error {}

function modulusBits(key: KeyObject): number {
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (bits === undefined) throw new Error('not an RSA key');
  return bits;
}

function curveOf(key: KeyObject): (typeof NOBLE_CURVES)[keyof typeof NOBLE_CURVES] {
  const name = key.asymmetricKeyDetails?.namedCurve as keyof typeof NOBLE_CURVES | undefined;
  const curve = name === undefined ? undefined : NOBLE_CURVES[name];
  if (curve === undefined) throw new Error('not a supported EC key');
  return curve;
}

function rawOptions(alg: SigningAlgorithm, key: KeyObject): Parameters<typeof sign>[2] {
  if (alg.scheme === 'rsa-pss') return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
  if (alg.scheme === 'ecdsa') return { key, dsaEncoding: 'der' };
  return key;
}

/** Signs `message` (RAW) or the digest `message` (DIGEST) with `privateKey`. */
export function signMessage(alg: SigningAlgorithm, privateKey: KeyObject, message: Buffer, digest: boolean): Buffer {
  if (alg.scheme === 'ed25519') return sign(null, message, privateKey);
  if (alg.scheme === 'ed25519ph') {
    const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d as string, 'base64url');
    try {
      return Buffer.from(ed25519ph.sign(message, seed));
    } finally {
      seed.fill(0);
    }
  }
  if (alg.hash === undefined || (alg.scheme !== 'rsa-pss' && alg.scheme !== 'rsa-pkcs1' && alg.scheme !== 'ecdsa')) {
    throw new UnsupportedAlgorithmError(alg.name);
  }
  if (!digest) return sign(alg.hash, message, rawOptions(alg, privateKey));
  if (alg.scheme === 'rsa-pkcs1') {
    return privateEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([DIGEST_INFO[alg.hash] as Buffer, message]));
  }
  if (alg.scheme === 'rsa-pss') {
    return privateEncrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, emsaPssEncode(alg.hash, message, modulusBits(privateKey)));
  }
  const d = Buffer.from(privateKey.export({ format: 'jwk' }).d as string, 'base64url');
  try {
    // extraEntropy: hedged (randomised) nonces like OpenSSL's; lowS off: returned as made.
    const sig = curveOf(privateKey).sign(message, d, { prehash: false, lowS: false, extraEntropy: true });
    return Buffer.from(sig.toDERRawBytes());
  } finally {
    d.fill(0);
  }
}

function ecPublicPoint(publicKey: KeyObject): Uint8Array {
  const jwk = publicKey.export({ format: 'jwk' });
  return Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x as string, 'base64url'), Buffer.from(jwk.y as string, 'base64url')]);
}

/** Verifies `signature` over `message` (RAW) or the digest `message` (DIGEST). Never throws on a bad signature. */
export function verifyMessage(alg: SigningAlgorithm, publicKey: KeyObject, message: Buffer, digest: boolean, signature: Buffer): boolean {
  try {
    if (alg.scheme === 'ed25519') return verify(null, message, publicKey, signature);
    if (alg.scheme === 'ed25519ph') {
      // zip215 off: RFC 8032's strict rules (canonical S and points), as OpenSSL verifies Ed25519.
      const point = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
      return signature.length === 64 && ed25519ph.verify(signature, message, point, { zip215: false });
    }
    if (alg.hash === undefined || (alg.scheme !== 'rsa-pss' && alg.scheme !== 'rsa-pkcs1' && alg.scheme !== 'ecdsa')) {
      throw new UnsupportedAlgorithmError(alg.name);
    }
    if (!digest) return verify(alg.hash, message, rawOptions(alg, publicKey) as Parameters<typeof verify>[2], signature);
    if (alg.scheme === 'ecdsa') {
      return curveOf(publicKey).verify(signature, message, ecPublicPoint(publicKey), { prehash: false, lowS: false, format: 'der' });
    }
    const bits = modulusBits(publicKey);
    if (signature.length !== Math.ceil(bits / 8)) return false;
    if (alg.scheme === 'rsa-pkcs1') {
      const expected = Buffer.concat([DIGEST_INFO[alg.hash] as Buffer, message]);
      const recovered = publicDecrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, signature);
      return recovered.length === expected.length && timingSafeEqual(recovered, expected);
    }
    const block = publicDecrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, signature);
    return emsaPssVerify(alg.hash, message, block, bits);
  } catch (e) {
    if (e instanceof UnsupportedAlgorithmError) throw e;
    return false;
  }
}

/** The digest a RAW message would be signed over (for tests and the DIGEST/RAW equivalence). */
export function digestOf(alg: SigningAlgorithm, message: Buffer): Buffer {
  if (alg.hash === undefined) throw new UnsupportedAlgorithmError(alg.name);
  return createHash(alg.hash).update(message).digest();
}
