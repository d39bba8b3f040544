/**
 * Audit redaction from the models (issue 8): sensitive members, every blob member and the
 * committed overlay (model/overlays/audit-redact.json) never reach requestParameters or
 * responseElements; ordinary members (the encryption context, key ids) do.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requestParameters, responseElements } from '../../src/audit/request-parameters';
import { KMS_INPUTS } from '../../src/model/kms-inputs';
import { REDACTED_EVERYWHERE, REDACTED_MEMBERS } from '../../src/model/redaction';

test('blob and sensitive members of every service, and the overlay, are redacted by name', () => {
  for (const name of ['CiphertextBlob', 'Plaintext', 'Signature', 'Mac', 'SharedSecret', 'PrivateKeyPlaintext', 'SessionToken', 'SecretAccessKey', 'GrantToken', 'KeyStorePassword']) {
    assert.ok(REDACTED_EVERYWHERE.has(name), name);
  }
  // Ordinary in IAM, sensitive only inside KMS's XKS credential: redacted through the shape.
  assert.ok(!REDACTED_EVERYWHERE.has('AccessKeyId'));
  assert.ok(REDACTED_MEMBERS.kms!.has('AccessKeyId'));
});

test('requestParameters keeps ordinary members and drops sensitive ones, at any depth', () => {
  const body = {
    CustomKeyStoreName: 'xks',
    CustomKeyStoreType: 'EXTERNAL_KEY_STORE',
    XksProxyAuthenticationCredential: { AccessKeyId: 'AKIAXKSSECRETID00000', RawSecretAccessKey: 'c2VjcmV0'.repeat(6) },
    KeyStorePassword: 'hunter22',
  };
  assert.deepEqual(requestParameters(KMS_INPUTS.CreateCustomKeyStore!, body), { customKeyStoreName: 'xks', customKeyStoreType: 'EXTERNAL_KEY_STORE' });
  const sign = { KeyId: 'k', Message: 'bWVzc2FnZQ==', SigningAlgorithm: 'ECDSA_SHA_256', MessageType: 'RAW' };
  assert.deepEqual(requestParameters(KMS_INPUTS.Sign!, sign), { keyId: 'k', signingAlgorithm: 'ECDSA_SHA_256', messageType: 'RAW' });
  const decrypt = { CiphertextBlob: 'AAAA', EncryptionContext: { tenant: 'acme' }, KeyId: 'k' };
  assert.deepEqual(requestParameters(KMS_INPUTS.Decrypt!, decrypt), { encryptionContext: { tenant: 'acme' }, keyId: 'k' });
  assert.deepEqual(requestParameters(KMS_INPUTS.RetireGrant!, { GrantToken: 'token-value', GrantId: 'g' }), { grantId: 'g' });
});

test('responseElements drops redacted members', () => {
  const out = JSON.stringify({ KeyId: 'k', SharedSecret: 'c2VjcmV0', CiphertextForRecipient: 'AAAA', KeyAgreementAlgorithm: 'ECDH' });
  assert.deepEqual(responseElements(out), { keyId: 'k', keyAgreementAlgorithm: 'ECDH' });
});
