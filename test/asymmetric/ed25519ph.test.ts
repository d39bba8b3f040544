/**
 * ED25519_PH_SHA_512 through @aws-sdk/client-kms (issue 10): MessageType DIGEST only, with the
 * 64-byte SHA-512 digest of a message, which KMS "still" pre-hashes with SHA-512 (API_Sign.html,
 * MessageType): the signature is Ed25519ph (RFC 8032 §5.1) with the digest as its message — so
 * the input is hashed twice, once by the caller and once by KMS. Checked with @noble/curves'
 * Ed25519ph on the public key GetPublicKey returns (OpenSSL 3.0 has no Ed25519ph).
 */
import assert from 'node:assert/strict';
import { createHash, createPublicKey, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { CreateKeyCommand, GetPublicKeyCommand, KMSClient, SignCommand, VerifyCommand } from '@aws-sdk/client-kms';
import { ed25519ph } from '@noble/curves/ed25519';
import { rejects } from '../helpers/assertions';
import { removeDir, startServer, type TestServer } from '../helpers/server';

describe('ED25519_PH_SHA_512', () => {
  let server: TestServer;
  let kms: KMSClient;
  let id: string;
  let publicKey: Buffer;

  before(async () => {
    server = await startServer();
    kms = server.client();
    id = (await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_EDWARDS25519', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.KeyId!;
    const spki = (await kms.send(new GetPublicKeyCommand({ KeyId: id }))).PublicKey!;
    const jwk = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }).export({ format: 'jwk' });
    publicKey = Buffer.from(jwk.x as string, 'base64url');
  });

  after(async () => {
    kms.destroy();
    await server.stop();
    removeDir(server.dataDir);
  });

  test('a DIGEST signature is Ed25519ph over the 64 bytes given (hashed again by KMS)', async () => {
    const message = randomBytes(1000);
    const digest = createHash('sha512').update(message).digest();
    const out = await kms.send(new SignCommand({ KeyId: id, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: 'ED25519_PH_SHA_512' }));
    assert.equal(out.SigningAlgorithm, 'ED25519_PH_SHA_512');
    const signature = Buffer.from(out.Signature!);
    assert.equal(signature.length, 64);
    assert.ok(ed25519ph.verify(signature, digest, publicKey, { zip215: false }), 'Ed25519ph with the digest as message M (PH(M) = SHA-512(digest))');
    assert.ok(!ed25519ph.verify(signature, message, publicKey), 'not Ed25519ph over the original message (that would hash once)');
    const verified = await kms.send(new VerifyCommand({ KeyId: id, Message: digest, MessageType: 'DIGEST', Signature: signature, SigningAlgorithm: 'ED25519_PH_SHA_512' }));
    assert.equal(verified.SignatureValid, true);
    // A changed digest is refused.
    const other = Buffer.from(digest);
    other[0] ^= 1;
    await rejects(
      kms.send(new VerifyCommand({ KeyId: id, Message: other, MessageType: 'DIGEST', Signature: signature, SigningAlgorithm: 'ED25519_PH_SHA_512' })),
      'KMSInvalidSignatureException',
      'The signature is not valid for the message, key and signing algorithm.',
    );
  });

  test('RAW is refused for ED25519_PH_SHA_512 and DIGEST must be 64 bytes', async () => {
    await rejects(
      kms.send(new SignCommand({ KeyId: id, Message: Buffer.from('m'), MessageType: 'RAW', SigningAlgorithm: 'ED25519_PH_SHA_512' })),
      'ValidationException',
      'The ED25519_PH_SHA_512 signing algorithm does not support the RAW message type.',
    );
    await rejects(
      kms.send(new SignCommand({ KeyId: id, Message: Buffer.alloc(48), MessageType: 'DIGEST', SigningAlgorithm: 'ED25519_PH_SHA_512' })),
      'ValidationException',
      'Digest is invalid length for algorithm ED25519_PH_SHA_512.',
    );
  });
});
