/**
 * Authorization of the asymmetric and HMAC operations through real signed requests: the new
 * actions, the condition keys kms:SigningAlgorithm, kms:MessageType, kms:MacAlgorithm,
 * kms:EncryptionAlgorithm, kms:KeySpec, kms:KeyUsage and kms:DataKeyPairSpec in IAM and key
 * policies, and grants that allow the new operations by name.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateGrantCommand,
  CreateKeyCommand,
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyPairCommand,
  GenerateMacCommand,
  GetPublicKeyCommand,
  SignCommand,
  VerifyCommand,
  VerifyMacCommand,
} from '@aws-sdk/client-kms';
import { rejects } from '../helpers/assertions';
import { allow, deniedMessage, deny, kp, rootStatement, World, type Key, type Principal } from '../authorization/harness';

describe('authorization of signing, MAC, RSA encryption and data key pairs', () => {
  let w: World;
  let ec: Key;
  let rsaEnc: Key;
  let hmac: Key;
  let sym: Key;

  before(async () => {
    w = await World.start();
    ec = await w.key({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    rsaEnc = await w.key({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' });
    hmac = await w.key({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
    sym = await w.key();
  });
  after(async () => {
    await w?.stop();
  });

  const denial = (who: Principal, action: string, key: Key, why: 'no-identity' | 'deny-identity' | 'no-resource' = 'no-identity'): string =>
    deniedMessage(who.arn, action, key.arn, why);

  test('kms:SigningAlgorithm and kms:MessageType restrict Sign; Verify is a separate action', async () => {
    const u = await w.user('signer', {
      statements: [allow('kms:Sign', '*', { Condition: { StringEquals: { 'kms:SigningAlgorithm': 'ECDSA_SHA_256', 'kms:MessageType': 'DIGEST' } } })],
    });
    const digest = Buffer.alloc(32, 7);
    const out = await u.kms.send(new SignCommand({ KeyId: ec.arn, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' }));
    assert.ok(out.Signature!.length > 60);
    await rejects(
      u.kms.send(new SignCommand({ KeyId: ec.arn, Message: digest, SigningAlgorithm: 'ECDSA_SHA_256' })),
      'AccessDeniedException',
      denial(u, 'kms:Sign', ec),
    );
    await rejects(
      u.kms.send(new VerifyCommand({ KeyId: ec.arn, Message: digest, MessageType: 'DIGEST', Signature: out.Signature, SigningAlgorithm: 'ECDSA_SHA_256' })),
      'AccessDeniedException',
      denial(u, 'kms:Verify', ec),
    );
  });

  test('kms:KeySpec and kms:KeyUsage gate GetPublicKey and CreateKey', async () => {
    const u = await w.user('spec-reader', {
      statements: [
        allow('kms:GetPublicKey', '*', { Condition: { StringEquals: { 'kms:KeySpec': 'ECC_NIST_P256', 'kms:KeyUsage': 'SIGN_VERIFY' } } }),
        allow('kms:CreateKey', '*', { Condition: { StringEquals: { 'kms:KeySpec': 'HMAC_384' } } }),
      ],
    });
    await u.kms.send(new GetPublicKeyCommand({ KeyId: ec.arn }));
    await rejects(u.kms.send(new GetPublicKeyCommand({ KeyId: rsaEnc.arn })), 'AccessDeniedException', denial(u, 'kms:GetPublicKey', rsaEnc));
    const made = await u.kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_384', KeyUsage: 'GENERATE_VERIFY_MAC' }));
    assert.equal(made.KeyMetadata!.KeySpec, 'HMAC_384');
    await rejects(
      u.kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' })),
      'AccessDeniedException',
      deniedMessage(u.arn, 'kms:CreateKey', '*', 'no-identity'),
    );
  });

  test('kms:MacAlgorithm gates GenerateMac and VerifyMac; an explicit deny wins', async () => {
    const u = await w.user('mac-user', {
      statements: [
        allow(['kms:GenerateMac', 'kms:VerifyMac'], '*', { Condition: { StringEquals: { 'kms:MacAlgorithm': 'HMAC_SHA_256' } } }),
        deny('kms:VerifyMac', hmac.arn),
      ],
    });
    const mac = await u.kms.send(new GenerateMacCommand({ KeyId: hmac.arn, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_256' }));
    await rejects(
      u.kms.send(new VerifyMacCommand({ KeyId: hmac.arn, Message: Buffer.from('m'), Mac: mac.Mac, MacAlgorithm: 'HMAC_SHA_256' })),
      'AccessDeniedException',
      denial(u, 'kms:VerifyMac', hmac, 'deny-identity'),
    );
    await rejects(
      u.kms.send(new GenerateMacCommand({ KeyId: hmac.arn, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_512' })),
      'AccessDeniedException',
      denial(u, 'kms:GenerateMac', hmac),
    );
  });

  test('kms:EncryptionAlgorithm gates RSA Encrypt and Decrypt', async () => {
    const u = await w.user('rsa-user', {
      statements: [allow(['kms:Encrypt', 'kms:Decrypt'], '*', { Condition: { StringEquals: { 'kms:EncryptionAlgorithm': 'RSAES_OAEP_SHA_256' } } })],
    });
    const ct = await u.kms.send(new EncryptCommand({ KeyId: rsaEnc.arn, Plaintext: Buffer.from('p'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }));
    const pt = await u.kms.send(new DecryptCommand({ KeyId: rsaEnc.arn, CiphertextBlob: ct.CiphertextBlob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }));
    assert.equal(Buffer.from(pt.Plaintext!).toString(), 'p');
    await rejects(
      u.kms.send(new EncryptCommand({ KeyId: rsaEnc.arn, Plaintext: Buffer.from('p'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_1' })),
      'AccessDeniedException',
      denial(u, 'kms:Encrypt', rsaEnc),
    );
  });

  test('kms:DataKeyPairSpec gates GenerateDataKeyPair', async () => {
    const u = await w.user('pair-user', {
      statements: [allow('kms:GenerateDataKeyPair', '*', { Condition: { StringLike: { 'kms:DataKeyPairSpec': 'ECC_*' } } })],
    });
    await u.kms.send(new GenerateDataKeyPairCommand({ KeyId: sym.arn, KeyPairSpec: 'ECC_NIST_P384' }));
    await rejects(
      u.kms.send(new GenerateDataKeyPairCommand({ KeyId: sym.arn, KeyPairSpec: 'RSA_2048' })),
      'AccessDeniedException',
      denial(u, 'kms:GenerateDataKeyPair', sym),
    );
  });

  test('a key policy condition on kms:SigningAlgorithm applies to another principal', async () => {
    const u = await w.user('kp-signer');
    const key = await w.keyWithPolicy(
      [rootStatement(w.account), kp(u.arn, 'kms:Sign', 'Allow', { Condition: { StringEquals: { 'kms:SigningAlgorithm': 'RSASSA_PSS_SHA_512' } } })],
      { KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' },
    );
    await u.kms.send(new SignCommand({ KeyId: key.arn, Message: Buffer.from('m'), SigningAlgorithm: 'RSASSA_PSS_SHA_512' }));
    await rejects(
      u.kms.send(new SignCommand({ KeyId: key.arn, Message: Buffer.from('m'), SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256' })),
      'AccessDeniedException',
      denial(u, 'kms:Sign', key),
    );
  });

  test('grants allow Sign, Verify, GetPublicKey, GenerateMac and VerifyMac by operation name, and nothing else', async () => {
    const u = await w.user('grantee');
    await w.root.kms.send(new CreateGrantCommand({ KeyId: ec.arn, GranteePrincipal: u.arn, Operations: ['Sign', 'GetPublicKey'] }));
    await w.root.kms.send(new CreateGrantCommand({ KeyId: hmac.arn, GranteePrincipal: u.arn, Operations: ['GenerateMac', 'VerifyMac'] }));
    const sig = await u.kms.send(new SignCommand({ KeyId: ec.arn, Message: Buffer.from('m'), SigningAlgorithm: 'ECDSA_SHA_256' }));
    await u.kms.send(new GetPublicKeyCommand({ KeyId: ec.arn }));
    await rejects(
      u.kms.send(new VerifyCommand({ KeyId: ec.arn, Message: Buffer.from('m'), Signature: sig.Signature, SigningAlgorithm: 'ECDSA_SHA_256' })),
      'AccessDeniedException',
      denial(u, 'kms:Verify', ec),
    );
    const mac = await u.kms.send(new GenerateMacCommand({ KeyId: hmac.arn, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_256' }));
    await u.kms.send(new VerifyMacCommand({ KeyId: hmac.arn, Message: Buffer.from('m'), Mac: mac.Mac, MacAlgorithm: 'HMAC_SHA_256' }));
    await rejects(
      w.root.kms.send(new CreateGrantCommand({ KeyId: hmac.arn, GranteePrincipal: u.arn, Operations: ['Sign'] })),
      'ValidationException',
      /^The operation Sign cannot be granted/,
    );
  });
});
