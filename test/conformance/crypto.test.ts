/**
 * Symmetric cryptographic operations through @aws-sdk/client-kms over a real socket:
 * CreateKey, DescribeKey, Encrypt, Decrypt, ReEncrypt, GenerateDataKey(WithoutPlaintext),
 * GenerateRandom — happy paths and AWS's errors.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GenerateRandomCommand,
  KMSClient,
  ReEncryptCommand,
  ScheduleKeyDeletionCommand,
  CreateAliasCommand,
} from '@aws-sdk/client-kms';
import { rejects } from '../helpers/assertions';
import { removeDir, startServer, type TestServer } from '../helpers/server';

describe('symmetric cryptography', () => {
  let server: TestServer;
  let kms: KMSClient;
  let keyId: string;
  let keyArn: string;

  before(async () => {
    server = await startServer();
    kms = server.client();
    const created = await kms.send(new CreateKeyCommand({ Description: 'crypto tests' }));
    keyId = created.KeyMetadata!.KeyId!;
    keyArn = created.KeyMetadata!.Arn!;
  });
  after(async () => {
    kms?.destroy();
    assert.equal(await server.stop(), 0);
    removeDir(server.dataDir);
  });

  test('CreateKey returns complete KeyMetadata for a symmetric key', async () => {
    const { KeyMetadata: m } = await kms.send(new CreateKeyCommand({ Description: 'd', Tags: [{ TagKey: 'a', TagValue: 'b' }] }));
    assert.ok(m);
    assert.match(m.KeyId!, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(m.Arn, `arn:aws:kms:us-east-1:${server.accountId}:key/${m.KeyId}`);
    assert.equal(m.AWSAccountId, server.accountId);
    assert.equal(m.Enabled, true);
    assert.equal(m.KeyState, 'Enabled');
    assert.equal(m.KeyUsage, 'ENCRYPT_DECRYPT');
    assert.equal(m.KeySpec, 'SYMMETRIC_DEFAULT');
    assert.equal(m.CustomerMasterKeySpec, 'SYMMETRIC_DEFAULT');
    assert.equal(m.Origin, 'AWS_KMS');
    assert.equal(m.KeyManager, 'CUSTOMER');
    assert.equal(m.MultiRegion, false);
    assert.equal(m.Description, 'd');
    assert.deepEqual(m.EncryptionAlgorithms, ['SYMMETRIC_DEFAULT']);
    assert.ok(m.CreationDate instanceof Date && Math.abs(m.CreationDate.getTime() - Date.now()) < 60_000);
  });

  test('DescribeKey answers by key id and by key ARN', async () => {
    const a = await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
    const b = await kms.send(new DescribeKeyCommand({ KeyId: keyArn }));
    assert.equal(a.KeyMetadata!.Arn, keyArn);
    assert.deepEqual(a.KeyMetadata, b.KeyMetadata);
  });

  test('Encrypt then Decrypt without KeyId round-trips, with encryption context', async () => {
    const plaintext = Buffer.from('attack at dawn');
    const ctx = { tenant: 'acme', purpose: 'test' };
    const enc = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: plaintext, EncryptionContext: ctx }));
    assert.equal(enc.KeyId, keyArn);
    assert.equal(enc.EncryptionAlgorithm, 'SYMMETRIC_DEFAULT');
    assert.ok(!Buffer.from(enc.CiphertextBlob!).includes(plaintext));
    const dec = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { purpose: 'test', tenant: 'acme' } }));
    assert.equal(Buffer.from(dec.Plaintext!).toString(), 'attack at dawn');
    assert.equal(dec.KeyId, keyArn);
    assert.equal(dec.EncryptionAlgorithm, 'SYMMETRIC_DEFAULT');
  });

  test('Decrypt with a wrong, missing or extra encryption context fails with InvalidCiphertextException', async () => {
    const enc = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x'), EncryptionContext: { a: 'bc' } }));
    for (const ctx of [undefined, { a: "b" }, { ab: "c" }, { a: "bc", d: "e" }, { A: "bc" }] as (Record<string, string> | undefined)[]) {
      await rejects(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ctx })), 'InvalidCiphertextException');
    }
  });

  test('two encryptions of the same plaintext differ', async () => {
    const a = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('same') }));
    const b = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('same') }));
    assert.notDeepEqual(Buffer.from(a.CiphertextBlob!), Buffer.from(b.CiphertextBlob!));
  });

  test('a flipped byte anywhere in the ciphertext fails with one fixed InvalidCiphertextException', async () => {
    const enc = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('integrity') }));
    const blob = Buffer.from(enc.CiphertextBlob!);
    const messages = new Set<string>();
    for (const i of [0, 1, 20, 60, 80, 95, blob.length - 20, blob.length - 1]) {
      const bad = Buffer.from(blob);
      bad[i]! ^= 0x01;
      await assert.rejects(kms.send(new DecryptCommand({ CiphertextBlob: bad })), (err: Error) => {
        assert.ok(['InvalidCiphertextException', 'AccessDeniedException'].includes(err.name), `${i}: ${err.name}`);
        if (err.name === 'InvalidCiphertextException') messages.add(err.message);
        return true;
      });
    }
    assert.equal(messages.size, 1);
  });

  test('Decrypt with KeyId of another key fails with IncorrectKeyException', async () => {
    const other = await kms.send(new CreateKeyCommand({}));
    const enc = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') }));
    await rejects(
      kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, KeyId: other.KeyMetadata!.KeyId })),
      'IncorrectKeyException',
      'The key ID in the request does not identify a CMK that can perform this operation.',
    );
    const ok = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, KeyId: keyArn }));
    assert.equal(Buffer.from(ok.Plaintext!).toString(), 'x');
  });

  test('Encrypt by alias name and alias ARN', async () => {
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/crypto-test', TargetKeyId: keyId }));
    const a = await kms.send(new EncryptCommand({ KeyId: 'alias/crypto-test', Plaintext: Buffer.from('1') }));
    assert.equal(a.KeyId, keyArn);
    const b = await kms.send(
      new EncryptCommand({ KeyId: `arn:aws:kms:us-east-1:${server.accountId}:alias/crypto-test`, Plaintext: Buffer.from('1') }),
    );
    assert.equal(b.KeyId, keyArn);
    await rejects(
      kms.send(new EncryptCommand({ KeyId: 'alias/missing', Plaintext: Buffer.from('1') })),
      'NotFoundException',
      `Alias arn:aws:kms:us-east-1:${server.accountId}:alias/missing is not found.`,
    );
  });

  test('Encrypt rejects a missing key, oversized and empty plaintext', async () => {
    const missing = '11111111-2222-3333-4444-555555555555';
    await rejects(
      kms.send(new EncryptCommand({ KeyId: missing, Plaintext: Buffer.from('x') })),
      'NotFoundException',
      `Key 'arn:aws:kms:us-east-1:${server.accountId}:key/${missing}' does not exist`,
    );
    await rejects(
      kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.alloc(4097) })),
      'ValidationException',
      "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096",
    );
    const max = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.alloc(4096, 7) }));
    const back = await kms.send(new DecryptCommand({ CiphertextBlob: max.CiphertextBlob }));
    assert.deepEqual(Buffer.from(back.Plaintext!), Buffer.alloc(4096, 7));
  });

  test('Encrypt with DryRun answers DryRunOperationException and a disabled key answers DisabledException', async () => {
    await rejects(
      kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x'), DryRun: true })),
      'DryRunOperationException',
      'The request would have succeeded, but the DryRun option is set.',
    );
    const k = await kms.send(new CreateKeyCommand({}));
    const enc = await kms.send(new EncryptCommand({ KeyId: k.KeyMetadata!.KeyId, Plaintext: Buffer.from('x') }));
    await kms.send(new DisableKeyCommand({ KeyId: k.KeyMetadata!.KeyId }));
    await rejects(
      kms.send(new EncryptCommand({ KeyId: k.KeyMetadata!.KeyId, Plaintext: Buffer.from('x'), DryRun: true })),
      'DisabledException',
      `${k.KeyMetadata!.Arn} is disabled.`,
    );
    await rejects(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })), 'DisabledException', `${k.KeyMetadata!.Arn} is disabled.`);
  });

  test('a key pending deletion refuses use with KMSInvalidStateException', async () => {
    const k = await kms.send(new CreateKeyCommand({}));
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: k.KeyMetadata!.KeyId, PendingWindowInDays: 7 }));
    await rejects(
      kms.send(new EncryptCommand({ KeyId: k.KeyMetadata!.KeyId, Plaintext: Buffer.from('x') })),
      'KMSInvalidStateException',
      `${k.KeyMetadata!.Arn} is pending deletion.`,
    );
  });

  test('GenerateDataKey returns a data key whose ciphertext decrypts to it', async () => {
    for (const [params, len] of [[{ KeySpec: 'AES_256' as const }, 32], [{ KeySpec: 'AES_128' as const }, 16], [{ NumberOfBytes: 1 }, 1], [{ NumberOfBytes: 1024 }, 1024]] as const) {
      const dk = await kms.send(new GenerateDataKeyCommand({ KeyId: keyId, ...params, EncryptionContext: { k: 'v' } }));
      assert.equal(dk.Plaintext!.length, len);
      assert.equal(dk.KeyId, keyArn);
      const dec = await kms.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob, EncryptionContext: { k: 'v' } }));
      assert.deepEqual(Buffer.from(dec.Plaintext!), Buffer.from(dk.Plaintext!));
    }
  });

  test('GenerateDataKey needs exactly one of KeySpec and NumberOfBytes', async () => {
    await rejects(kms.send(new GenerateDataKeyCommand({ KeyId: keyId })), 'ValidationException', 'Please specify either number of bytes or key spec.');
    await rejects(kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', NumberOfBytes: 32 })), 'ValidationException');
    await rejects(
      kms.send(new GenerateDataKeyCommand({ KeyId: keyId, NumberOfBytes: 1025 })),
      'ValidationException',
      "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024",
    );
    await rejects(
      kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_512' as never })),
      'ValidationException',
      "1 validation error detected: Value 'AES_512' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]",
    );
  });

  test('GenerateDataKeyWithoutPlaintext returns only the ciphertext', async () => {
    const dk = await kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: keyId, KeySpec: 'AES_256' }));
    assert.equal((dk as { Plaintext?: unknown }).Plaintext, undefined);
    const dec = await kms.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob }));
    assert.equal(dec.Plaintext!.length, 32);
  });

  test('ReEncrypt moves a ciphertext to another key and context', async () => {
    const dest = await kms.send(new CreateKeyCommand({}));
    const enc = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('move me'), EncryptionContext: { s: '1' } }));
    const re = await kms.send(
      new ReEncryptCommand({
        CiphertextBlob: enc.CiphertextBlob,
        SourceEncryptionContext: { s: '1' },
        DestinationKeyId: dest.KeyMetadata!.KeyId,
        DestinationEncryptionContext: { d: '2' },
      }),
    );
    assert.equal(re.SourceKeyId, keyArn);
    assert.equal(re.KeyId, dest.KeyMetadata!.Arn);
    const dec = await kms.send(new DecryptCommand({ CiphertextBlob: re.CiphertextBlob, EncryptionContext: { d: '2' } }));
    assert.equal(Buffer.from(dec.Plaintext!).toString(), 'move me');
    assert.equal(dec.KeyId, dest.KeyMetadata!.Arn);
    await rejects(
      kms.send(new ReEncryptCommand({ CiphertextBlob: enc.CiphertextBlob, DestinationKeyId: keyId })),
      'InvalidCiphertextException',
    );
    await rejects(
      kms.send(new ReEncryptCommand({ CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: { s: '1' }, SourceKeyId: dest.KeyMetadata!.KeyId, DestinationKeyId: keyId })),
      'IncorrectKeyException',
    );
  });

  test('GenerateRandom returns the requested number of bytes', async () => {
    const a = await kms.send(new GenerateRandomCommand({ NumberOfBytes: 64 }));
    const b = await kms.send(new GenerateRandomCommand({ NumberOfBytes: 64 }));
    assert.equal(a.Plaintext!.length, 64);
    assert.notDeepEqual(Buffer.from(a.Plaintext!), Buffer.from(b.Plaintext!));
    await rejects(
      kms.send(new GenerateRandomCommand({ NumberOfBytes: 0 })),
      'ValidationException',
      "1 validation error detected: Value '0' at 'numberOfBytes' failed to satisfy constraint: Member must have value greater than or equal to 1",
    );
  });

  test('a blob that is not a Keyhold ciphertext fails with InvalidCiphertextException', async () => {
    await rejects(kms.send(new DecryptCommand({ CiphertextBlob: Buffer.from('not a ciphertext at all') })), 'InvalidCiphertextException');
    await rejects(kms.send(new DecryptCommand({ CiphertextBlob: Buffer.alloc(200, 1) })), 'InvalidCiphertextException');
  });
});
