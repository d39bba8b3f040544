/**
 * Asymmetric signing keys through @aws-sdk/client-kms over a real socket: CreateKey for every
 * signing spec, DescribeKey and GetPublicKey, Sign and Verify for every algorithm with RAW and
 * DIGEST messages — each signature checked by OpenSSL's command line and by node:crypto, both
 * independent of Keyhold's code path — and AWS's errors.
 */
import assert from 'node:assert/strict';
import { createHash, createPublicKey, sign as nodeSign, verify as nodeVerify, generateKeyPairSync, constants } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  CreateKeyCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  GetPublicKeyCommand,
  KMSClient,
  SignCommand,
  VerifyCommand,
  type SigningAlgorithmSpec,
} from '@aws-sdk/client-kms';
import { rejects, validation } from '../helpers/assertions';
import { opensslVerifies } from '../helpers/openssl-verify';
import { removeDir, startServer, type TestServer } from '../helpers/server';

interface Case {
  readonly spec: string;
  readonly alg: SigningAlgorithmSpec;
  readonly hash?: 'sha256' | 'sha384' | 'sha512';
  readonly pss?: boolean;
  readonly digestLength?: number;
}

const CASES: readonly Case[] = [
  { spec: 'RSA_2048', alg: 'RSASSA_PSS_SHA_256', hash: 'sha256', pss: true, digestLength: 32 },
  { spec: 'RSA_2048', alg: 'RSASSA_PSS_SHA_384', hash: 'sha384', pss: true, digestLength: 48 },
  { spec: 'RSA_2048', alg: 'RSASSA_PSS_SHA_512', hash: 'sha512', pss: true, digestLength: 64 },
  { spec: 'RSA_2048', alg: 'RSASSA_PKCS1_V1_5_SHA_256', hash: 'sha256', digestLength: 32 },
  { spec: 'RSA_2048', alg: 'RSASSA_PKCS1_V1_5_SHA_384', hash: 'sha384', digestLength: 48 },
  { spec: 'RSA_2048', alg: 'RSASSA_PKCS1_V1_5_SHA_512', hash: 'sha512', digestLength: 64 },
  { spec: 'ECC_NIST_P256', alg: 'ECDSA_SHA_256', hash: 'sha256', digestLength: 32 },
  { spec: 'ECC_NIST_P384', alg: 'ECDSA_SHA_384', hash: 'sha384', digestLength: 48 },
  { spec: 'ECC_NIST_P521', alg: 'ECDSA_SHA_512', hash: 'sha512', digestLength: 64 },
  { spec: 'ECC_SECG_P256K1', alg: 'ECDSA_SHA_256', hash: 'sha256', digestLength: 32 },
  { spec: 'ECC_NIST_EDWARDS25519', alg: 'ED25519_SHA_512' },
];

const RSA_SIGNING = [
  'RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512',
  'RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512',
];
const SIGNING_LISTS: Readonly<Record<string, string[]>> = {
  RSA_2048: RSA_SIGNING,
  ECC_NIST_P256: ['ECDSA_SHA_256'],
  ECC_NIST_P384: ['ECDSA_SHA_384'],
  ECC_NIST_P521: ['ECDSA_SHA_512'],
  ECC_SECG_P256K1: ['ECDSA_SHA_256'],
  ECC_NIST_EDWARDS25519: ['ED25519_SHA_512', 'ED25519_PH_SHA_512'],
};
const CURVES: Readonly<Record<string, string>> = {
  ECC_NIST_P256: 'prime256v1', ECC_NIST_P384: 'secp384r1', ECC_NIST_P521: 'secp521r1', ECC_SECG_P256K1: 'secp256k1',
};

/** node:crypto verification of a RAW-message signature. */
function nodeVerifies(spki: Uint8Array, c: Case, message: Buffer, signature: Uint8Array): boolean {
  const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  if (c.hash === undefined) return nodeVerify(null, message, key, signature);
  const opts = c.pss === true
    ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: c.digestLength }
    : c.spec.startsWith('ECC') ? { key, dsaEncoding: 'der' as const } : key;
  return nodeVerify(c.hash, message, opts, signature);
}

