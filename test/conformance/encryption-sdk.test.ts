/**
 * The AWS Encryption SDK for JavaScript (@aws-crypto/client-node) with a KMS keyring pointed at
 * Keyhold: the keyring calls GenerateDataKey, Encrypt and Decrypt with key ARNs, unmodified
 * (docs/architecture.md §1 promise 4).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { CreateKeyCommand, DecryptCommand, KMS } from '@aws-sdk/client-kms';
import { buildClient, CommitmentPolicy, getClient, KmsKeyringNode, type KmsNodeClientSupplier } from '@aws-crypto/client-node';
import { startServer, stopAndRemove, type TestServer } from '../helpers/server';

describe('AWS Encryption SDK with a KMS keyring on Keyhold', () => {
  const { encrypt, decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
  let server: TestServer;
  let clientProvider: KmsNodeClientSupplier;
  const arns: string[] = [];
  const clients: KMS[] = [];

  before(async () => {
    server = await startServer();
    const base = getClient(KMS, {
      endpoint: server.endpoint,
      credentials: server.credentials,
      maxAttempts: 1,
    });
    // Remember every client the keyring builds so they can be destroyed afterwards.
    clientProvider = (region: string) => {
      const c = base(region);
      if (c !== false) clients.push(c);
      return c;
    };
    const kms = server.client();
    try {
      for (let i = 0; i < 3; i++) {
        const out = await kms.send(new CreateKeyCommand({ Description: `esdk ${i}` }));
        arns.push(out.KeyMetadata!.Arn!);
      }
    } finally {
      kms.destroy();
    }
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await stopAndRemove(server, { exitCode: 0 });
  });

  test('encrypt and decrypt a message with an encryption context through one KMS key', async () => {
    const keyring = new KmsKeyringNode({ clientProvider, generatorKeyId: arns[0] });
    const plaintext = randomBytes(10_000);
    const context = { tenant: 'acme', purpose: 'esdk-test' };
    const { result, messageHeader } = await encrypt(keyring, plaintext, { encryptionContext: context });
    assert.ok(!result.includes(plaintext.subarray(0, 64)), 'the message must not contain the plaintext');
    assert.equal(messageHeader.encryptedDataKeys.length, 1);
    assert.equal(messageHeader.encryptedDataKeys[0]!.providerId, 'aws-kms');
    assert.equal(messageHeader.encryptedDataKeys[0]!.providerInfo, arns[0]);

    const out = await decrypt(keyring, result);
    assert.ok(Buffer.from(out.plaintext).equals(plaintext));
    for (const [k, v] of Object.entries(context)) assert.equal(out.messageHeader.encryptionContext[k], v);
    // The SDK adds its signing-key entry only for signed suites; nothing else may appear.
    const extra = Object.keys(out.messageHeader.encryptionContext).filter((k) => !(k in context) && k !== 'aws-crypto-public-key');
    assert.deepEqual(extra, []);
  });

  test('a generator plus an additional key: a keyring holding only the additional key decrypts', async () => {
    const both = new KmsKeyringNode({ clientProvider, generatorKeyId: arns[0], keyIds: [arns[1]!] });
    const plaintext = Buffer.from('two keys, one message ' + randomBytes(8).toString('hex'));
    const context = { app: 'keyhold', stage: 'conformance' };
    const { result, messageHeader } = await encrypt(both, plaintext, { encryptionContext: context });
    assert.deepEqual(
      messageHeader.encryptedDataKeys.map((k) => k.providerInfo),
      [arns[0], arns[1]],
    );

    const secondOnly = new KmsKeyringNode({ clientProvider, keyIds: [arns[1]!] });
    const out = await decrypt(secondOnly, result);
    assert.ok(Buffer.from(out.plaintext).equals(plaintext));
    assert.equal(out.messageHeader.encryptionContext.app, 'keyhold');
    assert.equal(out.messageHeader.encryptionContext.stage, 'conformance');

    const firstOnly = new KmsKeyringNode({ clientProvider, keyIds: [arns[0]!] });
    const out0 = await decrypt(firstOnly, result);
    assert.ok(Buffer.from(out0.plaintext).equals(plaintext));
  });

  test('a keyring holding an unrelated key cannot decrypt', async () => {
    const keyring = new KmsKeyringNode({ clientProvider, generatorKeyId: arns[0] });
    const { result, messageHeader } = await encrypt(keyring, Buffer.from('secret'), { encryptionContext: { a: 'b' } });
    const other = new KmsKeyringNode({ clientProvider, keyIds: [arns[2]!] });
    // The keyring skips data keys of other KMS keys, so no data key is ever decrypted.
    await assert.rejects(decrypt(other, result), /unencryptedDataKey has not been set|Unable to decrypt/);
    // And Keyhold itself refuses the encrypted data key under the wrong KMS key.
    const edk = messageHeader.encryptedDataKeys[0]!;
    const kms = server.client();
    try {
      await assert.rejects(
        kms.send(new DecryptCommand({ CiphertextBlob: edk.encryptedDataKey, KeyId: arns[2], EncryptionContext: messageHeader.encryptionContext })),
        (err: Error) => err.name === 'IncorrectKeyException',
      );
      const ok = await kms.send(new DecryptCommand({ CiphertextBlob: edk.encryptedDataKey, KeyId: arns[0], EncryptionContext: messageHeader.encryptionContext }));
      assert.equal(ok.KeyId, arns[0]);
      assert.equal(ok.Plaintext?.length, 32);
    } finally {
      kms.destroy();
    }
  });

  test('a tampered message fails to decrypt', async () => {
    const keyring = new KmsKeyringNode({ clientProvider, generatorKeyId: arns[0] });
    const { result } = await encrypt(keyring, Buffer.from('integrity matters'), { encryptionContext: { a: 'b' } });
    const tampered = Buffer.from(result);
    tampered[tampered.length - 100] ^= 0x01;
    await assert.rejects(decrypt(keyring, tampered));
  });
});
