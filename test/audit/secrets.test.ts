/**
 * No secret ever reaches the trail (issue 4, STYLE habit 4): after requests that carry
 * plaintext, ciphertext, data keys, random bytes, import tokens and wrapped key material, messages,
 * signatures, MACs and data key pairs' private keys (issue 9), and a
 * request whose signature is known, none of those values — in base64, hex or clear — occurs
 * anywhere in the trail's files; the encryption context, which AWS records, does.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  CreateKeyCommand,
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyPairCommand,
  GenerateMacCommand,
  GenerateRandomCommand,
  GetParametersForImportCommand,
  ImportKeyMaterialCommand,
  ReEncryptCommand,
  SignCommand,
  VerifyCommand,
  VerifyMacCommand,
} from '@aws-sdk/client-kms';
import { removeDir, startServer } from '../helpers/server';
import { trailRecords } from './helpers';

test('the trail holds no plaintext, ciphertext, data key, random bytes, import token, key material, secret or signature', async () => {
  const server = await startServer();
  const kms = server.client();
  // Capture the Authorization header the SDK sends, to look for its signature later.
  const signatures: string[] = [];
  kms.middlewareStack.add(
    (next) => async (args) => {
      const auth = (args.request as { headers?: Record<string, string> }).headers?.authorization;
      const sig = auth === undefined ? undefined : /Signature=([0-9a-f]{64})/.exec(auth)?.[1];
      if (sig !== undefined) signatures.push(sig);
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: 'captureSignature' },
  );
  const secrets: Buffer[] = [];
  const strings: string[] = [server.credentials.secretAccessKey];
  const ctx = { tenant: 'acme', purpose: 'secrets-test' };
  try {
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const key2 = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const plaintext = randomBytes(48);
    secrets.push(plaintext);
    const enc = await kms.send(new EncryptCommand({ KeyId: key, Plaintext: plaintext, EncryptionContext: ctx }));
    secrets.push(Buffer.from(enc.CiphertextBlob!));
    await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ctx }));
    const re = await kms.send(new ReEncryptCommand({ CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: ctx, DestinationKeyId: key2 }));
    secrets.push(Buffer.from(re.CiphertextBlob!));
    const dk = await kms.send(new GenerateDataKeyCommand({ KeyId: key, KeySpec: 'AES_256', EncryptionContext: ctx }));
    secrets.push(Buffer.from(dk.Plaintext!), Buffer.from(dk.CiphertextBlob!));
    const rnd = await kms.send(new GenerateRandomCommand({ NumberOfBytes: 64 }));
    secrets.push(Buffer.from(rnd.Plaintext!));
    // Failures must not echo the secret either (a plaintext one byte too long).
    const big = Buffer.concat([randomBytes(4096), Buffer.from('x')]);
    await assert.rejects(kms.send(new EncryptCommand({ KeyId: key, Plaintext: big })), { name: 'ValidationException' });
    secrets.push(big.subarray(0, 48));
    // Asymmetric and HMAC keys (issue 9): messages, signatures, MACs and private keys.
    const signer = (await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.KeyId!;
    const message = randomBytes(40);
    secrets.push(message);
    const signed = await kms.send(new SignCommand({ KeyId: signer, Message: message, SigningAlgorithm: 'ECDSA_SHA_256' }));
    secrets.push(Buffer.from(signed.Signature!));
    await kms.send(new VerifyCommand({ KeyId: signer, Message: message, Signature: signed.Signature, SigningAlgorithm: 'ECDSA_SHA_256' }));
    const forged = randomBytes(70);
    secrets.push(forged);
    await assert.rejects(
      kms.send(new VerifyCommand({ KeyId: signer, Message: message, Signature: forged, SigningAlgorithm: 'ECDSA_SHA_256' })),
      { name: 'KMSInvalidSignatureException' },
    );
    const macKey = (await kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }))).KeyMetadata!.KeyId!;
    const mac = await kms.send(new GenerateMacCommand({ KeyId: macKey, Message: message, MacAlgorithm: 'HMAC_SHA_256' }));
    secrets.push(Buffer.from(mac.Mac!));
    await kms.send(new VerifyMacCommand({ KeyId: macKey, Message: message, Mac: mac.Mac, MacAlgorithm: 'HMAC_SHA_256' }));
    const pair = await kms.send(new GenerateDataKeyPairCommand({ KeyId: key, KeyPairSpec: 'ECC_NIST_P256', EncryptionContext: ctx }));
    secrets.push(Buffer.from(pair.PrivateKeyPlaintext!), Buffer.from(pair.PrivateKeyCiphertextBlob!));
    const rsa = (await kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' }))).KeyMetadata!.KeyId!;
    const rsaCt = await kms.send(new EncryptCommand({ KeyId: rsa, Plaintext: plaintext, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }));
    secrets.push(Buffer.from(rsaCt.CiphertextBlob!));
    await kms.send(new DecryptCommand({ KeyId: rsa, CiphertextBlob: rsaCt.CiphertextBlob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }));
    const ext = (await kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL' }))).KeyMetadata!.KeyId!;
    const params = await kms.send(new GetParametersForImportCommand({ KeyId: ext, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
    secrets.push(Buffer.from(params.ImportToken!));
    const material = randomBytes(256);
    secrets.push(material);
    await kms.send(new ImportKeyMaterialCommand({ KeyId: ext, ImportToken: params.ImportToken, EncryptedKeyMaterial: material })).catch(() => undefined);
  } finally {
    kms.destroy();
    assert.equal(await server.stop(), 0);
  }
  try {
    strings.push(...signatures);
    for (const s of secrets) strings.push(s.toString('base64'), s.toString('hex'), s.toString('base64').slice(8, 40));
    // Every byte of the trail's files, including the WAL and pending intents.
    const dir = join(server.dataDir, 'audit');
    const files = readdirSync(dir).map((f) => readFileSync(join(dir, f)).toString('latin1'));
    for (const s of strings) {
      for (const f of files) assert.ok(!f.includes(s), `a secret value (${s.slice(0, 6)}…) is in the trail`);
    }
    const records = trailRecords(server.dataDir);
    assert.ok(signatures.length >= 8, 'signatures captured');
    assert.ok(records.length >= 10);
    for (const r of records) {
      const text = JSON.stringify(r);
      for (const s of strings) assert.ok(!text.includes(s));
      for (const forbidden of ['plaintext', 'ciphertextBlob', 'importToken', 'encryptedKeyMaterial', 'signature"', 'message"', 'mac"', 'privateKey']) {
        assert.ok(!text.includes(`"${forbidden}`), `${r.eventName} records ${forbidden}`);
      }
    }
    const encrypt = records.find((r) => r.eventName === 'Encrypt' && r.errorCode === undefined)!;
    assert.deepEqual(encrypt.requestParameters.encryptionContext, ctx, 'the encryption context is recorded, as AWS does');
    const sign = records.find((r) => r.eventName === 'Sign')!;
    assert.deepEqual(sign.requestParameters, { keyId: sign.requestParameters.keyId, signingAlgorithm: 'ECDSA_SHA_256' });
    const badVerify = records.find((r) => r.eventName === 'Verify' && r.errorCode === 'KMSInvalidSignatureException');
    assert.ok(badVerify, 'the failed Verify is recorded');
    const pairRecord = records.find((r) => r.eventName === 'GenerateDataKeyPair')!;
    assert.equal(pairRecord.requestParameters.keyPairSpec, 'ECC_NIST_P256');
    assert.deepEqual(pairRecord.requestParameters.encryptionContext, ctx);
    const failed = records.find((r) => r.eventName === 'Encrypt' && r.errorCode === 'ValidationException')!;
    assert.match(failed.errorMessage, /Member must have length less than or equal to 4096/);
  } finally {
    removeDir(server.dataDir);
  }
});
