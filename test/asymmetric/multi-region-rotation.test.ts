/**
 * Multi-Region asymmetric and HMAC keys (ReplicateKey carries the same key pair and secret), and
 * rotation refused for them as AWS refuses it ("Automatic key rotation is supported only on
 * symmetric encryption KMS keys").
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateKeyCommand,
  DescribeKeyCommand,
  EnableKeyRotationCommand,
  GenerateMacCommand,
  GetKeyRotationStatusCommand,
  GetPublicKeyCommand,
  KMSClient,
  ReplicateKeyCommand,
  RotateKeyOnDemandCommand,
  SignCommand,
  VerifyCommand,
  VerifyMacCommand,
} from '@aws-sdk/client-kms';
import { rejects } from '../helpers/assertions';
import { removeDir, startServer, type TestServer } from '../helpers/server';

describe('multi-Region asymmetric and HMAC keys; rotation refused', () => {
  let server: TestServer;
  let us: KMSClient;
  let eu: KMSClient;

  before(async () => {
    server = await startServer({ args: ['--regions', 'us-east-1,eu-west-1'] });
    us = server.client();
    eu = server.client({ region: 'eu-west-1' });
  });
  after(async () => {
    us?.destroy();
    eu?.destroy();
    assert.equal(await server.stop(), 0);
    removeDir(server.dataDir);
  });

  test('a replica of a multi-Region signing key has the same public key; a signature made in one Region verifies in the other', async () => {
    const { KeyMetadata: m } = await us.send(new CreateKeyCommand({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY', MultiRegion: true }));
    assert.match(m!.KeyId!, /^mrk-[0-9a-f]{32}$/);
    const r = await us.send(new ReplicateKeyCommand({ KeyId: m!.KeyId!, ReplicaRegion: 'eu-west-1' }));
    assert.equal(r.ReplicaKeyMetadata!.KeySpec, 'ECC_SECG_P256K1');
    assert.equal(r.ReplicaKeyMetadata!.KeyUsage, 'SIGN_VERIFY');
    assert.deepEqual(r.ReplicaKeyMetadata!.SigningAlgorithms, ['ECDSA_SHA_256']);
    const replicaArn = r.ReplicaKeyMetadata!.Arn!;
    const a = await us.send(new GetPublicKeyCommand({ KeyId: m!.Arn! }));
    const b = await eu.send(new GetPublicKeyCommand({ KeyId: replicaArn }));
    assert.deepEqual(b.PublicKey, a.PublicKey);
    const message = Buffer.from('cross-Region');
    const sig = await eu.send(new SignCommand({ KeyId: replicaArn, Message: message, SigningAlgorithm: 'ECDSA_SHA_256' }));
    const v = await us.send(new VerifyCommand({ KeyId: m!.Arn!, Message: message, Signature: sig.Signature, SigningAlgorithm: 'ECDSA_SHA_256' }));
    assert.equal(v.SignatureValid, true);
    assert.equal((await eu.send(new DescribeKeyCommand({ KeyId: replicaArn }))).KeyMetadata!.MultiRegionConfiguration!.MultiRegionKeyType, 'REPLICA');
  });

  test('a replica of a multi-Region HMAC key computes the same MACs', async () => {
    const { KeyMetadata: m } = await us.send(new CreateKeyCommand({ KeySpec: 'HMAC_384', KeyUsage: 'GENERATE_VERIFY_MAC', MultiRegion: true }));
    const r = await us.send(new ReplicateKeyCommand({ KeyId: m!.KeyId!, ReplicaRegion: 'eu-west-1' }));
    const message = Buffer.from('mac me');
    const mac = await us.send(new GenerateMacCommand({ KeyId: m!.Arn!, Message: message, MacAlgorithm: 'HMAC_SHA_384' }));
    const there = await eu.send(new GenerateMacCommand({ KeyId: r.ReplicaKeyMetadata!.Arn!, Message: message, MacAlgorithm: 'HMAC_SHA_384' }));
    assert.deepEqual(there.Mac, mac.Mac);
    await eu.send(new VerifyMacCommand({ KeyId: r.ReplicaKeyMetadata!.Arn!, Message: message, Mac: mac.Mac, MacAlgorithm: 'HMAC_SHA_384' }));
  });

  test('EnableKeyRotation, RotateKeyOnDemand and GetKeyRotationStatus refuse asymmetric and HMAC keys', async () => {
    for (const [KeySpec, KeyUsage] of [['RSA_2048', 'ENCRYPT_DECRYPT'], ['ECC_NIST_EDWARDS25519', 'SIGN_VERIFY'], ['HMAC_256', 'GENERATE_VERIFY_MAC']] as const) {
      const { KeyMetadata: m } = await us.send(new CreateKeyCommand({ KeySpec, KeyUsage }));
      const message = `${m!.Arn} key spec is ${KeySpec} which is not valid for this operation.`;
      await rejects(us.send(new EnableKeyRotationCommand({ KeyId: m!.KeyId! })), 'UnsupportedOperationException', message);
      await rejects(us.send(new RotateKeyOnDemandCommand({ KeyId: m!.KeyId! })), 'UnsupportedOperationException', message);
      await rejects(us.send(new GetKeyRotationStatusCommand({ KeyId: m!.KeyId! })), 'UnsupportedOperationException', message);
    }
  });
});
