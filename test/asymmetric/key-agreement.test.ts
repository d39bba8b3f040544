/**
 * KEY_AGREEMENT keys and DeriveSharedSecret (issue 10) through @aws-sdk/client-kms over a real
 * socket: for each NIST curve, the raw ECDH secret KMS derives from its private key and a peer's
 * public key equals the one OpenSSL's command line derives from the peer's private key and KMS's
 * public key (`openssl pkeyutl -derive`), and the one node:crypto's diffieHellman derives —
 * neither shares Keyhold's code path. Then AWS's errors, DryRun, the kms:KeyAgreementAlgorithm
 * condition key, and a trail that never holds the secret.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CreateKeyCommand,
  DeriveSharedSecretCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  GetPublicKeyCommand,
  KMSClient,
  PutKeyPolicyCommand,
  type KeySpec,
} from '@aws-sdk/client-kms';
import { rejects, validation } from '../helpers/assertions';
import { OPENSSL } from '../helpers/openssl-import';
import { removeDir, startServer, tempDir, type TestServer } from '../helpers/server';

const CURVES: ReadonlyArray<[KeySpec, string, string, number]> = [
  ['ECC_NIST_P256', 'P-256', 'prime256v1', 32],
  ['ECC_NIST_P384', 'P-384', 'secp384r1', 48],
  ['ECC_NIST_P521', 'P-521', 'secp521r1', 66],
];

/** A peer key pair made by `openssl genpkey`: its private key PEM path and public key DER. */
function opensslPeer(dir: string, curve: string): { keyFile: string; spki: Buffer } {
  const keyFile = join(dir, `peer-${curve}.pem`);
  execFileSync(OPENSSL, ['genpkey', '-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${curve}`, '-out', keyFile]);
  const spki = execFileSync(OPENSSL, ['pkey', '-in', keyFile, '-pubout', '-outform', 'DER']);
  return { keyFile, spki };
}

describe('DeriveSharedSecret (ECDH)', () => {
  let server: TestServer;
  let kms: KMSClient;
  let dir: string;
  const keys = new Map<string, { id: string; arn: string }>();

  before(async () => {
    server = await startServer();
    kms = server.client();
    dir = tempDir('keyhold-ecdh-');
    for (const [spec] of CURVES) {
      const m = (await kms.send(new CreateKeyCommand({ KeySpec: spec, KeyUsage: 'KEY_AGREEMENT' }))).KeyMetadata!;
      keys.set(spec, { id: m.KeyId!, arn: m.Arn! });
    }
  });

  after(async () => {
    kms.destroy();
    await server.stop();
    removeDir(server.dataDir);
    removeDir(dir);
  });

  for (const [spec, opensslCurve, nodeCurve, secretBytes] of CURVES) {
    test(`${spec}: KMS, openssl pkeyutl -derive and crypto.diffieHellman derive the same raw secret`, async () => {
      const { id, arn } = keys.get(spec)!;
      const described = (await kms.send(new DescribeKeyCommand({ KeyId: id }))).KeyMetadata!;
      assert.equal(described.KeyUsage, 'KEY_AGREEMENT');
      assert.deepEqual(described.KeyAgreementAlgorithms, ['ECDH']);
      assert.equal(described.SigningAlgorithms, undefined);
      const pub = await kms.send(new GetPublicKeyCommand({ KeyId: id }));
      assert.deepEqual(pub.KeyAgreementAlgorithms, ['ECDH']);
      assert.equal(pub.KeyUsage, 'KEY_AGREEMENT');
      const kmsPublic = createPublicKey({ key: Buffer.from(pub.PublicKey!), format: 'der', type: 'spki' });
      assert.equal(kmsPublic.asymmetricKeyDetails?.namedCurve, nodeCurve);

      const peer = opensslPeer(dir, opensslCurve);
      const out = await kms.send(new DeriveSharedSecretCommand({ KeyId: id, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer.spki }));
      assert.equal(out.KeyId, arn);
      assert.equal(out.KeyAgreementAlgorithm, 'ECDH');
      assert.equal(out.KeyOrigin, 'AWS_KMS');
      const secret = Buffer.from(out.SharedSecret!);
      assert.equal(secret.length, secretBytes, 'the raw x-coordinate, no KDF');

      const kmsPubFile = join(dir, `kms-${spec}.der`);
      writeFileSync(kmsPubFile, pub.PublicKey!);
      const fromOpenssl = execFileSync(OPENSSL, ['pkeyutl', '-derive', '-inkey', peer.keyFile, '-peerkey', kmsPubFile, '-peerform', 'DER']);
      assert.deepEqual(fromOpenssl, secret);
      const peerPrivate = createPrivateKey(readFileSync(peer.keyFile));
      assert.deepEqual(diffieHellman({ privateKey: peerPrivate, publicKey: kmsPublic }), secret);

      // A second peer gets a different secret; the same peer again the same one.
      const again = await kms.send(new DeriveSharedSecretCommand({ KeyId: arn, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer.spki }));
      assert.deepEqual(Buffer.from(again.SharedSecret!), secret);
      const other = generateKeyPairSync('ec', { namedCurve: nodeCurve }).publicKey.export({ type: 'spki', format: 'der' });
      const second = await kms.send(new DeriveSharedSecretCommand({ KeyId: id, KeyAgreementAlgorithm: 'ECDH', PublicKey: other }));
      assert.notDeepEqual(Buffer.from(second.SharedSecret!), secret);
    });
  }

  test('a peer key on another curve, of another type, or not DER SPKI is ValidationException', async () => {
    const { id } = keys.get('ECC_NIST_P256')!;
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey.export({ type: 'spki', format: 'der' });
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey.export({ type: 'spki', format: 'der' });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'der' });
    const wrongCurve = 'PublicKey is not on the curve of the KMS key: key spec ECC_NIST_P256 requires a public key on the same curve.';
    for (const key of [p384, k1, rsa]) {
      await rejects(kms.send(new DeriveSharedSecretCommand({ KeyId: id, KeyAgreementAlgorithm: 'ECDH', PublicKey: key })), 'ValidationException', wrongCurve);
    }
    const malformed = 'PublicKey must be a DER-encoded X.509 SubjectPublicKeyInfo of an elliptic curve public key.';
    const good = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'der' });
    // A point off the curve: flip a byte of y.
    const offCurve = Buffer.from(good);
    offCurve[offCurve.length - 1] ^= 1;
    for (const key of [Buffer.from('not a key'), good.subarray(0, 40), offCurve, Buffer.from(good.toString('base64'))]) {
      await rejects(kms.send(new DeriveSharedSecretCommand({ KeyId: id, KeyAgreementAlgorithm: 'ECDH', PublicKey: key })), 'ValidationException', malformed);
    }
  });

  test('usage, algorithm, state, DryRun, Recipient and input validation', async () => {
    const { id, arn } = keys.get('ECC_NIST_P384')!;
    const peer = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey.export({ type: 'spki', format: 'der' });
    await rejects(
      kms.send(new DeriveSharedSecretCommand({ KeyId: id, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer, DryRun: true })),
      'DryRunOperationException',
      'The request would have succeeded, but the DryRun option is set.',
    );
    await rejects(
      kms.send(new DeriveSharedSecretCommand({ KeyId: id, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer, Recipient: { AttestationDocument: Buffer.from('doc') } })),
      'UnsupportedOperationException',
      'DeriveSharedSecret with Recipient is not supported by Keyhold. See docs/compatibility.md.',
    );
    await rejects(
      kms.send(new DeriveSharedSecretCommand({ KeyId: id, KeyAgreementAlgorithm: 'X25519' as never, PublicKey: peer })),
      'ValidationException',
      validation('keyAgreementAlgorithm', 'satisfy enum value set: [ECDH]', 'X25519'),
    );
    await rejects(
      kms.send(new DeriveSharedSecretCommand({ KeyId: id, KeyAgreementAlgorithm: 'ECDH' } as never)),
      'ValidationException',
      validation('publicKey', 'not be null', null),
    );
    const signer = (await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P384', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!;
    await rejects(
      kms.send(new DeriveSharedSecretCommand({ KeyId: signer.KeyId!, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer })),
      'InvalidKeyUsageException',
      `${signer.Arn} key usage is SIGN_VERIFY which is not valid for this operation.`,
    );
    const symmetric = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    await rejects(
      kms.send(new DeriveSharedSecretCommand({ KeyId: symmetric.KeyId!, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer })),
      'InvalidKeyUsageException',
      `${symmetric.Arn} key usage is ENCRYPT_DECRYPT which is not valid for this operation.`,
    );
    const disabled = (await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P384', KeyUsage: 'KEY_AGREEMENT' }))).KeyMetadata!;
    await kms.send(new DisableKeyCommand({ KeyId: disabled.KeyId! }));
    await rejects(
      kms.send(new DeriveSharedSecretCommand({ KeyId: disabled.KeyId!, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer })),
      'DisabledException',
      `${disabled.Arn} is disabled.`,
    );
    assert.ok(arn.endsWith(id));
  });

  test('kms:KeyAgreementAlgorithm in a key policy', async () => {
    const m = (await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'KEY_AGREEMENT' }))).KeyMetadata!;
    const root = `arn:aws:iam::${m.AWSAccountId}:root`;
    const policy = {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'Admin', Effect: 'Allow', Principal: { AWS: root }, Action: 'kms:*', Resource: '*' },
        {
          Sid: 'NoEcdh', Effect: 'Deny', Principal: { AWS: root }, Action: 'kms:DeriveSharedSecret', Resource: '*',
          Condition: { StringEquals: { 'kms:KeyAgreementAlgorithm': 'ECDH' } },
        },
      ],
    };
    const peer = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'der' });
    await kms.send(new DeriveSharedSecretCommand({ KeyId: m.KeyId!, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer }));
    await kms.send(new PutKeyPolicyCommand({ KeyId: m.KeyId!, PolicyName: 'default', Policy: JSON.stringify(policy) }));
    await rejects(
      kms.send(new DeriveSharedSecretCommand({ KeyId: m.KeyId!, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer })),
      'AccessDeniedException',
      /kms:DeriveSharedSecret on resource: .* with an explicit deny in a resource-based policy/,
    );
  });
});

