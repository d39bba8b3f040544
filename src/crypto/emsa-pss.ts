/**
 * EMSA-PSS encoding and verification (RFC 8017 §9.1) for RSASSA-PSS over a caller's digest
 * (Sign/Verify with MessageType DIGEST). Node's crypto.sign always hashes its input, so for a
 * precomputed digest the encoded message is made here and exponentiated by OpenSSL with
 * RSA_NO_PADDING. MGF1 uses the message hash (AWS: "MGF1 with the same hash"); the salt is as
 * long as the digest, as AWS KMS's RSASSA_PSS_SHA_* signatures are. Tests check every result
 * against OpenSSL and node:crypto's own PSS.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** MGF1 (RFC 8017 §B.2.1). */
function mgf1(hash: string, seed: Buffer, length: number): Buffer {
  const out: Buffer[] = [];
  let produced = 0;
  for (let counter = 0; produced < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    const block = createHash(hash).update(seed).update(c).digest();
    out.push(block);
    produced += block.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

/** EMSA-PSS-ENCODE (§9.1.1) of `mHash` for a modulus of `modBits`, as a `modBits/8`-byte block. */
export function emsaPssEncode(hash: string, mHash: Buffer, modBits: number): Buffer {
  const hLen = mHash.length;
  const sLen = hLen;
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  if (emLen < hLen + sLen + 2) throw new Error('encoding error');
  const salt = randomBytes(sLen);
  const h = createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  const db = Buffer.alloc(emLen - hLen - 1);
  db[emLen - sLen - hLen - 2] = 0x01;
  salt.copy(db, emLen - sLen - hLen - 1);
  const mask = mgf1(hash, h, db.length);
  for (let i = 0; i < db.length; i++) db[i] = (db[i] as number) ^ (mask[i] as number);
  db[0] = (db[0] as number) & (0xff >> (8 * emLen - emBits));
  const em = Buffer.concat([db, h, Buffer.from([0xbc])]);
  // RSA_NO_PADDING takes exactly k = ceil(modBits/8) bytes.
  const k = Math.ceil(modBits / 8);
  return k === emLen ? em : Buffer.concat([Buffer.alloc(k - emLen), em]);
}

/** EMSA-PSS-VERIFY (§9.1.2) of a recovered block `block` (k bytes) against `mHash`. */
export function emsaPssVerify(hash: string, mHash: Buffer, block: Buffer, modBits: number): boolean {
  const hLen = mHash.length;
  const sLen = hLen;
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const k = Math.ceil(modBits / 8);
  if (block.length !== k) return false;
  if (k !== emLen && block[0] !== 0) return false;
  const em = block.subarray(k - emLen);
  if (emLen < hLen + sLen + 2 || em[emLen - 1] !== 0xbc) return false;
  const maskedDb = em.subarray(0, emLen - hLen - 1);
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const topMask = 0xff >> (8 * emLen - emBits);
  if (((maskedDb[0] as number) & ~topMask & 0xff) !== 0) return false;
  const mask = mgf1(hash, h, maskedDb.length);
  const db = Buffer.alloc(maskedDb.length);
  for (let i = 0; i < db.length; i++) db[i] = (maskedDb[i] as number) ^ (mask[i] as number);
  db[0] = (db[0] as number) & topMask;
  const psLen = emLen - hLen - sLen - 2;
  for (let i = 0; i < psLen; i++) if (db[i] !== 0) return false;
  if (db[psLen] !== 0x01) return false;
  const salt = db.subarray(db.length - sLen);
  const h2 = createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  return timingSafeEqual(h, h2);
}
