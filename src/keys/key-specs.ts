/**
 * The frozen key-spec table (docs/architecture.md §4): every AWS KMS KeySpec with its key usages, the
 * algorithms of each usage, its size, how its material is generated, and its request-quota and
 * price classes. Operations ask this table; they never re-derive a spec's facts.
 *
 * Sources: AWS KMS Developer Guide "Key spec reference" (usages and algorithms per spec),
 * "Request quotas" (quota classes), AWS KMS pricing (price classes), the KMS model (enums).
 */

/** How a spec's material is made (node:crypto generateKeyPair / randomBytes parameters). */
export type Generation =
  | { readonly type: 'secret'; readonly bytes: number }
  | { readonly type: 'rsa'; readonly modulusLength: number }
  | { readonly type: 'ec'; readonly namedCurve: string }
  | { readonly type: 'ed25519' }
  /** ML-DSA / ML-KEM: a random seed stored as seed-form PKCS#8 (src/crypto/post-quantum.ts). */
  | { readonly type: 'post-quantum'; readonly seedBytes: number };

/**
 * AWS's request quota a spec's cryptographic operations count against ("Request quotas":
 * symmetric and HMAC share one; RSA, ECC, ML-DSA and ML-KEM have their own).
 */
export type QuotaClass = 'symmetric' | 'rsa' | 'ecc' | 'ml-dsa' | 'ml-kem' | 'sm2';

/**
 * AWS's price class for requests on a spec (AWS KMS pricing): symmetric and HMAC requests, RSA
 * 2048 requests, and other asymmetric requests are priced differently.
 */
export type PriceClass = 'symmetric' | 'rsa-2048' | 'asymmetric';

/** Everything about one KeySpec. */
export interface KeySpecFacts {
  readonly spec: string;
  readonly family: 'symmetric' | 'rsa' | 'ecc' | 'ed25519' | 'hmac' | 'sm2' | 'ml-dsa' | 'ml-kem';
  /** KeyUsage -> the algorithms a key of this spec and usage supports, in AWS's order. */
  readonly usages: Readonly<Record<string, readonly string[]>>;
  /** Key size in bits (RSA modulus, curve order size, HMAC key length, AES-256). */
  readonly bits: number;
  /** How to make material; undefined for specs this server cannot generate yet. */
  readonly generation: Generation | undefined;
  /** Why CreateKey refuses the spec here (China-only SM2); undefined = served. */
  readonly unsupported: string | undefined;
  /** In the deprecated CustomerMasterKeySpec enum. */
  readonly legacyEnum: boolean;
  /** A valid DataKeyPairSpec (GenerateDataKeyPair). */
  readonly dataKeyPair: boolean;
  /** Automatic and on-demand rotation: only symmetric encryption keys rotate (EnableKeyRotation). */
  readonly rotatable: boolean;
  readonly quotaClass: QuotaClass;
  readonly priceClass: PriceClass;
}

const RSA_ENCRYPTION = ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'];
const RSA_SIGNING = [
  'RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512',
  'RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512',
];

type Row = Omit<KeySpecFacts, 'spec' | 'rotatable' | 'unsupported' | 'legacyEnum' | 'dataKeyPair'> &
  Partial<Pick<KeySpecFacts, 'unsupported' | 'legacyEnum' | 'dataKeyPair'>>;

function spec(name: string, row: Row): KeySpecFacts {
  const usages: Record<string, readonly string[]> = {};
  for (const [u, algs] of Object.entries(row.usages)) usages[u] = Object.freeze([...algs]);
  return Object.freeze({
    spec: name,
    ...row,
    usages: Object.freeze(usages),
    generation: row.generation === undefined ? undefined : Object.freeze({ ...row.generation }),
    unsupported: row.unsupported,
    legacyEnum: row.legacyEnum ?? true,
    dataKeyPair: row.dataKeyPair ?? false,
    rotatable: row.family === 'symmetric',
  });
}

function rsa(bits: number): Row {
  return {
    family: 'rsa',
    usages: { ENCRYPT_DECRYPT: RSA_ENCRYPTION, SIGN_VERIFY: RSA_SIGNING },
    bits,
    generation: { type: 'rsa', modulusLength: bits },
    dataKeyPair: true,
    quotaClass: 'rsa',
    priceClass: bits === 2048 ? 'rsa-2048' : 'asymmetric',
  };
}

function nist(bits: number, curve: string, signing: string): Row {
  return {
    family: 'ecc',
    // KEY_AGREEMENT: ECDH with DeriveSharedSecret (AWS "Key spec reference", NIST curves).
    usages: { SIGN_VERIFY: [signing], KEY_AGREEMENT: ['ECDH'] },
    bits,
    generation: { type: 'ec', namedCurve: curve },
    dataKeyPair: true,
    quotaClass: 'ecc',
    priceClass: 'asymmetric',
  };
}

function hmac(bits: number): Row {
  return {
    family: 'hmac',
    usages: { GENERATE_VERIFY_MAC: [`HMAC_SHA_${bits}`] },
    // AWS: an HMAC_<n> key is n bits long ("Key spec reference", HMAC key specs).
    bits,
    generation: { type: 'secret', bytes: bits / 8 },
    quotaClass: 'symmetric',
    priceClass: 'symmetric',
  };
}

