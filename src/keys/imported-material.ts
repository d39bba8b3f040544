/**
 * What ImportKeyMaterial accepts for each key spec ("Requirements for imported key material",
 * AWS KMS Developer Guide, importing-keys-conceptual.html), and the canonical bytes Keyhold stores:
 *
 *   SYMMETRIC_DEFAULT   exactly 256 bits of raw material.
 *   HMAC_<n>            raw material from the hash's output length up to its block size
 *                       (HMAC_224/256: 28/32–64 bytes; HMAC_384/512: 48/64–128 bytes).
 *   RSA, ECC, Ed25519   a DER PKCS#8 (RFC 5208) private key of exactly the spec's type, size or
 *                       curve, re-encoded (via JWK) so the same key always has the same bytes
 *                       (and the same KeyMaterialId) whatever optional fields the import carried,
 *                       and checked with a pairwise-consistency signature (FIPS 140-3 IG 10.3.A)
 *                       so a private key that does not match its own public half is refused.
 *
 * ML-DSA, ML-KEM and SM2 material cannot be imported here (docs/compatibility.md).
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { KeySpecFacts } from './key-specs';

/** Material that does not fit the key spec; the message is safe to return (it never holds material). */
export class ImportedMaterialError extends Error {}

/** HMAC block sizes in bytes (FIPS 180-4): the longest key HMAC uses without hashing it first. */
const HMAC_BLOCK_BYTES: Readonly<Record<number, number>> = Object.freeze({ 224: 64, 256: 64, 384: 128, 512: 128 });

const SELF_TEST_MESSAGE = Buffer.from('keyhold imported key pairwise consistency test');

function parsePkcs8(spec: string, material: Buffer): KeyObject {
  try {
    return createPrivateKey({ key: material, format: 'der', type: 'pkcs8' });
  } catch {
    throw new ImportedMaterialError(`The key material for a ${spec} KMS key must be a DER-encoded PKCS #8 private key.`);
  }
}

function pairwiseConsistent(key: KeyObject): boolean {
  const publicKey = createPublicKey(key);
  const hash = key.asymmetricKeyType === 'ed25519' ? null : 'sha256';
  try {
    return verify(hash, SELF_TEST_MESSAGE, publicKey, sign(hash, SELF_TEST_MESSAGE, key));
  } catch {
    return false;
  }
}

/**
 * The bytes to store for `material` imported into a key of `spec` (a new buffer the caller wipes);
 * throws ImportedMaterialError when the material does not fit the spec.
 */
export function canonicalImportedMaterial(spec: KeySpecFacts, material: Buffer): Buffer {
  const g = spec.generation;
  if (spec.family === 'symmetric' || spec.family === 'hmac') {
    const min = spec.bits / 8;
    const max = spec.family === 'symmetric' ? min : (HMAC_BLOCK_BYTES[spec.bits] as number);
    if (material.length < min || material.length > max) {
      throw new ImportedMaterialError(
        min === max
          ? `The key material for a ${spec.spec} KMS key must be ${min * 8} bits (${min} bytes).`
          : `The key material for a ${spec.spec} KMS key must be ${min} to ${max} bytes long.`,
      );
    }
    return Buffer.from(material);
  }
  if (g === undefined || (g.type !== 'rsa' && g.type !== 'ec' && g.type !== 'ed25519')) {
    throw new ImportedMaterialError(`Key material cannot be imported into a ${spec.spec} KMS key.`);
  }
  const key = parsePkcs8(spec.spec, material);
  const fits =
    g.type === 'rsa' ? key.asymmetricKeyType === 'rsa' && key.asymmetricKeyDetails?.modulusLength === g.modulusLength
    : g.type === 'ec' ? key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === g.namedCurve
    : key.asymmetricKeyType === 'ed25519';
  if (!fits) throw new ImportedMaterialError(`The key material is not a ${spec.spec} private key.`);
  if (!pairwiseConsistent(key)) throw new ImportedMaterialError(`The key material is not a consistent ${spec.spec} key pair.`);
  // Through JWK and back: OpenSSL re-encodes PKCS#8 as it was given (with or without the optional
  // public key, for instance), while a JWK always carries the same fields for the same key.
  return createPrivateKey({ key: key.export({ format: 'jwk' }), format: 'jwk' }).export({ type: 'pkcs8', format: 'der' });
}

/** Whether key material of `spec` can be imported at all (CreateKey with Origin EXTERNAL). */
export function importable(spec: KeySpecFacts): boolean {
  const g = spec.generation;
  return g !== undefined && g.type !== 'post-quantum';
}
