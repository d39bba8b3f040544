/**
 * The symmetric ciphertext blob (docs/architecture.md §4), self-describing and versioned:
 *
 *   u8  format (0x01)
 *   u8  key reference length n, then n bytes "<account id>:<key id>" (ASCII), so Decrypt without
 *       KeyId finds the key, cross-account and in another Region for multi-Region keys
 *   u32 key version (big-endian)
 *   32  HKDF salt (random per encryption)
 *   12  AES-GCM IV (random)
 *   ..  AES-256-GCM ciphertext
 *   16  GCM tag
 *
 * Each encryption derives a one-time AES-256 key with HKDF-Expand (RFC 5869 §2.3) keyed directly
 * by the version material — already a uniformly random 256-bit key, so the Extract step may be
 * skipped (§3.3) — with info = "keyhold/v1/aes-256-gcm" || salt and one output block:
 *   key = HMAC-SHA256(material, info || 0x01)
 * A fresh random 256-bit salt per message means no GCM key approaches the 2^32-invocation bound
 * of NIST SP 800-38D §8.3. AAD = the header (everything before the ciphertext) followed by the
 * canonical encryption context, so the key id, version and context are all authenticated.
 */
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { canonicalEncryptionContext, type EncryptionContext } from './encryption-context';
import { fillRandom } from './random-pool';

export const CIPHERTEXT_FORMAT_V1 = 0x01;
const SALT_LEN = 32;
const IV_LEN = 12;
const TAG_LEN = 16;
const HKDF_INFO = Buffer.from('keyhold/v1/aes-256-gcm');
const HKDF_BLOCK_1 = Buffer.of(1);

/** Thrown for every malformed or unauthentic blob; callers map it to one fixed error. */
export class CiphertextError extends Error {
  constructor() {
    super('invalid ciphertext');
    this.name = 'CiphertextError';
  }
}

/** What the header of a blob names. */
export interface CiphertextHeader {
  readonly accountId: string;
  readonly keyId: string;
  readonly version: number;
  /** Length of the header (the AAD prefix). */
  readonly headerLength: number;
}

/** Reads the key id and version from a blob without decrypting it. */
export function parseCiphertextHeader(blob: Buffer): CiphertextHeader {
  if (blob.length < 2 || blob[0] !== CIPHERTEXT_FORMAT_V1) throw new CiphertextError();
  const n = blob[1] as number;
  const headerLength = 2 + n + 4 + SALT_LEN + IV_LEN;
  if (n === 0 || blob.length < headerLength + TAG_LEN) throw new CiphertextError();
  const ref = blob.toString('latin1', 2, 2 + n);
  const colon = ref.indexOf(':');
  if (colon <= 0 || colon === ref.length - 1) throw new CiphertextError();
  const version = blob.readUInt32BE(2 + n);
  return { accountId: ref.slice(0, colon), keyId: ref.slice(colon + 1), version, headerLength };
}

/** HKDF-Expand(PRK = material, info = HKDF_INFO || salt, L = 32): a single HMAC block. */
function deriveKey(material: Buffer, salt: Buffer): Buffer {
  return createHmac('sha256', material).update(HKDF_INFO).update(salt).update(HKDF_BLOCK_1).digest();
}

/** Encrypts `plaintext` under one key version. */
export function encryptSymmetric(
  accountId: string,
  keyId: string,
  version: number,
  material: Buffer,
  plaintext: Buffer,
  context: EncryptionContext | undefined,
): Buffer {
  const n = accountId.length + 1 + keyId.length;
  if (n > 255) throw new RangeError('key reference too long');
  const headerLength = 2 + n + 4 + SALT_LEN + IV_LEN;
  const out = Buffer.allocUnsafe(headerLength + plaintext.length + TAG_LEN);
  out[0] = CIPHERTEXT_FORMAT_V1;
  out[1] = n;
  out.write(accountId, 2, 'latin1');
  out[2 + accountId.length] = 0x3a; // ':'
  out.write(keyId, 3 + accountId.length, 'latin1');
  out.writeUInt32BE(version, 2 + n);
  fillRandom(out, 2 + n + 4, SALT_LEN + IV_LEN);
  const salt = out.subarray(2 + n + 4, 2 + n + 4 + SALT_LEN);
  const iv = out.subarray(2 + n + 4 + SALT_LEN, headerLength);
  const dk = deriveKey(material, salt);
  try {
    const c = createCipheriv('aes-256-gcm', dk, iv);
    c.setAAD(out.subarray(0, headerLength));
    c.setAAD(canonicalEncryptionContext(context));
    const ct = c.update(plaintext);
    c.final();
    ct.copy(out, headerLength);
    c.getAuthTag().copy(out, headerLength + ct.length);
    return out;
  } finally {
    dk.fill(0);
  }
}

/** Decrypts a blob whose header has been parsed; throws CiphertextError when it is not authentic. */
export function decryptSymmetric(
  blob: Buffer,
  header: CiphertextHeader,
  material: Buffer,
  context: EncryptionContext | undefined,
): Buffer {
  const h = header.headerLength;
  const n = h - (2 + 4 + SALT_LEN + IV_LEN);
  const salt = blob.subarray(2 + n + 4, 2 + n + 4 + SALT_LEN);
  const iv = blob.subarray(2 + n + 4 + SALT_LEN, h);
  const dk = deriveKey(material, salt);
  try {
    const d = createDecipheriv('aes-256-gcm', dk, iv);
    d.setAAD(blob.subarray(0, h));
    d.setAAD(canonicalEncryptionContext(context));
    d.setAuthTag(blob.subarray(blob.length - TAG_LEN));
    const pt = d.update(blob.subarray(h, blob.length - TAG_LEN));
    try {
      d.final();
    } catch {
      pt.fill(0);
      throw new CiphertextError();
    }
    return pt;
  } finally {
    dk.fill(0);
  }
}
