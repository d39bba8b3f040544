/**
 * ECDH key agreement (DeriveSharedSecret, API_DeriveSharedSecret.html): the Elliptic Curve
 * Cryptography Cofactor Diffie-Hellman primitive of NIST SP 800-56A Rev. 3 §5.7.1.2 between a
 * KMS private key and a peer's public key, returning the raw shared secret Z (the x-coordinate,
 * no KDF) as AWS does. On the NIST curves the cofactor is 1, so this is plain ECDH, which
 * node:crypto (OpenSSL) computes.
 *
 * The peer key arrives as DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7). OpenSSL decodes it
 * and checks that the point lies on its curve (SP 800-56A §5.6.2.3.3, partial validation);
 * the curve must be the KMS key's own. Imports nothing from the project (docs/architecture.md §2).
 */
import { createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';

/** Why a peer public key was refused. */
export type PeerKeyProblem = 'malformed' | 'wrong-curve';

/** A peer public key that cannot take part in the agreement. */
export class PeerKeyError extends Error {
  readonly problem: PeerKeyProblem;
  /** The curve the peer key is on, when it parsed (e.g. "secp384r1"). */
  readonly curve: string | undefined;
  constructor(problem: PeerKeyProblem, curve?: string) {
    super(problem === 'malformed' ? 'the public key is not a DER-encoded EC SubjectPublicKeyInfo' : `the public key is on ${curve}`);
    this.name = 'PeerKeyError';
    this.problem = problem;
    this.curve = curve;
  }
}

/** Parses a peer's DER SPKI and checks it is an EC key on `namedCurve` (OpenSSL's name). */
export function peerPublicKey(spki: Buffer, namedCurve: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch {
    throw new PeerKeyError('malformed');
  }
  if (key.asymmetricKeyType !== 'ec') throw new PeerKeyError('wrong-curve', key.asymmetricKeyType);
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (curve !== namedCurve) throw new PeerKeyError('wrong-curve', curve);
  return key;
}

/** The raw ECDH shared secret of `privateKey` and the peer's DER SPKI (the caller wipes it). */
export function ecdhSharedSecret(privateKey: KeyObject, peerSpki: Buffer): Buffer {
  const namedCurve = privateKey.asymmetricKeyDetails?.namedCurve;
  if (privateKey.asymmetricKeyType !== 'ec' || namedCurve === undefined) throw new Error('not an EC private key');
  const publicKey = peerPublicKey(peerSpki, namedCurve);
  try {
    return diffieHellman({ privateKey, publicKey });
  } catch {
    // e.g. a point OpenSSL decoded but cannot use; never a server fault.
    throw new PeerKeyError('malformed');
  }
}
