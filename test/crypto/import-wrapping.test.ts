/**
 * Import wrapping: RFC 5649 known answers, interoperability with the openssl command line for
 * every wrapping algorithm, and one fixed UnwrapError for every kind of bad input.
 */
import assert from 'node:assert/strict';
import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { before, test } from 'node:test';
import {
  aesKeyUnwrapPad,
  aesKeyWrapPad,
  generateWrappingKeyPair,
  unwrapKeyMaterial,
  UnwrapError,
  wrapKeyMaterial,
  WRAPPING_ALGORITHMS,
  WRAPPING_KEY_SPECS,
  type WrappingKeyPair,
} from '../../src/crypto/import-wrapping';
import { opensslRandomMaterial, opensslWrap } from '../helpers/openssl-import';

const ALGORITHMS = Object.values(WRAPPING_ALGORITHMS);
let pair2048: WrappingKeyPair;
let other2048: WrappingKeyPair;

before(async () => {
  [pair2048, other2048] = await Promise.all([generateWrappingKeyPair(2048), generateWrappingKeyPair(2048)]);
});

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('AES Key Wrap with Padding matches the RFC 5649 §6 test vectors', () => {
  const kek = hex('5840df6e29b02af1 ab493b705bf16ea1 ae8338f4dcc176a8');
  const vectors = [
    { key: hex('c37b7e6492584340 bed1220780894115 5068f738'), wrap: hex('138bdeaa9b8fa7fc 61f97742e72248ee 5ae6ae5360d1ae6a 5f54f373fa543b6a') },
    { key: hex('466f7250617369'), wrap: hex('afbeb0f07dfbf541 9200f2ccb50bb24f') },
  ];
  for (const v of vectors) {
    assert.deepEqual(aesKeyWrapPad(kek, v.key), v.wrap);
    assert.deepEqual(aesKeyUnwrapPad(kek, v.wrap), v.key);
  }
});

test('AES Key Unwrap with Padding rejects a wrong KEK, a flipped bit and bad lengths with UnwrapError', () => {
  const kek = randomBytes(32);
  const wrapped = aesKeyWrapPad(kek, randomBytes(32));
  assert.throws(() => aesKeyUnwrapPad(randomBytes(32), wrapped), UnwrapError);
  for (let i = 0; i < wrapped.length; i++) {
    const bad = Buffer.from(wrapped);
    bad[i]! ^= 0x01;
    assert.throws(() => aesKeyUnwrapPad(kek, bad), UnwrapError, `byte ${i}`);
  }
  assert.throws(() => aesKeyUnwrapPad(kek, wrapped.subarray(0, 8)), UnwrapError);
  assert.throws(() => aesKeyUnwrapPad(kek, wrapped.subarray(0, wrapped.length - 1)), UnwrapError);
  assert.throws(() => aesKeyUnwrapPad(randomBytes(20), wrapped), UnwrapError);
});

test('generateWrappingKeyPair makes RSA keys of each WrappingKeySpec with e = 65537, public key as DER SPKI', async () => {
  assert.deepEqual({ ...WRAPPING_KEY_SPECS }, { RSA_2048: 2048, RSA_3072: 3072, RSA_4096: 4096 });
  const pair = await generateWrappingKeyPair(3072);
  const pub = createPublicKey({ key: pair.publicKey, format: 'der', type: 'spki' });
  assert.equal(pub.asymmetricKeyType, 'rsa');
  assert.equal(pub.asymmetricKeyDetails?.modulusLength, 3072);
  assert.equal(pub.asymmetricKeyDetails?.publicExponent, 65537n);
});

test('the wrapping algorithm table holds exactly the four algorithms Keyhold accepts', () => {
  assert.deepEqual(Object.keys(WRAPPING_ALGORITHMS).sort(), [
    'RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_1', 'RSA_AES_KEY_WRAP_SHA_256',
  ]);
});

for (const algorithm of ALGORITHMS) {
  test(`${algorithm.name}: material wrapped by the openssl command line, as AWS documents, unwraps`, () => {
    const material = opensslRandomMaterial(32);
    const wrapped = opensslWrap(algorithm.name, pair2048.publicKey, material);
    assert.deepEqual(unwrapKeyMaterial(algorithm, pair2048.privateKey, wrapped), material);
  });

  test(`${algorithm.name}: wrapKeyMaterial round-trips, including odd material lengths`, () => {
    for (const len of [1, 16, 32, 33, 100]) {
      const material = randomBytes(len);
      assert.deepEqual(unwrapKeyMaterial(algorithm, pair2048.privateKey, wrapKeyMaterial(algorithm, pair2048.publicKey, material)), material);
    }
  });

  test(`${algorithm.name}: another private key, a flipped bit or a cut blob fail with UnwrapError`, () => {
    const wrapped = wrapKeyMaterial(algorithm, pair2048.publicKey, randomBytes(32));
    assert.throws(() => unwrapKeyMaterial(algorithm, other2048.privateKey, wrapped), UnwrapError);
    for (const i of [0, 100, 255, 256, wrapped.length - 1]) {
      if (i >= wrapped.length) continue;
      const bad = Buffer.from(wrapped);
      bad[i]! ^= 0x01;
      assert.throws(() => unwrapKeyMaterial(algorithm, pair2048.privateKey, bad), UnwrapError, `byte ${i}`);
    }
    assert.throws(() => unwrapKeyMaterial(algorithm, pair2048.privateKey, wrapped.subarray(0, wrapped.length - 8)), UnwrapError);
    assert.throws(() => unwrapKeyMaterial(algorithm, pair2048.privateKey, Buffer.concat([wrapped, Buffer.alloc(8)])), UnwrapError);
    assert.throws(() => unwrapKeyMaterial(algorithm, Buffer.from('not a key'), wrapped), UnwrapError);
  });
}

test('material wrapped for one algorithm does not unwrap under another (hash or scheme differ)', () => {
  for (const wrapWith of ALGORITHMS) {
    const wrapped = wrapKeyMaterial(wrapWith, pair2048.publicKey, randomBytes(32));
    for (const unwrapWith of ALGORITHMS) {
      if (unwrapWith === wrapWith) continue;
      assert.throws(() => unwrapKeyMaterial(unwrapWith, pair2048.privateKey, wrapped), UnwrapError, `${wrapWith.name} -> ${unwrapWith.name}`);
    }
  }
});

test('RSA_AES_KEY_WRAP also accepts 128- and 192-bit ephemeral AES keys (PKCS#11 CKM_RSA_AES_KEY_WRAP)', () => {
  for (const len of [16, 24]) {
    const aesKey = randomBytes(len);
    const material = randomBytes(32);
    const key = createPublicKey({ key: pair2048.publicKey, format: 'der', type: 'spki' });
    const wrapped = Buffer.concat([
      publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, aesKey),
      aesKeyWrapPad(aesKey, material),
    ]);
    assert.deepEqual(unwrapKeyMaterial(WRAPPING_ALGORITHMS.RSA_AES_KEY_WRAP_SHA_256!, pair2048.privateKey, wrapped), material);
  }
});

test('UnwrapError carries no detail', () => {
  const e = new UnwrapError();
  assert.equal(e.name, 'UnwrapError');
  assert.equal(e.message, 'the wrapped key material could not be unwrapped');
});
