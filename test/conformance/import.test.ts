/**
 * Importing key material (BYOK) through @aws-sdk/client-kms over a real socket:
 * GetParametersForImport, ImportKeyMaterial and DeleteImportedKeyMaterial with material wrapped by
 * the `openssl` command line exactly as AWS's developer guide tells users to, for every wrapping
 * algorithm; deletion and re-import (old ciphertexts decrypt again), the same-material rule,
 * import tokens, ValidTo rules, key states, and expiry driven by the lifecycle job on a
 * ManualClock against the running server's database. Errors are asserted by name and message.
 */
import assert from 'node:assert/strict';
import { createPublicKey, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CreateKeyCommand,
  DecryptCommand,
  DeleteImportedKeyMaterialCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetParametersForImportCommand,
  ImportKeyMaterialCommand,
  ReEncryptCommand,
  ScheduleKeyDeletionCommand,
  type AlgorithmSpec,
  type ImportKeyMaterialCommandInput,
  type KMSClient,
  type WrappingKeySpec,
} from '@aws-sdk/client-kms';
import { ManualClock } from '../../src/clock';
import { EXPIRED_TOKEN_RETENTION_MS, importExpiryJob } from '../../src/lifecycle/import-expiry-job';
import { Scheduler } from '../../src/lifecycle/scheduler';
import { importTokenId } from '../../src/operations/get-parameters-for-import';
import { rejects } from '../helpers/assertions';
import { opensslRandomMaterial, opensslWrap } from '../helpers/openssl-import';
import { removeDir, startServer, stopAndRemove, type TestServer } from '../helpers/server';
import { openServerStore } from '../helpers/server-store';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const ALGORITHMS: readonly AlgorithmSpec[] = ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_1', 'RSA_AES_KEY_WRAP_SHA_256'];
const quiet = { info: () => undefined, error: () => undefined };

const INVALID_TOKEN = 'The import token is invalid or is associated with a different KMS key.';
const EXPIRED_TOKEN =
  'The import token has expired. Use GetParametersForImport to get a new import token and public key, use the new public key to encrypt the key material, and then try the request again.';
const UNWRAP_FAILED = 'KMS cannot decrypt the encrypted key material with the wrapping key and algorithm of this import token.';
const DIFFERENT_MATERIAL = 'The key material in the request is not the key material that was previously imported into this KMS key.';
const pendingImport = (arn: string): string => `${arn} is pending import.`;

/** A running server and helpers bound to it. */
class ImportDriver {
  constructor(readonly server: TestServer, readonly kms: KMSClient) {}

  async externalKey(): Promise<{ id: string; arn: string }> {
    const { KeyMetadata: m } = await this.kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL', Description: 'import test' }));
    assert.equal(m!.KeyState, 'PendingImport');
    return { id: m!.KeyId!, arn: m!.Arn! };
  }