describe('DeriveSharedSecret and the audit trail', () => {
  test('the trail records the call and the algorithm, never the shared secret or the peer key', async () => {
    const server = await startServer();
    const kms = server.client();
    const secrets: string[] = [];
    let peerB64 = '';
    try {
      const id = (await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'KEY_AGREEMENT' }))).KeyMetadata!.KeyId!;
      const peer = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'der' });
      peerB64 = peer.toString('base64');
      const out = await kms.send(new DeriveSharedSecretCommand({ KeyId: id, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer }));
      const secret = Buffer.from(out.SharedSecret!);
      secrets.push(secret.toString('base64'), secret.toString('hex'));
    } finally {
      kms.destroy();
      assert.equal(await server.stop(), 0);
    }
    try {
      const auditDir = join(server.dataDir, 'audit');
      const files = readdirSync(auditDir).map((f) => readFileSync(join(auditDir, f)).toString('latin1'));
      assert.ok(files.some((f) => f.includes('DeriveSharedSecret')), 'the call is in the trail');
      assert.ok(files.some((f) => f.includes('"keyAgreementAlgorithm":"ECDH"')), 'the algorithm is recorded');
      for (const s of [...secrets, peerB64]) for (const f of files) assert.ok(!f.includes(s), `a secret value (${s.slice(0, 6)}…) is in the trail`);
    } finally {
      removeDir(server.dataDir);
    }
  });
});
