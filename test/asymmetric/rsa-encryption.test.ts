/**
 * RSA ENCRYPT_DECRYPT keys through @aws-sdk/client-kms: OpenSSL encrypts to the KMS public key
 * (OAEP with SHA-1 and SHA-256, MGF1 with the same hash) and KMS decrypts; AWS's plaintext
 * limits; Decrypt needs KeyId and EncryptionAlgorithm; ReEncrypt between symmetric and RSA keys.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetPublicKeyCommand,
  KMSClient,
  ReEncryptCommand,
  SignCommand,
} from '@aws-sdk/client-kms';
import { rejects } from '../helpers/assertions';
import { opensslOaepEncrypt } from '../helpers/openssl-verify';
import { removeDir, startServer, type TestServer } from '../helpers/server';

const INVALID_CIPHERTEXT = 'The ciphertext is invalid, was altered, or was made with a different encryption context.';
const LIMITS: Readonly<Record<string, [number, number]>> = { RSA_2048: [214, 190], RSA_3072: [342, 318], RSA_4096: [470, 446] };

describe('RSA encryption keys', () => {
  let server: TestServer;
  let kms: KMSClient;
  const keys = new Map<string, { arn: string; spki: Uint8Array }>();
  let symmetric: string;

  before(async () => {
    server = await startServer();
    kms = server.client();
    for (const spec of Object.keys(LIMITS)) {
      const { KeyMetadata: m } = await kms.send(new CreateKeyCommand({ KeySpec: spec as 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' }));
      const pub = await kms.send(new GetPublicKeyCommand({ KeyId: m!.Arn! }));
      keys.set(spec, { arn: m!.Arn!, spki: pub.PublicKey! });
    }
    symmetric = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  });
  after(async () => {
    kms?.destroy();
    assert.equal(await server.stop(), 0);
    removeDir(server.dataDir);
  });

  test('DescribeKey and GetPublicKey list the OAEP algorithms', async () => {
    for (const [spec, { arn }] of keys) {
      const { KeyMetadata: m } = await kms.send(new DescribeKeyCommand({ KeyId: arn }));
      assert.equal(m!.KeySpec, spec);
      assert.deepEqual(m!.EncryptionAlgorithms, ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256']);
      assert.equal(m!.SigningAlgorithms, undefined);
      const pub = await kms.send(new GetPublicKeyCommand({ KeyId: arn }));
      assert.deepEqual(pub.EncryptionAlgorithms, ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256']);
      assert.equal(pub.KeyUsage, 'ENCRYPT_DECRYPT');
    }
  });

  for (const spec of Object.keys(LIMITS)) {
    for (const [alg, hash] of [['RSAES_OAEP_SHA_1', 'sha1'], ['RSAES_OAEP_SHA_256', 'sha256']] as const) {
      test(`${spec} ${alg}: openssl encrypts to the public key and KMS decrypts; KMS's ciphertext is raw OAEP`, async () => {
        const { arn, spki } = keys.get(spec)!;
        const max = LIMITS[spec]![alg === 'RSAES_OAEP_SHA_1' ? 0 : 1];
        const plaintext = randomBytes(max);
        const ct = opensslOaepEncrypt(spki, plaintext, hash);
        const out = await kms.send(new DecryptCommand({ KeyId: arn, CiphertextBlob: ct, EncryptionAlgorithm: alg }));
        assert.deepEqual(Buffer.from(out.Plaintext!), plaintext);
        assert.equal(out.KeyId, arn);
        assert.equal(out.EncryptionAlgorithm, alg);
        const enc = await kms.send(new EncryptCommand({ KeyId: arn, Plaintext: plaintext, EncryptionAlgorithm: alg }));
        assert.equal(enc.EncryptionAlgorithm, alg);
        assert.equal(enc.CiphertextBlob!.length, Number(spec.slice(4)) / 8);
        const back = await kms.send(new DecryptCommand({ KeyId: arn, CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: alg }));
        assert.deepEqual(Buffer.from(back.Plaintext!), plaintext);
        await rejects(
          kms.send(new EncryptCommand({ KeyId: arn, Plaintext: randomBytes(max + 1), EncryptionAlgorithm: alg })),
          'ValidationException',
          `Plaintext is too long for ${alg} with a ${spec} key: the maximum is ${max} bytes.`,
        );
      });
    }
  }

  test('Decrypt of RSA ciphertext: without KeyId, without or with the wrong EncryptionAlgorithm, or altered, fails as AWS does', async () => {
    const { arn, spki } = keys.get('RSA_2048')!;
    const ct = opensslOaepEncrypt(spki, Buffer.from('secret'), 'sha256');
    await rejects(kms.send(new DecryptCommand({ CiphertextBlob: ct })), 'InvalidCiphertextException', INVALID_CIPHERTEXT);
    await rejects(
      kms.send(new DecryptCommand({ KeyId: arn, CiphertextBlob: ct })),
      'InvalidKeyUsageException',
      'Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048.',
    );
    await rejects(
      kms.send(new DecryptCommand({ KeyId: arn, CiphertextBlob: ct, EncryptionAlgorithm: 'RSAES_OAEP_SHA_1' })),
      'InvalidCiphertextException',
      INVALID_CIPHERTEXT,
    );
    const altered = Buffer.from(ct);
    altered[100] ^= 1;
    await rejects(
      kms.send(new DecryptCommand({ KeyId: arn, CiphertextBlob: altered, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })),
      'InvalidCiphertextException',
      INVALID_CIPHERTEXT,
    );
    await rejects(
      kms.send(new DecryptCommand({ KeyId: arn, CiphertextBlob: ct.subarray(1), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })),
      'InvalidCiphertextException',
      INVALID_CIPHERTEXT,
    );
    // Another RSA key cannot decrypt it either.
    await rejects(
      kms.send(new DecryptCommand({ KeyId: keys.get('RSA_3072')!.arn, CiphertextBlob: ct, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })),
      'InvalidCiphertextException',
      INVALID_CIPHERTEXT,
    );
  });

  test('an encryption context is refused with RSA keys; RSA keys cannot make data keys or sign', async () => {
    const { arn } = keys.get('RSA_2048')!;
    await rejects(
      kms.send(new EncryptCommand({ KeyId: arn, Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256', EncryptionContext: { a: 'b' } })),
      'ValidationException',
      'EncryptionContext is not supported with asymmetric KMS keys.',
    );
    await rejects(
      kms.send(new GenerateDataKeyCommand({ KeyId: arn, KeySpec: 'AES_256' })),
      'InvalidKeyUsageException',
      `${arn} key usage is ENCRYPT_DECRYPT which is not valid for this operation.`,
    );
    await rejects(
      kms.send(new SignCommand({ KeyId: arn, Message: Buffer.from('m'), SigningAlgorithm: 'RSASSA_PSS_SHA_256' })),
      'InvalidKeyUsageException',
      `${arn} key usage is ENCRYPT_DECRYPT which is not valid for this operation.`,
    );
    await rejects(
      kms.send(new EncryptCommand({ KeyId: symmetric, Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })),
      'InvalidKeyUsageException',
      `The encryption algorithm RSAES_OAEP_SHA_256 is not valid for ${symmetric}.`,
    );
    const signing = (await kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.Arn!;
    await rejects(
      kms.send(new EncryptCommand({ KeyId: signing, Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })),
      'InvalidKeyUsageException',
      `${signing} key usage is SIGN_VERIFY which is not valid for this operation.`,
    );
  });

  test('ReEncrypt moves a plaintext from a symmetric key to an RSA key, between RSA keys, and back', async () => {
    const rsa2048 = keys.get('RSA_2048')!.arn;
    const rsa4096 = keys.get('RSA_4096')!.arn;
    const plaintext = randomBytes(100);
    const sym = await kms.send(new EncryptCommand({ KeyId: symmetric, Plaintext: plaintext, EncryptionContext: { c: 'd' } }));
    const toRsa = await kms.send(new ReEncryptCommand({
      CiphertextBlob: sym.CiphertextBlob, SourceEncryptionContext: { c: 'd' },
      DestinationKeyId: rsa2048, DestinationEncryptionAlgorithm: 'RSAES_OAEP_SHA_1',
    }));
    assert.equal(toRsa.KeyId, rsa2048);
    assert.equal(toRsa.SourceKeyId, symmetric);
    assert.equal(toRsa.SourceEncryptionAlgorithm, 'SYMMETRIC_DEFAULT');
    assert.equal(toRsa.DestinationEncryptionAlgorithm, 'RSAES_OAEP_SHA_1');
    assert.equal(toRsa.CiphertextBlob!.length, 256);
    const rsaToRsa = await kms.send(new ReEncryptCommand({
      CiphertextBlob: toRsa.CiphertextBlob, SourceKeyId: rsa2048, SourceEncryptionAlgorithm: 'RSAES_OAEP_SHA_1',
      DestinationKeyId: rsa4096, DestinationEncryptionAlgorithm: 'RSAES_OAEP_SHA_256',
    }));
    assert.equal(rsaToRsa.SourceKeyId, rsa2048);
    assert.equal(rsaToRsa.CiphertextBlob!.length, 512);
    const back = await kms.send(new ReEncryptCommand({
      CiphertextBlob: rsaToRsa.CiphertextBlob, SourceKeyId: rsa4096, SourceEncryptionAlgorithm: 'RSAES_OAEP_SHA_256',
      DestinationKeyId: symmetric, DestinationEncryptionContext: { e: 'f' },
    }));
    assert.equal(back.SourceEncryptionAlgorithm, 'RSAES_OAEP_SHA_256');
    assert.equal(back.DestinationEncryptionAlgorithm, 'SYMMETRIC_DEFAULT');
    const out = await kms.send(new DecryptCommand({ CiphertextBlob: back.CiphertextBlob, EncryptionContext: { e: 'f' } }));
    assert.deepEqual(Buffer.from(out.Plaintext!), plaintext);
    await rejects(
      kms.send(new ReEncryptCommand({ CiphertextBlob: toRsa.CiphertextBlob, SourceKeyId: rsa2048, DestinationKeyId: symmetric })),
      'InvalidKeyUsageException',
      'Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048.',
    );
    await rejects(
      kms.send(new ReEncryptCommand({ CiphertextBlob: sym.CiphertextBlob, SourceEncryptionContext: { c: 'd' }, DestinationKeyId: rsa2048 })),
      'InvalidKeyUsageException',
      'Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048.',
    );
  });
});
