/** The frozen key-spec table against the KMS model's enums (npm @aws-sdk/client-kms) and the algorithm tables. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CustomerMasterKeySpec, DataKeyPairSpec, EncryptionAlgorithmSpec, KeySpec, MacAlgorithmSpec, SigningAlgorithmSpec } from '@aws-sdk/client-kms';
import { ENCRYPTION_ALGORITHMS, MAC_ALGORITHMS, oaepMaxPlaintext, SIGNING_ALGORITHMS } from '../../src/crypto/algorithms';
import { CUSTOMER_MASTER_KEY_SPECS, DATA_KEY_PAIR_SPECS, KEY_SPECS, keySpecFacts } from '../../src/keys/key-specs';

test('the table holds every KeySpec of the model, and the legacy and data-key-pair enums match the model', () => {
  assert.deepEqual(Object.keys(KEY_SPECS).sort(), Object.values(KeySpec).sort());
  assert.deepEqual([...CUSTOMER_MASTER_KEY_SPECS].sort(), Object.values(CustomerMasterKeySpec).sort());
  assert.deepEqual([...DATA_KEY_PAIR_SPECS].sort(), Object.values(DataKeyPairSpec).sort());
});

test('the algorithm tables hold every algorithm of the model, and every algorithm a spec names exists', () => {
  assert.deepEqual(Object.keys(SIGNING_ALGORITHMS).sort(), Object.values(SigningAlgorithmSpec).sort());
  assert.deepEqual(Object.keys(ENCRYPTION_ALGORITHMS).sort(), Object.values(EncryptionAlgorithmSpec).sort());
  assert.deepEqual(Object.keys(MAC_ALGORITHMS).sort(), Object.values(MacAlgorithmSpec).sort());
  const tables: Record<string, Record<string, unknown>> = {
    SIGN_VERIFY: SIGNING_ALGORITHMS, ENCRYPT_DECRYPT: ENCRYPTION_ALGORITHMS, GENERATE_VERIFY_MAC: MAC_ALGORITHMS,
  };
  for (const facts of Object.values(KEY_SPECS)) {
    for (const [usage, algs] of Object.entries(facts.usages)) {
      assert.ok(algs.length > 0, `${facts.spec} ${usage}`);
      for (const a of algs) if (tables[usage] !== undefined) assert.ok(tables[usage]![a] !== undefined, `${facts.spec} ${usage} ${a}`);
    }
  }
});

test('the table is frozen, and facts match AWS: one ECDSA algorithm per curve, HMAC key lengths, only symmetric keys rotate', () => {
  assert.ok(Object.isFrozen(KEY_SPECS));
  assert.ok(Object.isFrozen(keySpecFacts('RSA_2048').usages.SIGN_VERIFY));
  assert.throws(() => ((KEY_SPECS as Record<string, unknown>).X = 1), TypeError);
  assert.deepEqual(keySpecFacts('ECC_NIST_P256').usages.SIGN_VERIFY, ['ECDSA_SHA_256']);
  assert.deepEqual(keySpecFacts('ECC_NIST_P384').usages.SIGN_VERIFY, ['ECDSA_SHA_384']);
  assert.deepEqual(keySpecFacts('ECC_NIST_P521').usages.SIGN_VERIFY, ['ECDSA_SHA_512']);
  assert.deepEqual(keySpecFacts('ECC_SECG_P256K1').usages.SIGN_VERIFY, ['ECDSA_SHA_256']);
  assert.deepEqual(keySpecFacts('ECC_NIST_EDWARDS25519').generation, { type: 'ed25519' });
  assert.deepEqual(keySpecFacts('HMAC_224').generation, { type: 'secret', bytes: 28 });
  assert.deepEqual(keySpecFacts('HMAC_512').generation, { type: 'secret', bytes: 64 });
  assert.deepEqual(Object.values(KEY_SPECS).filter((f) => f.rotatable).map((f) => f.spec), ['SYMMETRIC_DEFAULT']);
  assert.equal(keySpecFacts('RSA_2048').priceClass, 'rsa-2048');
  assert.equal(keySpecFacts('RSA_4096').quotaClass, 'rsa');
  assert.equal(keySpecFacts('HMAC_256').quotaClass, 'symmetric');
});

test('RSAES-OAEP plaintext limits are AWS\'s (k - 2·hLen - 2)', () => {
  const sha1 = ENCRYPTION_ALGORITHMS.RSAES_OAEP_SHA_1!;
  const sha256 = ENCRYPTION_ALGORITHMS.RSAES_OAEP_SHA_256!;
  assert.deepEqual([2048, 3072, 4096].map((b) => [oaepMaxPlaintext(b, sha1), oaepMaxPlaintext(b, sha256)]), [[214, 190], [342, 318], [470, 446]]);
});