describe('Sign, Verify and GetPublicKey', () => {
  let server: TestServer;
  let kms: KMSClient;
  const keys = new Map<string, { arn: string; spki: Uint8Array }>();

  before(async () => {
    server = await startServer();
    kms = server.client();
    for (const spec of Object.keys(SIGNING_LISTS)) {
      const { KeyMetadata: m } = await kms.send(new CreateKeyCommand({ KeySpec: spec as 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }));
      const pub = await kms.send(new GetPublicKeyCommand({ KeyId: m!.KeyId! }));
      keys.set(spec, { arn: m!.Arn!, spki: pub.PublicKey! });
    }
  });
  after(async () => {
    kms?.destroy();
    assert.equal(await server.stop(), 0);
    removeDir(server.dataDir);
  });

  test('CreateKey and DescribeKey show each signing spec with its usage and signing algorithms', async () => {
    for (const [spec, algs] of Object.entries(SIGNING_LISTS)) {
      const { KeyMetadata: m } = await kms.send(new DescribeKeyCommand({ KeyId: keys.get(spec)!.arn }));
      assert.equal(m!.KeySpec, spec);
      assert.equal(m!.KeyUsage, 'SIGN_VERIFY');
      assert.equal(m!.KeyState, 'Enabled');
      assert.deepEqual(m!.SigningAlgorithms, algs);
      assert.equal(m!.EncryptionAlgorithms, undefined);
      assert.equal(m!.MacAlgorithms, undefined);
    }
  });

  test('GetPublicKey returns a DER SubjectPublicKeyInfo of the right type and curve, with the algorithm lists', async () => {
    for (const [spec, algs] of Object.entries(SIGNING_LISTS)) {
      const out = await kms.send(new GetPublicKeyCommand({ KeyId: keys.get(spec)!.arn }));
      assert.equal(out.KeyId, keys.get(spec)!.arn);
      assert.equal(out.KeySpec, spec);
      assert.equal(out.KeyUsage, 'SIGN_VERIFY');
      assert.deepEqual(out.SigningAlgorithms, algs);
      const key = createPublicKey({ key: Buffer.from(out.PublicKey!), format: 'der', type: 'spki' });
      if (spec === 'RSA_2048') {
        assert.equal(key.asymmetricKeyType, 'rsa');
        assert.equal(key.asymmetricKeyDetails?.modulusLength, 2048);
        assert.equal(key.asymmetricKeyDetails?.publicExponent, 65537n);
      } else if (spec === 'ECC_NIST_EDWARDS25519') {
        // An Ed25519 key, not a P-521 one (a bug users report in emulators).
        assert.equal(key.asymmetricKeyType, 'ed25519');
        assert.equal(out.PublicKey!.length, 44);
      } else {
        assert.equal(key.asymmetricKeyType, 'ec');
        assert.equal(key.asymmetricKeyDetails?.namedCurve, CURVES[spec]);
      }
    }
  });

  for (const c of CASES) {
    test(`${c.spec} ${c.alg}: RAW signatures verify with OpenSSL, node:crypto and KMS`, async () => {
      const { arn, spki } = keys.get(c.spec)!;
      const message = Buffer.from(`message for ${c.alg} \u00e9\u0000 with bytes`);
      const out = await kms.send(new SignCommand({ KeyId: arn, Message: message, SigningAlgorithm: c.alg, MessageType: 'RAW' }));
      assert.equal(out.KeyId, arn);
      assert.equal(out.SigningAlgorithm, c.alg);
      const sig = out.Signature!;
      assert.ok(opensslVerifies(spki, message, sig, { hash: c.hash, pss: c.pss, saltLength: c.digestLength }), 'openssl rejected the signature');
      assert.ok(nodeVerifies(spki, c, message, sig), 'node:crypto rejected the signature');
      const v = await kms.send(new VerifyCommand({ KeyId: arn, Message: message, Signature: sig, SigningAlgorithm: c.alg }));
      assert.equal(v.SignatureValid, true);
      assert.equal(v.SigningAlgorithm, c.alg);
      assert.equal(v.KeyId, arn);
      const other = Buffer.from(message);
      other[0] ^= 1;
      assert.ok(!opensslVerifies(spki, other, sig, { hash: c.hash, pss: c.pss, saltLength: c.digestLength }), 'openssl accepted a changed message');
      await rejects(
        kms.send(new VerifyCommand({ KeyId: arn, Message: other, Signature: sig, SigningAlgorithm: c.alg })),
        'KMSInvalidSignatureException',
        'The signature is not valid for the message, key and signing algorithm.',
      );
    });

    const hash = c.hash;
    if (hash !== undefined) {
      test(`${c.spec} ${c.alg}: a DIGEST signature is the message's signature (no double hashing), and RAW and DIGEST verify each other`, async () => {
        const { arn, spki } = keys.get(c.spec)!;
        const message = Buffer.from(`a longer message signed through its ${hash} digest`);
        const digest = createHash(hash).update(message).digest();
        const out = await kms.send(new SignCommand({ KeyId: arn, Message: digest, SigningAlgorithm: c.alg, MessageType: 'DIGEST' }));
        const sig = out.Signature!;
        assert.ok(opensslVerifies(spki, message, sig, { hash, pss: c.pss, saltLength: c.digestLength }), 'openssl rejected the signature');
        assert.ok(nodeVerifies(spki, c, message, sig), 'node:crypto rejected the signature');
        await kms.send(new VerifyCommand({ KeyId: arn, Message: message, Signature: sig, SigningAlgorithm: c.alg, MessageType: 'RAW' }));
        // A signature node:crypto made over the message verifies through KMS as DIGEST.
        const raw = await kms.send(new SignCommand({ KeyId: arn, Message: message, SigningAlgorithm: c.alg }));
        const v = await kms.send(new VerifyCommand({ KeyId: arn, Message: digest, Signature: raw.Signature!, SigningAlgorithm: c.alg, MessageType: 'DIGEST' }));
        assert.equal(v.SignatureValid, true);
        const bad = Buffer.from(digest);
        bad[5] ^= 0x80;
        await rejects(
          kms.send(new VerifyCommand({ KeyId: arn, Message: bad, Signature: sig, SigningAlgorithm: c.alg, MessageType: 'DIGEST' })),
          'KMSInvalidSignatureException',
        );
        await rejects(
          kms.send(new SignCommand({ KeyId: arn, Message: digest.subarray(1), SigningAlgorithm: c.alg, MessageType: 'DIGEST' })),
          'ValidationException',
          `Digest is invalid length for algorithm ${c.alg}.`,
        );
      });
    }
  }

  test('Verify accepts a signature made outside KMS with the same key only (RSA-PSS made by node:crypto with another key fails)', async () => {
    const { arn } = keys.get('RSA_2048')!;
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const message = Buffer.from('foreign');
    const sig = nodeSign('sha256', message, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    await rejects(kms.send(new VerifyCommand({ KeyId: arn, Message: message, Signature: sig, SigningAlgorithm: 'RSASSA_PSS_SHA_256' })), 'KMSInvalidSignatureException');
    await rejects(kms.send(new VerifyCommand({ KeyId: arn, Message: message, Signature: Buffer.from([1, 2, 3]), SigningAlgorithm: 'RSASSA_PSS_SHA_256' })), 'KMSInvalidSignatureException');
  });

  test('ECDSA signatures are returned as made: no low-S normalisation (secp256k1)', async () => {
    const { arn, spki } = keys.get('ECC_SECG_P256K1')!;
    const n = BigInt('0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141');
    let high = 0;
    // The chance that 24 random signatures are all low-S is 2^-24.
    for (let i = 0; i < 24; i++) {
      const message = Buffer.from(`tx ${i}`);
      const sig = Buffer.from((await kms.send(new SignCommand({ KeyId: arn, Message: message, SigningAlgorithm: 'ECDSA_SHA_256' }))).Signature!);
      const rLen = sig[3] as number;
      const sLen = sig[5 + rLen] as number;
      const s = BigInt(`0x${sig.subarray(6 + rLen, 6 + rLen + sLen).toString('hex')}`);
      if (s > n / 2n) high++;
      assert.ok(nodeVerifies(spki, CASES[9]!, message, sig));
    }
    assert.ok(high > 0, 'every signature was low-S');
  });

  test('a signing algorithm the key spec does not support is InvalidKeyUsageException', async () => {
    await rejects(
      kms.send(new SignCommand({ KeyId: keys.get('ECC_NIST_P256')!.arn, Message: Buffer.from('m'), SigningAlgorithm: 'RSASSA_PSS_SHA_256' })),
      'InvalidKeyUsageException',
      'Algorithm RSASSA_PSS_SHA_256 is incompatible with key spec ECC_NIST_P256.',
    );
    await rejects(
      kms.send(new SignCommand({ KeyId: keys.get('ECC_NIST_P256')!.arn, Message: Buffer.from('m'), SigningAlgorithm: 'ECDSA_SHA_384' })),
      'InvalidKeyUsageException',
      'Algorithm ECDSA_SHA_384 is incompatible with key spec ECC_NIST_P256.',
    );
    await rejects(
      kms.send(new VerifyCommand({ KeyId: keys.get('RSA_2048')!.arn, Message: Buffer.from('m'), Signature: Buffer.from('s'), SigningAlgorithm: 'ECDSA_SHA_256' })),
      'InvalidKeyUsageException',
      'Algorithm ECDSA_SHA_256 is incompatible with key spec RSA_2048.',
    );
  });

  test('Sign with a symmetric key is InvalidKeyUsageException; GetPublicKey of one is UnsupportedOperationException', async () => {
    const { KeyMetadata: m } = await kms.send(new CreateKeyCommand({}));
    await rejects(
      kms.send(new SignCommand({ KeyId: m!.KeyId!, Message: Buffer.from('m'), SigningAlgorithm: 'RSASSA_PSS_SHA_256' })),
      'InvalidKeyUsageException',
      `${m!.Arn} key usage is ENCRYPT_DECRYPT which is not valid for this operation.`,
    );
    await rejects(
      kms.send(new GetPublicKeyCommand({ KeyId: m!.KeyId! })),
      'UnsupportedOperationException',
      `${m!.Arn} key spec is SYMMETRIC_DEFAULT which is not valid for this operation.`,
    );
  });

  test('Ed25519: DIGEST is refused for ED25519_SHA_512, RAW for ED25519_PH_SHA_512', async () => {
    const { arn } = keys.get('ECC_NIST_EDWARDS25519')!;
    await rejects(
      kms.send(new SignCommand({ KeyId: arn, Message: Buffer.alloc(64, 1), SigningAlgorithm: 'ED25519_SHA_512', MessageType: 'DIGEST' })),
      'ValidationException',
      'The ED25519_SHA_512 signing algorithm does not support the DIGEST message type.',
    );
    await rejects(
      kms.send(new SignCommand({ KeyId: arn, Message: Buffer.alloc(64, 1), SigningAlgorithm: 'ED25519_PH_SHA_512' })),
      'ValidationException',
      'The ED25519_PH_SHA_512 signing algorithm does not support the RAW message type.',
    );
    await rejects(
      kms.send(new SignCommand({ KeyId: arn, Message: Buffer.alloc(32, 1), SigningAlgorithm: 'ED25519_PH_SHA_512', MessageType: 'DIGEST' })),
      'ValidationException',
      'Digest is invalid length for algorithm ED25519_PH_SHA_512.',
    );
  });

  test('input validation: SigningAlgorithm required, Message 1–4096 bytes, MessageType enum', async () => {
    const { arn } = keys.get('ECC_NIST_P256')!;
    await rejects(
      kms.send(new SignCommand({ KeyId: arn, Message: Buffer.from('m') } as never)),
      'ValidationException',
      validation('signingAlgorithm', 'not be null', null),
    );
    await rejects(
      kms.send(new SignCommand({ KeyId: arn, Message: Buffer.alloc(4097), SigningAlgorithm: 'ECDSA_SHA_256' })),
      'ValidationException',
      validation('message', 'have length less than or equal to 4096'),
    );
    await rejects(
      kms.send(new SignCommand({ KeyId: arn, Message: Buffer.from('m'), SigningAlgorithm: 'ECDSA_SHA_256', MessageType: 'HASH' as never })),
      'ValidationException',
      validation('messageType', 'satisfy enum value set: [RAW, DIGEST, EXTERNAL_MU]', 'HASH'),
    );
  });

  test('DryRun answers DryRunOperationException; a disabled key is DisabledException', async () => {
    const { KeyMetadata: m } = await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }));
    await rejects(
      kms.send(new SignCommand({ KeyId: m!.KeyId!, Message: Buffer.from('m'), SigningAlgorithm: 'ECDSA_SHA_256', DryRun: true })),
      'DryRunOperationException',
      'The request would have succeeded, but the DryRun option is set.',
    );
    await kms.send(new DisableKeyCommand({ KeyId: m!.KeyId! }));
    await rejects(kms.send(new SignCommand({ KeyId: m!.KeyId!, Message: Buffer.from('m'), SigningAlgorithm: 'ECDSA_SHA_256' })), 'DisabledException');
    await rejects(kms.send(new GetPublicKeyCommand({ KeyId: m!.KeyId! })), 'DisabledException');
  });

  test('CreateKey refuses incompatible usages and China-only specs', async () => {
    await rejects(
      kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256' })),
      'ValidationException',
      'KeyUsage ENCRYPT_DECRYPT is not compatible with KeySpec ECC_NIST_P256.',
    );
    await rejects(
      kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'SIGN_VERIFY' })),
      'ValidationException',
      'KeyUsage SIGN_VERIFY is not compatible with KeySpec HMAC_256.',
    );
    await rejects(
      kms.send(new CreateKeyCommand({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'KEY_AGREEMENT' })),
      'ValidationException',
      'KeyUsage KEY_AGREEMENT is not compatible with KeySpec ECC_SECG_P256K1.',
    );
    await rejects(
      kms.send(new CreateKeyCommand({ KeySpec: 'ML_DSA_65', KeyUsage: 'ENCRYPT_DECRYPT' })),
      'ValidationException',
      'KeyUsage ENCRYPT_DECRYPT is not compatible with KeySpec ML_DSA_65.',
    );
    await rejects(
      kms.send(new CreateKeyCommand({ KeySpec: 'SM2', KeyUsage: 'SIGN_VERIFY' })),
      'UnsupportedOperationException',
      'KeySpec SM2 is offered by AWS only in China Regions and is not supported by this Keyhold server.',
    );
    await rejects(
      kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', CustomerMasterKeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' })),
      'ValidationException',
      'You cannot specify KeySpec and CustomerMasterKeySpec in the same request.',
    );
  });

  test('the deprecated CustomerMasterKeySpec creates the same key', async () => {
    const { KeyMetadata: m } = await kms.send(new CreateKeyCommand({ CustomerMasterKeySpec: 'ECC_NIST_P384', KeyUsage: 'SIGN_VERIFY' }));
    assert.equal(m!.KeySpec, 'ECC_NIST_P384');
    assert.equal(m!.CustomerMasterKeySpec, 'ECC_NIST_P384');
    assert.deepEqual(m!.SigningAlgorithms, ['ECDSA_SHA_384']);
  });
});
