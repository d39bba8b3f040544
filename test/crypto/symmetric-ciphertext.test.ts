/** The symmetric ciphertext format: round trips, binding of header and context, fixed failures. */
import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { canonicalEncryptionContext } from '../../src/crypto/encryption-context';
import { CiphertextError, decryptSymmetric, encryptSymmetric, parseCiphertextHeader } from '../../src/crypto/symmetric-ciphertext';

const ACCOUNT = '111122223333';
const KEY = '1234abcd-12ab-34cd-56ef-1234567890ab';

test('encrypt/decrypt round-trips and the header names account, key and version', () => {
  const m = randomBytes(32);
  const blob = encryptSymmetric(ACCOUNT, KEY, 7, m, Buffer.from('hello'), { a: 'b' });
  const h = parseCiphertextHeader(blob);
  assert.equal(h.accountId, ACCOUNT);
  assert.equal(h.keyId, KEY);
  assert.equal(h.version, 7);
  assert.equal(decryptSymmetric(blob, h, m, { a: 'b' }).toString(), 'hello');
  assert.equal(blob.length, h.headerLength + 5 + 16);
});

test('every single-bit change of the blob is detected', () => {
  const m = randomBytes(32);
  const blob = encryptSymmetric(ACCOUNT, KEY, 1, m, Buffer.from('bits'), undefined);
  for (let i = 0; i < blob.length; i++) {
    const bad = Buffer.from(blob);
    bad[i]! ^= 0x80;
    assert.throws(() => decryptSymmetric(bad, parseCiphertextHeader(bad), m, undefined), CiphertextError, `byte ${i}`);
  }
});

test('a different version material or context fails', () => {
  const m = randomBytes(32);
  const blob = encryptSymmetric(ACCOUNT, KEY, 1, m, Buffer.from('x'), { k: 'v' });
  const h = parseCiphertextHeader(blob);
  assert.throws(() => decryptSymmetric(blob, h, randomBytes(32), { k: 'v' }), CiphertextError);
  assert.throws(() => decryptSymmetric(blob, h, m, {}), CiphertextError);
  assert.throws(() => decryptSymmetric(blob, h, m, { k: 'v', x: '' }), CiphertextError);
});

test('truncated or foreign blobs are rejected by the header parser', () => {
  assert.throws(() => parseCiphertextHeader(Buffer.alloc(0)), CiphertextError);
  assert.throws(() => parseCiphertextHeader(Buffer.from([2, 1, 0x41])), CiphertextError);
  const blob = encryptSymmetric(ACCOUNT, KEY, 1, randomBytes(32), Buffer.from('x'), undefined);
  assert.throws(() => parseCiphertextHeader(blob.subarray(0, 60)), CiphertextError);
});

test('canonical encryption context is order-independent and unambiguous', () => {
  assert.deepEqual(canonicalEncryptionContext({ a: '1', b: '2' }), canonicalEncryptionContext({ b: '2', a: '1' }));
  assert.notDeepEqual(canonicalEncryptionContext({ a: 'bc' }), canonicalEncryptionContext({ ab: 'c' }));
  assert.notDeepEqual(canonicalEncryptionContext({ 'a\u0000': 'b' }), canonicalEncryptionContext({ a: '\u0000b' }));
  assert.deepEqual(canonicalEncryptionContext({}), canonicalEncryptionContext(undefined));
  assert.deepEqual(canonicalEncryptionContext({ é: 'ü' }), Buffer.from([0, 0, 0, 1, 0, 0, 0, 2, 0xc3, 0xa9, 0, 0, 0, 2, 0xc3, 0xbc]));
});

test('the per-message key is HKDF-Expand by createHmac: blobs decrypt with an independent derivation (format stays compatible)', () => {
  for (let round = 0; round < 20; round++) {
    const m = randomBytes(32);
    const pt = randomBytes(round * 7);
    const blob = encryptSymmetric(ACCOUNT, KEY, round + 1, m, pt, { round: String(round) });
    const h = parseCiphertextHeader(blob);
    const n = h.headerLength - (2 + 4 + 32 + 12);
    const salt = blob.subarray(2 + n + 4, 2 + n + 4 + 32);
    const iv = blob.subarray(2 + n + 4 + 32, h.headerLength);
    const dk = createHmac('sha256', m).update('keyhold/v1/aes-256-gcm').update(salt).update(Buffer.of(1)).digest();
    const d = createDecipheriv('aes-256-gcm', dk, iv);
    d.setAAD(blob.subarray(0, h.headerLength));
    d.setAAD(canonicalEncryptionContext({ round: String(round) }));
    d.setAuthTag(blob.subarray(blob.length - 16));
    const out = Buffer.concat([d.update(blob.subarray(h.headerLength, blob.length - 16)), d.final()]);
    assert.deepEqual(out, pt);
    assert.deepEqual(decryptSymmetric(blob, h, m, { round: String(round) }), pt);
  }
});

test('without a context, blobs match the original construction (header AAD, then an empty context AAD) both ways', () => {
  for (let round = 0; round < 10; round++) {
    const m = randomBytes(32);
    const pt = randomBytes(round * 5);
    const context = round % 2 === 0 ? undefined : {};
    // Made by encryptSymmetric, opened the original way.
    const blob = encryptSymmetric(ACCOUNT, KEY, 3, m, pt, context);
    const h = parseCiphertextHeader(blob);
    const salt = blob.subarray(h.headerLength - 12 - 32, h.headerLength - 12);
    const iv = blob.subarray(h.headerLength - 12, h.headerLength);
    const dk = createHmac('sha256', m).update('keyhold/v1/aes-256-gcm').update(salt).update(Buffer.of(1)).digest();
    const d = createDecipheriv('aes-256-gcm', dk, iv);
    d.setAAD(blob.subarray(0, h.headerLength));
    d.setAAD(canonicalEncryptionContext(undefined));
    d.setAuthTag(blob.subarray(blob.length - 16));
    assert.deepEqual(Buffer.concat([d.update(blob.subarray(h.headerLength, blob.length - 16)), d.final()]), pt);
    // Made the original way, opened by decryptSymmetric.
    const c = createCipheriv('aes-256-gcm', dk, iv);
    c.setAAD(blob.subarray(0, h.headerLength));
    c.setAAD(canonicalEncryptionContext(undefined));
    const old = Buffer.concat([blob.subarray(0, h.headerLength), c.update(pt), c.final(), c.getAuthTag()]);
    assert.deepEqual(old, blob);
    assert.deepEqual(decryptSymmetric(old, h, m, context), pt);
  }
});
