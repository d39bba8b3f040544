/**
 * GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext through @aws-sdk/client-kms: a
 * PKCS#8 DER private key whose encrypted copy plain Decrypt opens, the matching DER public key,
 * for every pair spec served; Recipient refused clearly; AWS's errors.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  CreateKeyCommand,
  DecryptCommand,
  GenerateDataKeyPairCommand,
  GenerateDataKeyPairWithoutPlaintextCommand,
  KMSClient,
  type DataKeyPairSpec,
} from '@aws-sdk/client-kms';
import { rejects, validation } from '../helpers/assertions';
import { removeDir, startServer, type TestServer } from '../helpers/server';

const SPECS: ReadonlyArray<[DataKeyPairSpec, string, string | number]> = [
  ['RSA_2048', 'rsa', 2048],
  ['RSA_3072', 'rsa', 3072],
  ['RSA_4096', 'rsa', 4096],
  ['ECC_NIST_P256', 'ec', 'prime256v1'],
  ['ECC_NIST_P384', 'ec', 'secp384r1'],
  ['ECC_NIST_P521', 'ec', 'secp521r1'],
  ['ECC_SECG_P256K1', 'ec', 'secp256k1'],
  ['ECC_NIST_EDWARDS25519', 'ed25519', ''],
];

describe('GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext', () => {
  let server: TestServer;
  let kms: KMSClient;
  let keyArn: string;

  before(async () => {
    server = await startServer();
    kms = server.client();
    keyArn = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  });
  after(async () => {
    kms?.destroy();
    assert.equal(await server.stop(), 0);
    removeDir(server.dataDir);
  });

  for (const [spec, type, detail] of SPECS) {
    test(`${spec}: a PKCS#8 private key, its encrypted copy that Decrypt opens, and the matching public key`, async () => {
      const context = { purpose: 'data-key-pair', spec };
      const out = await kms.send(new GenerateDataKeyPairCommand({ KeyId: keyArn, KeyPairSpec: spec, EncryptionContext: context }));
      assert.equal(out.KeyId, keyArn);
      assert.equal(out.KeyPairSpec, spec);
      const priv = createPrivateKey({ key: Buffer.from(out.PrivateKeyPlaintext!), format: 'der', type: 'pkcs8' });
      assert.equal(priv.asymmetricKeyType, type);
      if (type === 'rsa') assert.equal(priv.asymmetricKeyDetails?.modulusLength, detail);
      if (type === 'ec') assert.equal(priv.asymmetricKeyDetails?.namedCurve, detail);
      const pub = createPublicKey({ key: Buffer.from(out.PublicKey!), format: 'der', type: 'spki' });
      assert.deepEqual(createPublicKey(priv).export({ type: 'spki', format: 'der' }), Buffer.from(out.PublicKey!));
      const message = Buffer.from('signed with a data key pair');
      const alg = type === 'ed25519' ? null : 'sha256';
      assert.ok(verify(alg, message, pub, sign(alg, message, priv)));
      const opened = await kms.send(new DecryptCommand({ CiphertextBlob: out.PrivateKeyCiphertextBlob, EncryptionContext: context }));
      assert.equal(opened.KeyId, keyArn);
      assert.deepEqual(Buffer.from(opened.Plaintext!), Buffer.from(out.PrivateKeyPlaintext!));
      await rejects(
        kms.send(new DecryptCommand({ CiphertextBlob: out.PrivateKeyCiphertextBlob })),
        'InvalidCiphertextException',
        'The ciphertext is invalid, was altered, or was made with a different encryption context.',
      );
    });
  }

  test('WithoutPlaintext returns no private key; its encrypted copy opens to the private key of the returned public key', async () => {
    const out = await kms.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: keyArn, KeyPairSpec: 'ECC_NIST_P256' }));
    assert.equal((out as unknown as Record<string, unknown>).PrivateKeyPlaintext, undefined);
    assert.equal(out.KeyPairSpec, 'ECC_NIST_P256');
    const opened = await kms.send(new DecryptCommand({ CiphertextBlob: out.PrivateKeyCiphertextBlob }));
    const priv = createPrivateKey({ key: Buffer.from(opened.Plaintext!), format: 'der', type: 'pkcs8' });
    assert.deepEqual(createPublicKey(priv).export({ type: 'spki', format: 'der' }), Buffer.from(out.PublicKey!));
  });

  test('two calls give two different pairs', async () => {
    const a = await kms.send(new GenerateDataKeyPairCommand({ KeyId: keyArn, KeyPairSpec: 'ECC_NIST_EDWARDS25519' }));
    const b = await kms.send(new GenerateDataKeyPairCommand({ KeyId: keyArn, KeyPairSpec: 'ECC_NIST_EDWARDS25519' }));
    assert.notDeepEqual(a.PublicKey, b.PublicKey);
  });

  test('Recipient is refused clearly; SM2 and ML-KEM pairs are not served; an asymmetric KeyId is InvalidKeyUsageException', async () => {
    await rejects(
      kms.send(new GenerateDataKeyPairCommand({
        KeyId: keyArn, KeyPairSpec: 'RSA_2048', Recipient: { KeyEncryptionAlgorithm: 'RSAES_OAEP_SHA_256', AttestationDocument: Buffer.from('doc') },
      })),
      'UnsupportedOperationException',
      'Recipient (a Nitro Enclaves attestation document) is not supported by this Keyhold server: it runs in no enclave.',
    );
    await rejects(
      kms.send(new GenerateDataKeyPairCommand({ KeyId: keyArn, KeyPairSpec: 'SM2' })),
      'UnsupportedOperationException',
      'KeyPairSpec SM2 is offered by AWS only in China Regions and is not supported by this Keyhold server.',
    );
    const signing = (await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.Arn!;
    await rejects(
      kms.send(new GenerateDataKeyPairCommand({ KeyId: signing, KeyPairSpec: 'RSA_2048' })),
      'InvalidKeyUsageException',
      `${signing} key usage is SIGN_VERIFY which is not valid for this operation.`,
    );
  });

  test('validation and DryRun', async () => {
    await rejects(
      kms.send(new GenerateDataKeyPairCommand({ KeyId: keyArn } as never)),
      'ValidationException',
      validation('keyPairSpec', 'not be null', null),
    );
    await rejects(
      kms.send(new GenerateDataKeyPairCommand({ KeyId: keyArn, KeyPairSpec: 'RSA_1024' as DataKeyPairSpec })),
      'ValidationException',
      /^1 validation error detected: Value 'RSA_1024' at 'keyPairSpec' failed to satisfy constraint: Member must satisfy enum value set: \[RSA_2048, /,
    );
    await rejects(
      kms.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: keyArn, KeyPairSpec: 'RSA_2048', DryRun: true })),
      'DryRunOperationException',
      'The request would have succeeded, but the DryRun option is set.',
    );
  });
});
