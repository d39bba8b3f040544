/**
 * HMAC keys through @aws-sdk/client-kms: CreateKey for HMAC_224/256/384/512, GenerateMac and
 * VerifyMac (KMSInvalidMacException on any mismatch, including another key's MAC), and AWS's
 * usage and algorithm errors. (An imported HMAC key's MAC against crypto.createHmac arrives
 * with HMAC import, issue 10.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateKeyCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateMacCommand,
  GetPublicKeyCommand,
  KMSClient,
  VerifyMacCommand,
  type MacAlgorithmSpec,
} from '@aws-sdk/client-kms';
import { rejects, validation } from '../helpers/assertions';
import { removeDir, startServer, type TestServer } from '../helpers/server';

const SPECS: ReadonlyArray<[string, MacAlgorithmSpec, number]> = [
  ['HMAC_224', 'HMAC_SHA_224', 28],
  ['HMAC_256', 'HMAC_SHA_256', 32],
  ['HMAC_384', 'HMAC_SHA_384', 48],
  ['HMAC_512', 'HMAC_SHA_512', 64],
];
const INVALID_MAC = 'The MAC is not valid for the message, key and MAC algorithm.';

describe('HMAC keys: GenerateMac and VerifyMac', () => {
  let server: TestServer;
  let kms: KMSClient;
  const keys = new Map<string, string>();

  before(async () => {
    server = await startServer();
    kms = server.client();
    for (const [spec] of SPECS) {
      const { KeyMetadata: m } = await kms.send(new CreateKeyCommand({ KeySpec: spec as 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }));
      keys.set(spec, m!.Arn!);
    }
  });
  after(async () => {
    kms?.destroy();
    assert.equal(await server.stop(), 0);
    removeDir(server.dataDir);
  });

  for (const [spec, alg, length] of SPECS) {
    test(`${spec}: DescribeKey lists ${alg}; MACs are ${length} bytes, deterministic, and verify; any change is KMSInvalidMacException`, async () => {
      const arn = keys.get(spec)!;
      const { KeyMetadata: m } = await kms.send(new DescribeKeyCommand({ KeyId: arn }));
      assert.equal(m!.KeyUsage, 'GENERATE_VERIFY_MAC');
      assert.deepEqual(m!.MacAlgorithms, [alg]);
      assert.equal(m!.EncryptionAlgorithms, undefined);
      const message = Buffer.from(`message for ${alg}`);
      const out = await kms.send(new GenerateMacCommand({ KeyId: arn, Message: message, MacAlgorithm: alg }));
      assert.equal(out.KeyId, arn);
      assert.equal(out.MacAlgorithm, alg);
      assert.equal(out.Mac!.length, length);
      const again = await kms.send(new GenerateMacCommand({ KeyId: arn, Message: message, MacAlgorithm: alg }));
      assert.deepEqual(again.Mac, out.Mac);
      const v = await kms.send(new VerifyMacCommand({ KeyId: arn, Message: message, Mac: out.Mac!, MacAlgorithm: alg }));
      assert.equal(v.MacValid, true);
      assert.equal(v.KeyId, arn);
      assert.equal(v.MacAlgorithm, alg);
      const flipped = Buffer.from(out.Mac!);
      flipped[length - 1] ^= 1;
      for (const mac of [flipped, Buffer.from(out.Mac!).subarray(0, length - 1), Buffer.concat([Buffer.from(out.Mac!), Buffer.from([0])])]) {
        await rejects(kms.send(new VerifyMacCommand({ KeyId: arn, Message: message, Mac: mac, MacAlgorithm: alg })), 'KMSInvalidMacException', INVALID_MAC);
      }
      await rejects(
        kms.send(new VerifyMacCommand({ KeyId: arn, Message: Buffer.from('another message'), Mac: out.Mac!, MacAlgorithm: alg })),
        'KMSInvalidMacException',
        INVALID_MAC,
      );
    });
  }

  test('a MAC of one key does not verify under another key of the same spec', async () => {
    const other = (await kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }))).KeyMetadata!.Arn!;
    const message = Buffer.from('cross-key');
    const mac = (await kms.send(new GenerateMacCommand({ KeyId: keys.get('HMAC_256')!, Message: message, MacAlgorithm: 'HMAC_SHA_256' }))).Mac!;
    const mine = (await kms.send(new GenerateMacCommand({ KeyId: other, Message: message, MacAlgorithm: 'HMAC_SHA_256' }))).Mac!;
    assert.notDeepEqual(mine, mac);
    await rejects(kms.send(new VerifyMacCommand({ KeyId: other, Message: message, Mac: mac, MacAlgorithm: 'HMAC_SHA_256' })), 'KMSInvalidMacException', INVALID_MAC);
  });

  test('the wrong MAC algorithm, a non-HMAC key, or an HMAC key used to encrypt are InvalidKeyUsageException', async () => {
    const arn = keys.get('HMAC_256')!;
    await rejects(
      kms.send(new GenerateMacCommand({ KeyId: arn, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_384' })),
      'InvalidKeyUsageException',
      'Algorithm HMAC_SHA_384 is incompatible with key spec HMAC_256.',
    );
    const symmetric = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    await rejects(
      kms.send(new GenerateMacCommand({ KeyId: symmetric, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_256' })),
      'InvalidKeyUsageException',
      `${symmetric} key usage is ENCRYPT_DECRYPT which is not valid for this operation.`,
    );
    await rejects(
      kms.send(new EncryptCommand({ KeyId: arn, Plaintext: Buffer.from('m') })),
      'InvalidKeyUsageException',
      `${arn} key usage is GENERATE_VERIFY_MAC which is not valid for this operation.`,
    );
    await rejects(
      kms.send(new GetPublicKeyCommand({ KeyId: arn })),
      'UnsupportedOperationException',
      `${arn} key spec is HMAC_256 which is not valid for this operation.`,
    );
  });

  test('validation and DryRun', async () => {
    const arn = keys.get('HMAC_512')!;
    await rejects(
      kms.send(new GenerateMacCommand({ KeyId: arn, Message: Buffer.from('m') } as never)),
      'ValidationException',
      validation('macAlgorithm', 'not be null', null),
    );
    await rejects(
      kms.send(new VerifyMacCommand({ KeyId: arn, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_512' } as never)),
      'ValidationException',
      validation('mac', 'not be null', null),
    );
    await rejects(
      kms.send(new GenerateMacCommand({ KeyId: arn, Message: Buffer.alloc(4097), MacAlgorithm: 'HMAC_SHA_512' })),
      'ValidationException',
      validation('message', 'have length less than or equal to 4096'),
    );
    await rejects(
      kms.send(new GenerateMacCommand({ KeyId: arn, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_512', DryRun: true })),
      'DryRunOperationException',
      'The request would have succeeded, but the DryRun option is set.',
    );
  });
});