function mlDsa(level: number): Row {
  return {
    family: 'ml-dsa', usages: { SIGN_VERIFY: ['ML_DSA_SHAKE_256'] }, bits: level, generation: { type: 'post-quantum', seedBytes: 32 },
    legacyEnum: false, quotaClass: 'ml-dsa', priceClass: 'asymmetric',
  };
}

function mlKem(level: number): Row {
  return {
    family: 'ml-kem', usages: { ENCAPSULATE_DECAPSULATE: ['ML_KEM'] }, bits: level, generation: { type: 'post-quantum', seedBytes: 64 },
    legacyEnum: false, dataKeyPair: true, quotaClass: 'ml-kem', priceClass: 'asymmetric',
  };
}

/** KeySpec -> facts, for every spec of the KMS model. */
export const KEY_SPECS: Readonly<Record<string, KeySpecFacts>> = Object.freeze({
  SYMMETRIC_DEFAULT: spec('SYMMETRIC_DEFAULT', {
    family: 'symmetric', usages: { ENCRYPT_DECRYPT: ['SYMMETRIC_DEFAULT'] }, bits: 256,
    generation: { type: 'secret', bytes: 32 }, quotaClass: 'symmetric', priceClass: 'symmetric',
  }),
  RSA_2048: spec('RSA_2048', rsa(2048)),
  RSA_3072: spec('RSA_3072', rsa(3072)),
  RSA_4096: spec('RSA_4096', rsa(4096)),
  ECC_NIST_P256: spec('ECC_NIST_P256', nist(256, 'prime256v1', 'ECDSA_SHA_256')),
  ECC_NIST_P384: spec('ECC_NIST_P384', nist(384, 'secp384r1', 'ECDSA_SHA_384')),
  ECC_NIST_P521: spec('ECC_NIST_P521', nist(521, 'secp521r1', 'ECDSA_SHA_512')),
  ECC_SECG_P256K1: spec('ECC_SECG_P256K1', {
    family: 'ecc', usages: { SIGN_VERIFY: ['ECDSA_SHA_256'] }, bits: 256, generation: { type: 'ec', namedCurve: 'secp256k1' },
    dataKeyPair: true, quotaClass: 'ecc', priceClass: 'asymmetric',
  }),
  ECC_NIST_EDWARDS25519: spec('ECC_NIST_EDWARDS25519', {
    family: 'ed25519', usages: { SIGN_VERIFY: ['ED25519_SHA_512', 'ED25519_PH_SHA_512'] }, bits: 256,
    generation: { type: 'ed25519' }, legacyEnum: false, dataKeyPair: true, quotaClass: 'ecc', priceClass: 'asymmetric',
  }),
  SM2: spec('SM2', {
    family: 'sm2', usages: { SIGN_VERIFY: ['SM2DSA'], ENCRYPT_DECRYPT: ['SM2PKE'], KEY_AGREEMENT: ['SM2'] }, bits: 256,
    generation: undefined, unsupported: 'is offered by AWS only in China Regions and is not supported by this Keyhold server',
    dataKeyPair: true, quotaClass: 'sm2', priceClass: 'asymmetric',
  }),
  HMAC_224: spec('HMAC_224', hmac(224)),
  HMAC_256: spec('HMAC_256', hmac(256)),
  HMAC_384: spec('HMAC_384', hmac(384)),
  HMAC_512: spec('HMAC_512', hmac(512)),
  ML_DSA_44: spec('ML_DSA_44', mlDsa(44)),
  ML_DSA_65: spec('ML_DSA_65', mlDsa(65)),
  ML_DSA_87: spec('ML_DSA_87', mlDsa(87)),
  ML_KEM_512: spec('ML_KEM_512', mlKem(512)),
  ML_KEM_768: spec('ML_KEM_768', mlKem(768)),
  ML_KEM_1024: spec('ML_KEM_1024', mlKem(1024)),
});

/** Every KeySpec name, in the model's order. */
export const KEY_SPEC_NAMES: readonly string[] = Object.freeze(Object.keys(KEY_SPECS));
/** The deprecated CustomerMasterKeySpec enum. */
export const CUSTOMER_MASTER_KEY_SPECS: readonly string[] = Object.freeze(KEY_SPEC_NAMES.filter((s) => KEY_SPECS[s]?.legacyEnum));
/** The DataKeyPairSpec enum. */
export const DATA_KEY_PAIR_SPECS: readonly string[] = Object.freeze(KEY_SPEC_NAMES.filter((s) => KEY_SPECS[s]?.dataKeyPair));

/** The facts of a stored key's spec (every stored spec is in the table). */
export function keySpecFacts(name: string): KeySpecFacts {
  const facts = KEY_SPECS[name];
  if (facts === undefined) throw new Error(`unknown key spec ${name}`);
  return facts;
}

/** The algorithms of a key with `spec` and `usage` ([] when the spec has no such usage). */
export function algorithmsFor(specName: string, usage: string): readonly string[] {
  return KEY_SPECS[specName]?.usages[usage] ?? [];
}
