/**
 * Multi-Region ML-DSA, ML-KEM and KEY_AGREEMENT keys (issue 10): ReplicateKey carries the same
 * seed or private key, so a signature made in one Region verifies in the other, a ciphertext
 * encapsulated in one decapsulates in the other, and both Regions derive the same ECDH secret;
 * rotation is refused for them as for every asymmetric key.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  CreateKeyCommand,
  DecapsulateCommand,
  DeriveSharedSecretCommand,
  EnableKeyRotationCommand,
  EncapsulateCommand,
  GetPublicKeyCommand,
  KMSClient,
  ReplicateKeyCommand,
  SignCommand,
  VerifyCommand,
} from '@aws-sdk/client-kms';
import { rejects } from '../helpers/assertions';
import { removeDir, startServer, type TestServer } from '../helpers/server';

describe('multi-Region post-quantum and key-agreement keys', () => {
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

  async function replicated(KeySpec: 'ML_DSA_44' | 'ML_KEM_768' | 'ECC_NIST_P384', KeyUsage: 'SIGN_VERIFY' | 'ENCAPSULATE_DECAPSULATE' | 'KEY_AGREEMENT'): Promise<[string, string]> {
    const m = (await us.send(new CreateKeyCommand({ KeySpec, KeyUsage, MultiRegion: true }))).KeyMetadata!;
    const r = (await us.send(new ReplicateKeyCommand({ KeyId: m.KeyId!, ReplicaRegion: 'eu-west-1' }))).ReplicaKeyMetadata!;
    assert.equal(r.KeySpec, KeySpec);
    const a = await us.send(new GetPublicKeyCommand({ KeyId: m.Arn! }));
    const b = await eu.send(new GetPublicKeyCommand({ KeyId: r.Arn! }));
    assert.deepEqual(Buffer.from(b.PublicKey!), Buffer.from(a.PublicKey!));
    return [m.Arn!, r.Arn!];
  }

  test('ML-DSA: signed in one Region, verified in the other; rotation refused', async () => {
    const [primary, replica] = await replicated('ML_DSA_44', 'SIGN_VERIFY');
    const message = Buffer.from('post-quantum, cross-Region');
    const sig = await eu.send(new SignCommand({ KeyId: replica, Message: message, SigningAlgorithm: 'ML_DSA_SHAKE_256' }));
    const v = await us.send(new VerifyCommand({ KeyId: primary, Message: message, Signature: sig.Signature, SigningAlgorithm: 'ML_DSA_SHAKE_256' }));
    assert.equal(v.SignatureValid, true);
    await rejects(
      us.send(new EnableKeyRotationCommand({ KeyId: primary })),
      'UnsupportedOperationException',
      `${primary} key spec is ML_DSA_44 which is not valid for this operation.`,
    );
  });

  test('ML-KEM: encapsulated in one Region, decapsulated in the other', async () => {
    const [primary, replica] = await replicated('ML_KEM_768', 'ENCAPSULATE_DECAPSULATE');
    const enc = await us.send(new EncapsulateCommand({ KeyId: primary, EncapsulationAlgorithm: 'ML_KEM' }));
    const dec = await eu.send(new DecapsulateCommand({ KeyId: replica, SharedSecretCiphertextBlob: enc.SharedSecretCiphertextBlob, EncapsulationAlgorithm: 'ML_KEM' }));
    assert.deepEqual(Buffer.from(dec.SharedSecret!), Buffer.from(enc.SharedSecret!));
  });

  test('ECDH: both Regions derive the same secret', async () => {
    const [primary, replica] = await replicated('ECC_NIST_P384', 'KEY_AGREEMENT');
    const peer = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey.export({ type: 'spki', format: 'der' });
    const a = await us.send(new DeriveSharedSecretCommand({ KeyId: primary, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer }));
    const b = await eu.send(new DeriveSharedSecretCommand({ KeyId: replica, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer }));
    assert.deepEqual(Buffer.from(b.SharedSecret!), Buffer.from(a.SharedSecret!));
  });
});
