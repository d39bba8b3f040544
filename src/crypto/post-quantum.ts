/**
 * The post-quantum key specs' parameters and encodings (FIPS 203 ML-KEM, FIPS 204 ML-DSA), which
 * Node 20's OpenSSL 3.0 does not know:
 *
 *   Public key   DER SubjectPublicKeyInfo { AlgorithmIdentifier { id-ml-dsa-NN | id-ml-kem-NNN }
 *                (parameters absent), BIT STRING pk } — RFC 9881 §4 (ML-DSA) and RFC 9935 §4
 *                (ML-KEM), the form GetPublicKey returns ("DER-encoded X.509 public key").
 *   Private key  PKCS#8 OneAsymmetricKey v0 whose privateKey OCTET STRING holds the CHOICE `seed`
 *                [0] IMPLICIT OCTET STRING: ML-DSA's 32-byte ξ, ML-KEM's 64-byte d‖z — RFC 9881
 *                §6 / RFC 9935 §6, the compact form those RFCs recommend. Keyhold stores only
 *                this (wrapped by the root of trust); the expanded keys are derived where used.
 *
 * Every encoding here is a fixed prefix followed by fixed-length bytes, so no ASN.1 parser is
 * needed and anything else is refused. Imports nothing from the project (docs/architecture.md §2).
 */

/** One ML-DSA or ML-KEM parameter set. */
export interface PostQuantumParams {
  readonly spec: string;
  readonly kind: 'ml-dsa' | 'ml-kem';
  /** Dotted OID of the algorithm (NIST CSOR, 2.16.840.1.101.3.4.3.x / .4.4.x). */
  readonly oid: string;
  /** Seed length: ML-DSA ξ 32 bytes, ML-KEM d‖z 64 bytes. */
  readonly seedBytes: number;
  readonly publicKeyBytes: number;
  /** ML-DSA signature or ML-KEM ciphertext length. */
  readonly outputBytes: number;
}

function params(spec: string, kind: PostQuantumParams['kind'], oid: string, seedBytes: number, publicKeyBytes: number, outputBytes: number): PostQuantumParams {
  return Object.freeze({ spec, kind, oid, seedBytes, publicKeyBytes, outputBytes });
}

/** KeySpec -> parameters (FIPS 204 Table 2, FIPS 203 Table 3). */
export const POST_QUANTUM: Readonly<Record<string, PostQuantumParams>> = Object.freeze({
  ML_DSA_44: params('ML_DSA_44', 'ml-dsa', '2.16.840.1.101.3.4.3.17', 32, 1312, 2420),
  ML_DSA_65: params('ML_DSA_65', 'ml-dsa', '2.16.840.1.101.3.4.3.18', 32, 1952, 3309),
  ML_DSA_87: params('ML_DSA_87', 'ml-dsa', '2.16.840.1.101.3.4.3.19', 32, 2592, 4627),
  ML_KEM_512: params('ML_KEM_512', 'ml-kem', '2.16.840.1.101.3.4.4.1', 64, 800, 768),
  ML_KEM_768: params('ML_KEM_768', 'ml-kem', '2.16.840.1.101.3.4.4.2', 64, 1184, 1088),
  ML_KEM_1024: params('ML_KEM_1024', 'ml-kem', '2.16.840.1.101.3.4.4.3', 64, 1568, 1568),
});

/** The ML-KEM shared secret length (FIPS 203 §7: 32 bytes for every parameter set). */
export const ML_KEM_SHARED_SECRET_BYTES = 32;

/** The parameters of `spec`; throws for a spec that is not post-quantum. */
export function postQuantumParams(spec: string): PostQuantumParams {
  const p = POST_QUANTUM[spec];
  if (p === undefined) throw new Error(`${spec} is not a post-quantum key spec`);
  return p;
}

/** DER length octets. */
function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.of(n);
  if (n < 0x100) return Buffer.of(0x81, n);
  return Buffer.of(0x82, n >> 8, n & 0xff);
}

function tlv(tag: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.of(tag), derLength(body.length), body]);
}

/** DER OBJECT IDENTIFIER content of a dotted OID whose arcs after the second are < 2^14. */
function oidBody(oid: string): Buffer {
  const arcs = oid.split('.').map(Number);
  const out = [40 * (arcs[0] as number) + (arcs[1] as number)];
  for (const arc of arcs.slice(2)) {
    if (arc >= 0x80) out.push(0x80 | (arc >> 7), arc & 0x7f);
    else out.push(arc);
  }
  return Buffer.from(out);
}

function algorithmIdentifier(p: PostQuantumParams): Buffer {
  return tlv(0x30, tlv(0x06, oidBody(p.oid)));
}

/** DER SubjectPublicKeyInfo of a raw ML-DSA/ML-KEM public key. */
export function postQuantumSpki(spec: string, publicKey: Uint8Array): Buffer {
  const p = postQuantumParams(spec);
  if (publicKey.length !== p.publicKeyBytes) throw new RangeError(`${spec} public key must be ${p.publicKeyBytes} bytes`);
  return tlv(0x30, Buffer.concat([algorithmIdentifier(p), tlv(0x03, Buffer.concat([Buffer.of(0), publicKey]))]));
}

/** The raw public key inside a DER SPKI of `spec`; undefined for anything else. */
export function postQuantumPublicFromSpki(spec: string, spki: Uint8Array): Buffer | undefined {
  const p = postQuantumParams(spec);
  const prefix = postQuantumSpki(spec, Buffer.alloc(p.publicKeyBytes)).subarray(0, -p.publicKeyBytes);
  if (spki.length !== prefix.length + p.publicKeyBytes || !prefix.equals(Buffer.from(spki.subarray(0, prefix.length)))) return undefined;
  return Buffer.from(spki.subarray(prefix.length));
}

/** PKCS#8 (seed form) of an ML-DSA/ML-KEM seed. The caller wipes both buffers. */
export function postQuantumPkcs8(spec: string, seed: Uint8Array): Buffer {
  const p = postQuantumParams(spec);
  if (seed.length !== p.seedBytes) throw new RangeError(`${spec} seed must be ${p.seedBytes} bytes`);
  const privateKey = tlv(0x04, tlv(0x80, Buffer.from(seed)));
  return tlv(0x30, Buffer.concat([Buffer.of(0x02, 0x01, 0x00), algorithmIdentifier(p), privateKey]));
}

/** The seed inside a seed-form PKCS#8 of `spec` (a copy the caller wipes); undefined for anything else. */
export function postQuantumSeedFromPkcs8(spec: string, pkcs8: Uint8Array): Buffer | undefined {
  const p = postQuantumParams(spec);
  const template = postQuantumPkcs8(spec, Buffer.alloc(p.seedBytes));
  const prefixLength = template.length - p.seedBytes;
  if (pkcs8.length !== template.length || !template.subarray(0, prefixLength).equals(Buffer.from(pkcs8.subarray(0, prefixLength)))) return undefined;
  return Buffer.from(pkcs8.subarray(prefixLength));
}
