/**
 * Validation against the generated KMS input shapes, in AWS's message forms (issue 8): the value
 * quoted for ordinary members, left out for sensitive ones, blobs as Java's ByteBuffer
 * description, enum sets as [A, B, C], null for a missing member, every error counted.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServiceError } from '../../src/errors';
import { KMS_INPUTS } from '../../src/model/kms-inputs';
import { MODELLED_OPERATIONS } from '../../src/model/operations';
import { decodeInput } from '../../src/operations/shape';

function message(op: keyof typeof KMS_INPUTS, body: Record<string, unknown>): string {
  try {
    decodeInput(KMS_INPUTS[op]!, body);
  } catch (e) {
    assert.ok(e instanceof ServiceError);
    assert.equal(e.name, 'ValidationException');
    return e.message;
  }
  assert.fail('no ValidationException');
}

test('every modelled KMS operation has a generated input shape', () => {
  assert.deepEqual(Object.keys(KMS_INPUTS).sort(), [...MODELLED_OPERATIONS.kms]);
  for (const op of ['Sign', 'Verify', 'GetPublicKey', 'GenerateMac', 'VerifyMac', 'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext', 'DeriveSharedSecret', 'Encapsulate', 'Decapsulate']) {
    assert.equal(KMS_INPUTS[op]!.type, 'structure', op);
    assert.equal(KMS_INPUTS[op]!.members.KeyId?.required, true, `${op} KeyId is required`);
  }
});

test('an ordinary member is quoted; the pattern is the model\'s own text', () => {
  assert.equal(
    message('CreateAlias', { AliasName: 'alias/my-alias!', TargetKeyId: 'k' }),
    "1 validation error detected: Value 'alias/my-alias!' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$",
  );
});

test('enum sets are written [A, B, C]', () => {
  assert.equal(
    message('Sign', { KeyId: 'k', Message: 'AA==', SigningAlgorithm: 'RSA_PSS' }),
    "1 validation error detected: Value 'RSA_PSS' at 'signingAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: " +
      `[${(KMS_INPUTS.Sign!.members.SigningAlgorithm as unknown as { enum: string[] }).enum.join(', ')}]`,
  );
});

test('a sensitive member is never quoted; an ordinary blob is described, never shown', () => {
  const big = Buffer.alloc(4097, 7).toString('base64');
  assert.equal(
    message('Encrypt', { KeyId: 'k', Plaintext: big }),
    "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096",
  );
  assert.equal(
    message('Decrypt', { CiphertextBlob: Buffer.alloc(6145).toString('base64') }),
    "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=6145 cap=6145]' at 'ciphertextBlob' failed to satisfy constraint: Member must have length less than or equal to 6144",
  );
});

test('several errors are counted and joined as AWS does; a missing member is null', () => {
  assert.equal(
    message('GenerateRandom', { NumberOfBytes: 2000, CustomKeyStoreId: '' }),
    "2 validation errors detected: Value '2000' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024; " +
      "Value '' at 'customKeyStoreId' failed to satisfy constraint: Member must have length greater than or equal to 1",
  );
  assert.equal(
    message('Encrypt', {}),
    "2 validation errors detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null; " +
      "Value at 'plaintext' failed to satisfy constraint: Member must not be null",
  );
});

test('U+0000 in a string member is refused (a Keyhold limit: PostgreSQL text cannot hold it), once per member, value left out', () => {
  assert.equal(
    message('CreateKey', { Description: 'a\u0000b' }),
    "1 validation error detected: Value at 'description' failed to satisfy constraint: Member must not contain the character U+0000",
  );
  assert.equal(
    message('TagResource', { KeyId: 'k', Tags: [{ TagKey: 'ok', TagValue: 'v' }, { TagKey: 'k\u0000', TagValue: '\u0000' }] }),
    "2 validation errors detected: Value at 'tags.2.member.tagKey' failed to satisfy constraint: Member must not contain the character U+0000; " +
      "Value at 'tags.2.member.tagValue' failed to satisfy constraint: Member must not contain the character U+0000",
  );
  // A member whose pattern refuses the value says so once, as AWS would.
  assert.match(message('CreateAlias', { AliasName: 'alias/a\u0000', TargetKeyId: 'k' }), /^1 validation error detected: .* regular expression pattern/);
  // Encryption contexts keep any character (stored only as escaped JSON text).
  assert.doesNotThrow(() => decodeInput(KMS_INPUTS.Encrypt!, { KeyId: 'k', Plaintext: 'YQ==', EncryptionContext: { 'a\u0000': 'b\u0000' } }));
});
