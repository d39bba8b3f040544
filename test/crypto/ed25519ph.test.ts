/**
 * Ed25519ph (RFC 8032 §5.1, ED25519_PH_SHA_512) in Keyhold's signing code against the test vector
 * of RFC 8032 §7.3 ("TEST abc"): the key as node:crypto holds it, the message "abc", the
 * signature published in the RFC.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { test } from 'node:test';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from '../../src/crypto/algorithms';
import { signMessage, verifyMessage } from '../../src/crypto/signatures';

const RFC8032_7_3 = {
  secretKey: '833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42',
  publicKey: 'ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf',
  message: '616263',
  signature:
    '98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae41' +
    '31f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406',
};

const ALG = SIGNING_ALGORITHMS.ED25519_PH_SHA_512 as SigningAlgorithm;

test('RFC 8032 §7.3: Ed25519ph of "abc" is the published signature, and verifies', () => {
  const jwk = {
    kty: 'OKP',
    crv: 'Ed25519',
    d: Buffer.from(RFC8032_7_3.secretKey, 'hex').toString('base64url'),
    x: Buffer.from(RFC8032_7_3.publicKey, 'hex').toString('base64url'),
  };
  const privateKey = createPrivateKey({ key: jwk, format: 'jwk' });
  const publicKey = createPublicKey(privateKey);
  const message = Buffer.from(RFC8032_7_3.message, 'hex');
  const signature = signMessage(ALG, privateKey, message, true);
  assert.equal(signature.toString('hex'), RFC8032_7_3.signature);
  assert.equal(verifyMessage(ALG, publicKey, message, true, signature), true);
  const bad = Buffer.from(signature);
  bad[0] ^= 1;
  assert.equal(verifyMessage(ALG, publicKey, message, true, bad), false);
  assert.equal(verifyMessage(ALG, publicKey, Buffer.from('abd'), true, signature), false);
  assert.equal(verifyMessage(ALG, publicKey, message, true, signature.subarray(1)), false);
  // Not pure Ed25519: the same key's Ed25519 signature of "abc" differs.
  const pure = signMessage(SIGNING_ALGORITHMS.ED25519_SHA_512 as SigningAlgorithm, privateKey, message, false);
  assert.notEqual(pure.toString('hex'), RFC8032_7_3.signature);
});