  /** GetParametersForImport + openssl wrapping; returns what ImportKeyMaterial needs. */
  async wrapFor(keyId: string, material: Buffer, algorithm: AlgorithmSpec = 'RSAES_OAEP_SHA_256', spec: WrappingKeySpec = 'RSA_2048') {
    const p = await this.kms.send(new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: algorithm, WrappingKeySpec: spec }));
    return { ImportToken: p.ImportToken!, EncryptedKeyMaterial: opensslWrap(algorithm, p.PublicKey!, material), params: p };
  }

  /** Imports `material` into `keyId` (no expiry unless `extra` says otherwise). */
  async importMaterial(keyId: string, material: Buffer, extra: Partial<ImportKeyMaterialCommandInput> = {}, algorithm?: AlgorithmSpec) {
    const { ImportToken, EncryptedKeyMaterial } = await this.wrapFor(keyId, material, algorithm);
    return this.kms.send(
      new ImportKeyMaterialCommand({ KeyId: keyId, ImportToken, EncryptedKeyMaterial, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE', ...extra }),
    );
  }

  async state(keyId: string) {
    return (await this.kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
  }

  async encrypt(keyId: string, text: string): Promise<Uint8Array> {
    return (await this.kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from(text) }))).CiphertextBlob!;
  }

  async decrypt(blob: Uint8Array): Promise<string> {
    return Buffer.from((await this.kms.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString();
  }
}

describe('importing key material', () => {
  let server: TestServer;
  let d: ImportDriver;
  let kms: KMSClient;

  before(async () => {
    server = await startServer();
    kms = server.client();
    d = new ImportDriver(server, kms);
  });
  after(async () => {
    kms?.destroy();
    await stopAndRemove(server, { exitCode: 0 });
  });

  describe('each wrapping algorithm with openssl-wrapped material', () => {
    for (const algorithm of ALGORITHMS) {
      for (const spec of ['RSA_2048', 'RSA_4096'] as const) {
        test(`${algorithm} with ${spec}: GetParametersForImport, openssl wrap, ImportKeyMaterial, Encrypt/Decrypt`, async () => {
          const k = await d.externalKey();
          const before = Date.now();
          const material = opensslRandomMaterial(32);
          const { ImportToken, EncryptedKeyMaterial, params } = await d.wrapFor(k.id, material, algorithm, spec);
          assert.equal(params.KeyId, k.arn);
          assert.ok(Math.abs(params.ParametersValidTo!.getTime() - (before + 24 * HOUR)) < 60_000, 'valid for 24 hours');
          const pub = createPublicKey({ key: Buffer.from(params.PublicKey!), format: 'der', type: 'spki' });
          assert.equal(pub.asymmetricKeyDetails?.modulusLength, Number(spec.slice(4)));
          assert.ok(ImportToken.length > 0 && ImportToken.length <= 6144);

          const out = await kms.send(
            new ImportKeyMaterialCommand({ KeyId: k.arn, ImportToken, EncryptedKeyMaterial, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }),
          );
          assert.equal(out.KeyId, k.arn);
          assert.match(out.KeyMaterialId!, /^[a-f0-9]{64}$/);
          const m = await d.state(k.id);
          assert.equal(m.KeyState, 'Enabled');
          assert.equal(m.Enabled, true);
          assert.equal(m.Origin, 'EXTERNAL');
          assert.equal(m.ExpirationModel, 'KEY_MATERIAL_DOES_NOT_EXPIRE');
          assert.equal(m.ValidTo, undefined);
          const blob = await d.encrypt(k.id, `${algorithm}/${spec}`);
          assert.equal(await d.decrypt(blob), `${algorithm}/${spec}`);
        });
      }
    }

    test('RSA_3072 wrapping keys work too, and KeyMaterialId depends only on the key and the material', async () => {
      const k = await d.externalKey();
      const material = randomBytes(32);
      const first = await d.importMaterial(k.id, material, {}, 'RSA_AES_KEY_WRAP_SHA_256');
      const p = await kms.send(new GetParametersForImportCommand({ KeyId: k.id, WrappingAlgorithm: 'RSAES_OAEP_SHA_1', WrappingKeySpec: 'RSA_3072' }));
      const again = await kms.send(
        new ImportKeyMaterialCommand({
          KeyId: k.id,
          ImportToken: p.ImportToken!,
          EncryptedKeyMaterial: opensslWrap('RSAES_OAEP_SHA_1', p.PublicKey!, material),
          ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
        }),
      );
      assert.equal(again.KeyMaterialId, first.KeyMaterialId, 'same key and material, same id');
      const other = await d.externalKey();
      const third = await d.importMaterial(other.id, material);
      assert.notEqual(third.KeyMaterialId, first.KeyMaterialId, 'another key, another id');
    });
  });

  describe('DeleteImportedKeyMaterial and re-import', () => {
    test('after deletion every cryptographic path fails with KMSInvalidStateException; the same material brings old ciphertexts back', async () => {
      const k = await d.externalKey();
      const plainKey = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
      const material = opensslRandomMaterial(32);
      const imported = await d.importMaterial(k.id, material, {}, 'RSAES_OAEP_SHA_256');
      const blob = await d.encrypt(k.id, 'made before deletion');
      const toImported = await d.encrypt(plainKey.KeyId!, 'for re-encryption');

      const del = await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: k.arn }));
      assert.equal(del.KeyId, k.arn);
      assert.equal(del.KeyMaterialId, imported.KeyMaterialId);
      const m = await d.state(k.id);
      assert.equal(m.KeyState, 'PendingImport');
      assert.equal(m.Enabled, false);
      assert.equal(m.ValidTo, undefined);

      const msg = pendingImport(k.arn);
      await rejects(kms.send(new DecryptCommand({ CiphertextBlob: blob })), 'KMSInvalidStateException', msg);
      await rejects(kms.send(new DecryptCommand({ CiphertextBlob: blob, KeyId: k.id })), 'KMSInvalidStateException', msg);
      await rejects(kms.send(new EncryptCommand({ KeyId: k.id, Plaintext: Buffer.from('x') })), 'KMSInvalidStateException', msg);
      await rejects(kms.send(new GenerateDataKeyCommand({ KeyId: k.id, KeySpec: 'AES_256' })), 'KMSInvalidStateException', msg);
      await rejects(
        kms.send(new ReEncryptCommand({ CiphertextBlob: blob, DestinationKeyId: plainKey.KeyId! })),
        'KMSInvalidStateException',
        msg,
      );
      await rejects(kms.send(new ReEncryptCommand({ CiphertextBlob: toImported, DestinationKeyId: k.id })), 'KMSInvalidStateException', msg);

      // Deleting again changes nothing and names the same material.
      const again = await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: k.id }));
      assert.equal(again.KeyMaterialId, imported.KeyMaterialId);

      // Re-import the same material with a new token and another algorithm.
      const re = await d.importMaterial(k.id, material, {}, 'RSA_AES_KEY_WRAP_SHA_1');
      assert.equal(re.KeyMaterialId, imported.KeyMaterialId);
      assert.equal((await d.state(k.id)).KeyState, 'Enabled');
      assert.equal(await d.decrypt(blob), 'made before deletion');
    });

    test('re-importing different material fails with IncorrectKeyMaterialException, whether or not material is present', async () => {
      const k = await d.externalKey();
      const material = randomBytes(32);
      await d.importMaterial(k.id, material);
      await rejects(d.importMaterial(k.id, randomBytes(32)), 'IncorrectKeyMaterialException', DIFFERENT_MATERIAL);
      await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: k.id }));
      await rejects(d.importMaterial(k.id, randomBytes(32), {}, 'RSA_AES_KEY_WRAP_SHA_256'), 'IncorrectKeyMaterialException', DIFFERENT_MATERIAL);
      assert.equal((await d.state(k.id)).KeyState, 'PendingImport');
    });

    test('re-importing the same material while it is present replaces the expiration', async () => {
      const k = await d.externalKey();
      const material = randomBytes(32);
      const validTo = new Date(Math.floor((Date.now() + 30 * DAY) / 1000) * 1000);
      await d.importMaterial(k.id, material, { ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: validTo });
      let m = await d.state(k.id);
      assert.equal(m.ExpirationModel, 'KEY_MATERIAL_EXPIRES');
      assert.equal(m.ValidTo!.getTime(), validTo.getTime());
      const blob = await d.encrypt(k.id, 'still here');

      const later = new Date(validTo.getTime() + 60 * DAY);
      await d.importMaterial(k.id, material, { ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: later });
      assert.equal((await d.state(k.id)).ValidTo!.getTime(), later.getTime());
      await d.importMaterial(k.id, material);
      m = await d.state(k.id);
      assert.equal(m.KeyState, 'Enabled');
      assert.equal(m.ExpirationModel, 'KEY_MATERIAL_DOES_NOT_EXPIRE');
      assert.equal(m.ValidTo, undefined);
      assert.equal(await d.decrypt(blob), 'still here');
    });

    test('KeyMaterialId and ImportType are checked against the material', async () => {
      const fresh = await d.externalKey();
      await rejects(
        d.importMaterial(fresh.id, randomBytes(32), { ImportType: 'EXISTING_KEY_MATERIAL' }),
        'IncorrectKeyMaterialException',
        'No key material has been imported into this KMS key yet, so there is no existing key material to reimport.',
      );
      const material = randomBytes(32);
      const { KeyMaterialId } = await d.importMaterial(fresh.id, material);
      const ok = await d.importMaterial(fresh.id, material, { ImportType: 'EXISTING_KEY_MATERIAL', KeyMaterialId });
      assert.equal(ok.KeyMaterialId, KeyMaterialId);
      await rejects(d.importMaterial(fresh.id, material, { KeyMaterialId: 'ab'.repeat(32) }), 'IncorrectKeyMaterialException', DIFFERENT_MATERIAL);
      await rejects(
        d.importMaterial(fresh.id, material, { ImportType: 'NEW_KEY_MATERIAL' }),
        'IncorrectKeyMaterialException',
        'The key material in the request is already associated with this KMS key; new key material was expected.',
      );
      await rejects(
        kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: fresh.id, KeyMaterialId: 'cd'.repeat(32) })),
        'NotFoundException',
        `Key material ${'cd'.repeat(32)} is not associated with ${fresh.arn}.`,
      );
      const del = await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: fresh.id, KeyMaterialId }));
      assert.equal(del.KeyMaterialId, KeyMaterialId);
      assert.equal((await d.state(fresh.id)).KeyState, 'PendingImport');
    });

    test('DeleteImportedKeyMaterial on a key that never had material changes nothing', async () => {
      const k = await d.externalKey();
      const out = await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: k.id }));
      assert.equal(out.KeyId, k.arn);
      assert.equal(out.KeyMaterialId, undefined);
      assert.equal((await d.state(k.id)).KeyState, 'PendingImport');
    });

    test('a disabled key stays disabled when its material is re-imported, and goes to PendingImport when it is deleted', async () => {
      const k = await d.externalKey();
      const material = randomBytes(32);
      await d.importMaterial(k.id, material);
      await kms.send(new DisableKeyCommand({ KeyId: k.id }));
      await d.importMaterial(k.id, material);
      assert.equal((await d.state(k.id)).KeyState, 'Disabled');
      await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: k.id }));
      assert.equal((await d.state(k.id)).KeyState, 'PendingImport');
      await d.importMaterial(k.id, material);
      assert.equal((await d.state(k.id)).KeyState, 'Enabled');
    });

    test('a key pending deletion: material can be deleted (state stays), but nothing can be imported', async () => {
      const k = await d.externalKey();
      await d.importMaterial(k.id, randomBytes(32));
      const p = await kms.send(new GetParametersForImportCommand({ KeyId: k.id, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
      await kms.send(new ScheduleKeyDeletionCommand({ KeyId: k.id, PendingWindowInDays: 7 }));
      await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: k.id }));
      assert.equal((await d.state(k.id)).KeyState, 'PendingDeletion');
      const msg = `${k.arn} is pending deletion.`;
      await rejects(
        kms.send(new GetParametersForImportCommand({ KeyId: k.id, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' })),
        'KMSInvalidStateException',
        msg,
      );
      await rejects(
        kms.send(
          new ImportKeyMaterialCommand({
            KeyId: k.id,
            ImportToken: p.ImportToken!,
            EncryptedKeyMaterial: opensslWrap('RSAES_OAEP_SHA_256', p.PublicKey!, randomBytes(32)),
            ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
          }),
        ),
        'KMSInvalidStateException',
        msg,
      );
    });
  });

  describe('import tokens and wrapped material', () => {
    test('an unknown token, a token of another key and a malformed token are InvalidImportTokenException', async () => {
      const k = await d.externalKey();
      const other = await d.externalKey();
      const material = randomBytes(32);
      const mine = await d.wrapFor(k.id, material);
      const theirs = await d.wrapFor(other.id, material);
      const base = { KeyId: k.id, EncryptedKeyMaterial: mine.EncryptedKeyMaterial, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' } as const;
      await rejects(kms.send(new ImportKeyMaterialCommand({ ...base, ImportToken: theirs.ImportToken })), 'InvalidImportTokenException', INVALID_TOKEN);
      const forged = Buffer.from(mine.ImportToken);
      forged[forged.length - 1]! ^= 1;
      await rejects(kms.send(new ImportKeyMaterialCommand({ ...base, ImportToken: forged })), 'InvalidImportTokenException', INVALID_TOKEN);
      await rejects(kms.send(new ImportKeyMaterialCommand({ ...base, ImportToken: randomBytes(700) })), 'InvalidImportTokenException', INVALID_TOKEN);
      // The right token still works, and the other key's token works for the other key.
      await kms.send(new ImportKeyMaterialCommand({ ...base, ImportToken: mine.ImportToken }));
      await kms.send(new ImportKeyMaterialCommand({ ...base, KeyId: other.arn, ImportToken: theirs.ImportToken, EncryptedKeyMaterial: theirs.EncryptedKeyMaterial }));
    });

    test('an expired token is ExpiredImportTokenException', async () => {
      const k = await d.externalKey();
      // The running server reads the wall clock, so the expired token is written into its database.
      const token = Buffer.concat([Buffer.of(1), randomBytes(32)]);
      const store = openServerStore(server.dataDir);
      try {
        await store.putImportToken({
          tokenId: importTokenId(token),
          keyArn: k.arn,
          wrappingKeySpec: 'RSA_2048',
          wrappingAlgorithm: 'RSAES_OAEP_SHA_256',
          wrappedPrivateKey: randomBytes(64),
          expiresAt: Date.now() - HOUR,
        });
      } finally {
        await store.close();
      }
      await rejects(
        kms.send(
          new ImportKeyMaterialCommand({ KeyId: k.id, ImportToken: token, EncryptedKeyMaterial: randomBytes(256), ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }),
        ),
        'ExpiredImportTokenException',
        EXPIRED_TOKEN,
      );
    });

    test('material that does not unwrap is InvalidCiphertextException; material of the wrong size is IncorrectKeyMaterialException', async () => {
      const k = await d.externalKey();
      const p = await kms.send(new GetParametersForImportCommand({ KeyId: k.id, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
      const send = (EncryptedKeyMaterial: Uint8Array) =>
        kms.send(new ImportKeyMaterialCommand({ KeyId: k.id, ImportToken: p.ImportToken!, EncryptedKeyMaterial, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }));
      await rejects(send(randomBytes(256)), 'InvalidCiphertextException', UNWRAP_FAILED);
      await rejects(send(opensslWrap('RSAES_OAEP_SHA_1', p.PublicKey!, randomBytes(32))), 'InvalidCiphertextException', UNWRAP_FAILED);
      await rejects(send(opensslWrap('RSA_AES_KEY_WRAP_SHA_256', p.PublicKey!, randomBytes(32))), 'InvalidCiphertextException', UNWRAP_FAILED);
      await rejects(
        send(opensslWrap('RSAES_OAEP_SHA_256', p.PublicKey!, randomBytes(16))),
        'IncorrectKeyMaterialException',
        'The key material for a SYMMETRIC_DEFAULT KMS key must be 256 bits (32 bytes).',
      );
      assert.equal((await d.state(k.id)).KeyState, 'PendingImport');
      // The token is not used up by failures.
      await send(opensslWrap('RSAES_OAEP_SHA_256', p.PublicKey!, randomBytes(32)));
      assert.equal((await d.state(k.id)).KeyState, 'Enabled');
    });
  });

  describe('validation and errors', () => {
    test('ValidTo: required with KEY_MATERIAL_EXPIRES (the default), forbidden otherwise, future, at most 365 days ahead', async () => {
      const k = await d.externalKey();
      const material = randomBytes(32);
      const { ImportToken, EncryptedKeyMaterial } = await d.wrapFor(k.id, material);
      const send = (extra: Partial<ImportKeyMaterialCommandInput>) =>
        kms.send(new ImportKeyMaterialCommand({ KeyId: k.id, ImportToken, EncryptedKeyMaterial, ...extra }));
      await rejects(send({}), 'ValidationException', 'A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES.');
      await rejects(send({ ExpirationModel: 'KEY_MATERIAL_EXPIRES' }), 'ValidationException', 'A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES.');
      await rejects(
        send({ ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE', ValidTo: new Date(Date.now() + DAY) }),
        'ValidationException',
        'The parameter ValidTo cannot be specified for a key with an expiration model of KEY_MATERIAL_DOES_NOT_EXPIRE.',
      );
      await rejects(send({ ValidTo: new Date(Date.now() - 60_000) }), 'ValidationException', 'ValidTo must be a date and time in the future.');
      await rejects(send({ ValidTo: new Date(Date.now() + 366 * DAY) }), 'ValidationException', 'ValidTo must be no more than 365 days from the request date.');
      await rejects(
        send({ ExpirationModel: 'NEVER' as never, ValidTo: new Date(Date.now() + DAY) }),
        'ValidationException',
        "1 validation error detected: Value 'NEVER' at 'expirationModel' failed to satisfy constraint: Member must satisfy enum value set: [KEY_MATERIAL_EXPIRES, KEY_MATERIAL_DOES_NOT_EXPIRE]",
      );
      assert.equal((await d.state(k.id)).KeyState, 'PendingImport', 'nothing was imported');
      const validTo = new Date(Math.floor((Date.now() + 364 * DAY) / 1000) * 1000);
      await send({ ValidTo: validTo });
      const m = await d.state(k.id);
      assert.equal(m.KeyState, 'Enabled');
      assert.equal(m.ExpirationModel, 'KEY_MATERIAL_EXPIRES');
      assert.equal(m.ValidTo!.getTime(), validTo.getTime());
    });

    test('keys not made for imported material refuse all three operations with UnsupportedOperationException', async () => {
      const { KeyMetadata: m } = await kms.send(new CreateKeyCommand({}));
      const msg = `${m!.Arn} origin is AWS_KMS which is not valid for this operation.`;
      await rejects(
        kms.send(new GetParametersForImportCommand({ KeyId: m!.KeyId!, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' })),
        'UnsupportedOperationException',
        msg,
      );
      const ext = await d.externalKey();
      const { ImportToken, EncryptedKeyMaterial } = await d.wrapFor(ext.id, randomBytes(32));
      await rejects(
        kms.send(new ImportKeyMaterialCommand({ KeyId: m!.KeyId!, ImportToken, EncryptedKeyMaterial, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' })),
        'UnsupportedOperationException',
        msg,
      );
      await rejects(kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: m!.KeyId! })), 'UnsupportedOperationException', msg);
    });

    test('GetParametersForImport refuses RSAES_PKCS1_V1_5, SM2PKE and SM2, and aliases as KeyId', async () => {
      const k = await d.externalKey();
      const get = (WrappingAlgorithm: AlgorithmSpec, WrappingKeySpec: WrappingKeySpec, KeyId = k.id) =>
        kms.send(new GetParametersForImportCommand({ KeyId, WrappingAlgorithm, WrappingKeySpec }));
      await rejects(get('RSAES_PKCS1_V1_5', 'RSA_2048'), 'UnsupportedOperationException', 'The wrapping algorithm RSAES_PKCS1_V1_5 is not supported.');
      await rejects(get('SM2PKE', 'SM2'), 'UnsupportedOperationException', 'The wrapping algorithm SM2PKE is not supported.');
      await rejects(get('RSAES_OAEP_SHA_256', 'SM2'), 'UnsupportedOperationException', 'The wrapping key spec SM2 is not supported.');
      await rejects(
        get('RSAES_OAEP_SHA_256', 'RSA_1024' as WrappingKeySpec),
        'ValidationException',
        "1 validation error detected: Value 'RSA_1024' at 'wrappingKeySpec' failed to satisfy constraint: Member must satisfy enum value set: [RSA_2048, RSA_3072, RSA_4096, SM2]",
      );
      await rejects(get('RSAES_OAEP_SHA_256', 'RSA_2048', 'alias/some-alias'), 'NotFoundException', 'Invalid keyId alias/some-alias');
      const missing = `arn:aws:kms:${server.region}:${server.accountId}:key/00000000-0000-4000-8000-000000000000`;
      await rejects(get('RSAES_OAEP_SHA_256', 'RSA_2048', missing), 'NotFoundException', `Key '${missing}' does not exist`);
    });
  });
});

describe('expiry of imported material', () => {
  test("the server's own scheduler expires material on time (wall clock)", async () => {
    const server = await startServer({ env: { KEYHOLD_SCHEDULER_INTERVAL_MS: '200' } });
    const kms = server.client();
    const d = new ImportDriver(server, kms);
    try {
      const k = await d.externalKey();
      // Wrap first (GetParametersForImport makes an RSA key pair, slow on a loaded machine), then
      // choose ValidTo: 5 s from now must still be in the future when ImportKeyMaterial arrives.
      const { ImportToken, EncryptedKeyMaterial } = await d.wrapFor(k.id, randomBytes(32));
      const validTo = Math.ceil((Date.now() + 5_000) / 1000) * 1000;
      await kms.send(
        new ImportKeyMaterialCommand({ KeyId: k.id, ImportToken, EncryptedKeyMaterial, ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: new Date(validTo) }),
      );
      const blob = await d.encrypt(k.id, 'short-lived');
      assert.equal(await d.decrypt(blob), 'short-lived');
      let state = (await d.state(k.id)).KeyState;
      while (state === 'Enabled' && Date.now() < validTo + 10_000) {
        await new Promise((r) => setTimeout(r, 100));
        state = (await d.state(k.id)).KeyState;
      }
      assert.equal(state, 'PendingImport');
      assert.ok(Date.now() >= validTo, 'not before ValidTo');
      await rejects(kms.send(new DecryptCommand({ CiphertextBlob: blob })), 'KMSInvalidStateException', pendingImport(k.arn));
    } finally {
      kms.destroy();
      await server.stop();
      removeDir(server.dataDir);
    }
  });
});

describe('expiry of imported material on a ManualClock', () => {
  test('the import-expiry job deletes material when ValidTo passes — not before — and catches up after downtime', async () => {
    const server = await startServer();
    const kms = server.client();
    const d = new ImportDriver(server, kms);
    try {
      const now = Date.now();
      const t1 = Math.floor((now + DAY) / 1000) * 1000;
      const t2 = t1 + 10 * DAY;
      const soon = await d.externalKey();
      const later = await d.externalKey();
      const never = await d.externalKey();
      const doomed = await d.externalKey();
      const soonMaterial = randomBytes(32);
      await d.importMaterial(soon.id, soonMaterial, { ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: new Date(t1) });
      await d.importMaterial(later.id, randomBytes(32), { ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: new Date(t2) });
      await d.importMaterial(never.id, randomBytes(32));
      await d.importMaterial(doomed.id, randomBytes(32), { ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: new Date(t1) });
      const tokensIssued = 4;
      await kms.send(new ScheduleKeyDeletionCommand({ KeyId: doomed.id, PendingWindowInDays: 30 }));
      const blob = await d.encrypt(soon.id, 'before expiry');
      const laterBlob = await d.encrypt(later.id, 'later');

      // The server's own scheduler reads the wall clock; this one runs on a clock we move.
      const store = openServerStore(server.dataDir);
      const clock = new ManualClock(t1 - 1);
      const scheduler = new Scheduler([importExpiryJob(store, quiet)], clock, quiet, 1000);
      try {
        assert.equal(await scheduler.runOnce(), 0, 'nothing expires a millisecond early');
        assert.equal(await d.decrypt(blob), 'before expiry');

        clock.set(t1 + HOUR);
        assert.equal(await scheduler.runOnce(), 2, 'soon and doomed expire; no token is old enough to prune');
        await rejects(kms.send(new DecryptCommand({ CiphertextBlob: blob })), 'KMSInvalidStateException', pendingImport(soon.arn));
        const s = await d.state(soon.id);
        assert.equal(s.KeyState, 'PendingImport');
        assert.equal(s.ValidTo, undefined);
        assert.equal((await d.state(doomed.id)).KeyState, 'PendingDeletion', 'a key pending deletion keeps its state');
        assert.equal((await d.state(later.id)).KeyState, 'Enabled');
        assert.equal(await d.decrypt(laterBlob), 'later');

        // Downtime: the next pass runs long after `later` expired and after every token expired.
        clock.set(t2 + 30 * DAY);
        assert.ok(t2 + 30 * DAY - EXPIRED_TOKEN_RETENTION_MS > now + 24 * HOUR);
        assert.equal(await scheduler.runOnce(), 1 + tokensIssued, '`later` expires and the four tokens are pruned');
        assert.equal(await scheduler.runOnce(), 0);
        await rejects(kms.send(new DecryptCommand({ CiphertextBlob: laterBlob })), 'KMSInvalidStateException', pendingImport(later.arn));
        assert.equal((await d.state(never.id)).KeyState, 'Enabled');
      } finally {
        await scheduler.stop();
        await store.close();
      }

      // Re-importing the expired material (with a fresh token) brings the old ciphertext back.
      await d.importMaterial(soon.id, soonMaterial, { ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: new Date(Date.now() + 7 * DAY) });
      assert.equal((await d.state(soon.id)).KeyState, 'Enabled');
      assert.equal(await d.decrypt(blob), 'before expiry');
    } finally {
      kms.destroy();
      await server.stop();
      removeDir(server.dataDir);
    }
  });
});
