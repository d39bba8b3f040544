/**
 * ML-DSA (FIPS 204) signing keys and ML-KEM (FIPS 203) encapsulation keys (issue 10) through
 * @aws-sdk/client-kms over a real socket: CreateKey, DescribeKey, GetPublicKey's SPKI (parsed by
 * `openssl asn1parse`), Sign/Verify with RAW and EXTERNAL_MU — μ computed with node:crypto's
 * SHAKE256 per FIPS 204 §6.2, so the external-μ path is checked by code Keyhold does not share —
 * Encapsulate/Decapsulate against a client-side encapsulation, GenerateDataKeyPair ML-KEM pairs,
 * AWS's errors, and a trail that never holds a message, signature or shared secret.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CreateKeyCommand,
  DecapsulateCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncapsulateCommand,
  GenerateDataKeyPairCommand,
  GenerateDataKeyPairWithoutPlaintextCommand,
  GetPublicKeyCommand,
  KMSClient,
  SignCommand,
  VerifyCommand,
  type DataKeyPairSpec,
  type KeySpec,
} from '@aws-sdk/client-kms';
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';
import { ml_kem512, ml_kem768, ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { rejects, validation } from '../helpers/assertions';
import { OPENSSL } from '../helpers/openssl-import';
import { removeDir, startServer, tempDir, type TestServer } from '../helpers/server';

const DSA = [
  { spec: 'ML_DSA_44' as KeySpec, oid: '2.16.840.1.101.3.4.3.17', pk: 1312, sig: 2420, lib: ml_dsa44 },
  { spec: 'ML_DSA_65' as KeySpec, oid: '2.16.840.1.101.3.4.3.18', pk: 1952, sig: 3309, lib: ml_dsa65 },
  { spec: 'ML_DSA_87' as KeySpec, oid: '2.16.840.1.101.3.4.3.19', pk: 2592, sig: 4627, lib: ml_dsa87 },
];
const KEM = [
  { spec: 'ML_KEM_512' as KeySpec, oid: '2.16.840.1.101.3.4.4.1', pk: 800, ct: 768, lib: ml_kem512 },
  { spec: 'ML_KEM_768' as KeySpec, oid: '2.16.840.1.101.3.4.4.2', pk: 1184, ct: 1088, lib: ml_kem768 },
  { spec: 'ML_KEM_1024' as KeySpec, oid: '2.16.840.1.101.3.4.4.3', pk: 1568, ct: 1568, lib: ml_kem1024 },
];

function shake256(parts: Uint8Array[], bytes: number): Buffer {
  const h = createHash('shake256', { outputLength: bytes });
  for (const p of parts) h.update(p);
  return h.digest();
}

/** FIPS 204 §6.2 / Alg. 7 lines 6–7: μ = H(H(pk, 64) ‖ M′, 64), M′ = 0 ‖ |ctx| ‖ ctx ‖ M with an empty context. */
function externalMu(publicKey: Uint8Array, message: Uint8Array): Buffer {
  return shake256([shake256([publicKey], 64), Buffer.of(0, 0), message], 64);
}

/** The raw key in a DER SPKI, checked with `openssl asn1parse`: algorithm OID, no parameters, BIT STRING of `bytes`. */
function spkiKey(dir: string, spki: Uint8Array, oid: string, bytes: number): Buffer {
  const file = join(dir, `spki-${oid}.der`);
  writeFileSync(file, spki);
  const parsed = execFileSync(OPENSSL, ['asn1parse', '-inform', 'DER', '-in', file], { encoding: 'utf8' });
  const lines = parsed.trim().split('\n');
  assert.equal(lines.length, 4, parsed);
  assert.match(lines[2] as string, new RegExp(`prim: OBJECT +:${oid.replace(/\./g, '\\.')}$`));
  assert.match(lines[3] as string, new RegExp(`l= *${bytes + 1} prim: BIT STRING`));
  return Buffer.from(spki.subarray(spki.length - bytes));
}

describe('ML-DSA and ML-KEM keys', () => {
  let server: TestServer;
  let kms: KMSClient;
  let dir: string;
  const keys = new Map<string, { id: string; arn: string }>();

  before(async () => {
    server = await startServer();
    kms = server.client();
    dir = tempDir('keyhold-pq-');
    for (const { spec } of DSA) {
      const m = (await kms.send(new CreateKeyCommand({ KeySpec: spec, KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!;
      keys.set(spec, { id: m.KeyId!, arn: m.Arn! });
    }
    for (const { spec } of KEM) {
      const m = (await kms.send(new CreateKeyCommand({ KeySpec: spec, KeyUsage: 'ENCAPSULATE_DECAPSULATE' }))).KeyMetadata!;
      keys.set(spec, { id: m.KeyId!, arn: m.Arn! });
    }
  });

  after(async () => {
    kms.destroy();
    await server.stop();
    removeDir(server.dataDir);
    removeDir(dir);
  });

  for (const c of DSA) {
    test(`${c.spec}: RAW and EXTERNAL_MU signatures verify with FIPS 204 (pure ML-DSA, empty context)`, async () => {
      const { id, arn } = keys.get(c.spec)!;
      const m = (await kms.send(new DescribeKeyCommand({ KeyId: id }))).KeyMetadata!;
      assert.equal(m.KeySpec, c.spec);
      assert.deepEqual(m.SigningAlgorithms, ['ML_DSA_SHAKE_256']);
      const pub = await kms.send(new GetPublicKeyCommand({ KeyId: id }));
      assert.deepEqual(pub.SigningAlgorithms, ['ML_DSA_SHAKE_256']);
      assert.equal(pub.KeyUsage, 'SIGN_VERIFY');
      const pk = spkiKey(dir, pub.PublicKey!, c.oid, c.pk);

      const message = randomBytes(4096);
      const raw = await kms.send(new SignCommand({ KeyId: id, Message: message, SigningAlgorithm: 'ML_DSA_SHAKE_256' }));
      assert.equal(raw.KeyId, arn);
      assert.equal(raw.SigningAlgorithm, 'ML_DSA_SHAKE_256');
      assert.equal(raw.Signature!.length, c.sig);
      assert.ok(c.lib.verify(raw.Signature!, message, pk), 'pure ML-DSA with an empty context');
      assert.ok(!c.lib.verify(raw.Signature!, message, pk, { context: Buffer.from('x') }));

      // EXTERNAL_MU: μ from node:crypto's SHAKE256; the signature is one over the message itself.
      const mu = externalMu(pk, message);
      const ext = await kms.send(new SignCommand({ KeyId: id, Message: mu, MessageType: 'EXTERNAL_MU', SigningAlgorithm: 'ML_DSA_SHAKE_256' }));
      assert.equal(ext.Signature!.length, c.sig);
      assert.ok(c.lib.verify(ext.Signature!, message, pk), 'a signature over μ verifies over the message (mldsa.html)');

      // Verify through KMS: both forms, both signatures; a changed bit is KMSInvalidSignatureException.
      for (const sig of [raw.Signature!, ext.Signature!]) {
        const v1 = await kms.send(new VerifyCommand({ KeyId: id, Message: message, Signature: sig, SigningAlgorithm: 'ML_DSA_SHAKE_256' }));
        assert.equal(v1.SignatureValid, true);
        const v2 = await kms.send(new VerifyCommand({ KeyId: id, Message: mu, MessageType: 'EXTERNAL_MU', Signature: sig, SigningAlgorithm: 'ML_DSA_SHAKE_256' }));
        assert.equal(v2.SignatureValid, true);
      }
      const bad = Buffer.from(raw.Signature!);
      bad[100] ^= 1;
      await rejects(
        kms.send(new VerifyCommand({ KeyId: id, Message: message, Signature: bad, SigningAlgorithm: 'ML_DSA_SHAKE_256' })),
        'KMSInvalidSignatureException',
        'The signature is not valid for the message, key and signing algorithm.',
      );
      // A valid ML-DSA signature by another key is refused too.
      const other = c.lib.keygen();
      await rejects(
        kms.send(new VerifyCommand({ KeyId: id, Message: message, Signature: c.lib.sign(message, other.secretKey), SigningAlgorithm: 'ML_DSA_SHAKE_256' })),
        'KMSInvalidSignatureException',
      );
    });
  }

  test('ML-DSA: DIGEST refused, EXTERNAL_MU exactly 64 bytes, RAW at most 4096 bytes, EXTERNAL_MU only for ML-DSA', async () => {
    const { id } = keys.get('ML_DSA_65')!;
    await rejects(
      kms.send(new SignCommand({ KeyId: id, Message: Buffer.alloc(64, 1), MessageType: 'DIGEST', SigningAlgorithm: 'ML_DSA_SHAKE_256' })),
      'ValidationException',
      'The ML_DSA_SHAKE_256 signing algorithm does not support the DIGEST message type.',
    );
    for (const n of [32, 63, 65]) {
      await rejects(
        kms.send(new SignCommand({ KeyId: id, Message: Buffer.alloc(n, 1), MessageType: 'EXTERNAL_MU', SigningAlgorithm: 'ML_DSA_SHAKE_256' })),
        'ValidationException',
        'The EXTERNAL_MU message type requires a Message of exactly 64 bytes for algorithm ML_DSA_SHAKE_256.',
      );
    }
    await rejects(
      kms.send(new SignCommand({ KeyId: id, Message: Buffer.alloc(4097), SigningAlgorithm: 'ML_DSA_SHAKE_256' })),
      'ValidationException',
      validation('message', 'have length less than or equal to 4096'),
    );
    await rejects(
      kms.send(new SignCommand({ KeyId: id, Message: Buffer.from('m'), SigningAlgorithm: 'ECDSA_SHA_256' })),
      'InvalidKeyUsageException',
      'Algorithm ECDSA_SHA_256 is incompatible with key spec ML_DSA_65.',
    );
    const ecdsa = (await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.KeyId!;
    await rejects(
      kms.send(new SignCommand({ KeyId: ecdsa, Message: Buffer.alloc(64), MessageType: 'EXTERNAL_MU', SigningAlgorithm: 'ECDSA_SHA_256' })),
      'ValidationException',
      'The ECDSA_SHA_256 signing algorithm does not support the EXTERNAL_MU message type.',
    );
    await rejects(
      kms.send(new SignCommand({ KeyId: id, Message: Buffer.from('m'), SigningAlgorithm: 'ML_DSA_SHAKE_256', DryRun: true })),
      'DryRunOperationException',
      'The request would have succeeded, but the DryRun option is set.',
    );
  });

  for (const c of KEM) {
    test(`${c.spec}: Encapsulate/Decapsulate agree, and with a client-side FIPS 203 encapsulation`, async () => {
      const { id, arn } = keys.get(c.spec)!;
      const m = (await kms.send(new DescribeKeyCommand({ KeyId: id }))).KeyMetadata!;
      assert.equal(m.KeyUsage, 'ENCAPSULATE_DECAPSULATE');
      assert.deepEqual(m.EncapsulationAlgorithms, ['ML_KEM']);
      const pub = await kms.send(new GetPublicKeyCommand({ KeyId: id }));
      assert.deepEqual(pub.EncapsulationAlgorithms, ['ML_KEM']);
      const pk = spkiKey(dir, pub.PublicKey!, c.oid, c.pk);

      const enc = await kms.send(new EncapsulateCommand({ KeyId: id, EncapsulationAlgorithm: 'ML_KEM' }));
      assert.equal(enc.KeyId, arn);
      assert.equal(enc.EncapsulationAlgorithm, 'ML_KEM');
      assert.equal(enc.SharedSecret!.length, 32);
      assert.equal(enc.SharedSecretCiphertextBlob!.length, c.ct);
      const dec = await kms.send(new DecapsulateCommand({ KeyId: arn, SharedSecretCiphertextBlob: enc.SharedSecretCiphertextBlob, EncapsulationAlgorithm: 'ML_KEM' }));
      assert.equal(dec.KeyId, arn);
      assert.deepEqual(Buffer.from(dec.SharedSecret!), Buffer.from(enc.SharedSecret!));

      // A client encapsulates to the public key GetPublicKey returned; KMS recovers its secret.
      const client = c.lib.encapsulate(pk);
      const ours = await kms.send(new DecapsulateCommand({ KeyId: id, SharedSecretCiphertextBlob: client.cipherText, EncapsulationAlgorithm: 'ML_KEM' }));
      assert.deepEqual(Buffer.from(ours.SharedSecret!), Buffer.from(client.sharedSecret));

      // Implicit rejection: a changed ciphertext gives an unrelated secret, not an error.
      const changed = Buffer.from(client.cipherText);
      changed[0] ^= 1;
      const rejected = await kms.send(new DecapsulateCommand({ KeyId: id, SharedSecretCiphertextBlob: changed, EncapsulationAlgorithm: 'ML_KEM' }));
      assert.equal(rejected.SharedSecret!.length, 32);
      assert.notDeepEqual(Buffer.from(rejected.SharedSecret!), Buffer.from(client.sharedSecret));
      await rejects(
        kms.send(new DecapsulateCommand({ KeyId: id, SharedSecretCiphertextBlob: changed.subarray(1), EncapsulationAlgorithm: 'ML_KEM' })),
        'InvalidCiphertextException',
        `The ciphertext is not a valid ${c.spec} encapsulation.`,
      );
    });
  }

  test('ML-KEM: usage, algorithm, DryRun and validation errors', async () => {
    const { id } = keys.get('ML_KEM_768')!;
    const dsa = keys.get('ML_DSA_44')!;
    await rejects(
      kms.send(new EncapsulateCommand({ KeyId: dsa.id, EncapsulationAlgorithm: 'ML_KEM' })),
      'InvalidKeyUsageException',
      `${dsa.arn} key usage is SIGN_VERIFY which is not valid for this operation.`,
    );
    await rejects(
      kms.send(new DecapsulateCommand({ KeyId: dsa.id, SharedSecretCiphertextBlob: Buffer.alloc(1088), EncapsulationAlgorithm: 'ML_KEM' })),
      'InvalidKeyUsageException',
      `${dsa.arn} key usage is SIGN_VERIFY which is not valid for this operation.`,
    );
    await rejects(
      kms.send(new EncapsulateCommand({ KeyId: id, EncapsulationAlgorithm: 'KYBER' as never })),
      'ValidationException',
      validation('encapsulationAlgorithm', 'satisfy enum value set: [ML_KEM]', 'KYBER'),
    );
    await rejects(
      kms.send(new EncapsulateCommand({ KeyId: id, EncapsulationAlgorithm: 'ML_KEM', DryRun: true })),
      'DryRunOperationException',
      'The request would have succeeded, but the DryRun option is set.',
    );
    await rejects(
      kms.send(new SignCommand({ KeyId: id, Message: Buffer.from('m'), SigningAlgorithm: 'ML_DSA_SHAKE_256' })),
      'InvalidKeyUsageException',
    );
    await rejects(
      kms.send(new CreateKeyCommand({ KeySpec: 'ML_KEM_768', KeyUsage: 'SIGN_VERIFY' })),
      'ValidationException',
      'KeyUsage SIGN_VERIFY is not compatible with KeySpec ML_KEM_768.',
    );
  });

  for (const spec of ['ML_KEM_512', 'ML_KEM_768', 'ML_KEM_1024'] as DataKeyPairSpec[]) {
    test(`GenerateDataKeyPair ${spec}: seed-form PKCS#8 whose public key is the SPKI returned`, async () => {
      const wrap = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      const c = KEM.find((k) => k.spec === spec)!;
      const pair = await kms.send(new GenerateDataKeyPairCommand({ KeyId: wrap, KeyPairSpec: spec }));
      assert.equal(pair.KeyPairSpec, spec);
      const pkcs8 = Buffer.from(pair.PrivateKeyPlaintext!);
      const file = join(dir, `pair-${spec}.der`);
      writeFileSync(file, pkcs8);
      const parsed = execFileSync(OPENSSL, ['asn1parse', '-inform', 'DER', '-in', file], { encoding: 'utf8' });
      assert.match(parsed, new RegExp(`OBJECT +:${c.oid.replace(/\./g, '\\.')}`));
      assert.match(parsed, /prim: OCTET STRING +\[HEX DUMP\]:8040/, 'privateKey holds the [0] seed (64 bytes)');
      const seed = pkcs8.subarray(pkcs8.length - 64);
      const pk = spkiKey(dir, pair.PublicKey!, c.oid, c.pk);
      assert.deepEqual(Buffer.from(c.lib.keygen(seed).publicKey), pk);
      const opened = await kms.send(new DecryptCommand({ CiphertextBlob: pair.PrivateKeyCiphertextBlob }));
      assert.deepEqual(Buffer.from(opened.Plaintext!), pkcs8);
      const without = await kms.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: wrap, KeyPairSpec: spec }));
      assert.equal(without.PublicKey!.length, pair.PublicKey!.length);
    });
  }
});

describe('post-quantum operations and the audit trail', () => {
  test('the trail records the calls, never a message, μ, signature or shared secret', async () => {
    const server = await startServer();
    const kms = server.client();
    const secrets: Buffer[] = [];
    try {
      const dsa = (await kms.send(new CreateKeyCommand({ KeySpec: 'ML_DSA_44', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.KeyId!;
      const kem = (await kms.send(new CreateKeyCommand({ KeySpec: 'ML_KEM_512', KeyUsage: 'ENCAPSULATE_DECAPSULATE' }))).KeyMetadata!.KeyId!;
      const message = randomBytes(64);
      const signed = await kms.send(new SignCommand({ KeyId: dsa, Message: message, MessageType: 'EXTERNAL_MU', SigningAlgorithm: 'ML_DSA_SHAKE_256' }));
      secrets.push(message, Buffer.from(signed.Signature!));
      const enc = await kms.send(new EncapsulateCommand({ KeyId: kem, EncapsulationAlgorithm: 'ML_KEM' }));
      const dec = await kms.send(new DecapsulateCommand({ KeyId: kem, SharedSecretCiphertextBlob: enc.SharedSecretCiphertextBlob, EncapsulationAlgorithm: 'ML_KEM' }));
      secrets.push(Buffer.from(enc.SharedSecret!), Buffer.from(enc.SharedSecretCiphertextBlob!), Buffer.from(dec.SharedSecret!));
    } finally {
      kms.destroy();
      assert.equal(await server.stop(), 0);
    }
    try {
      const auditDir = join(server.dataDir, 'audit');
      const files = readdirSync(auditDir).map((f) => readFileSync(join(auditDir, f)).toString('latin1'));
      for (const name of ['"Encapsulate"', '"Decapsulate"', '"Sign"']) assert.ok(files.some((f) => f.includes(name)), `${name} is in the trail`);
      assert.ok(files.some((f) => f.includes('"encapsulationAlgorithm":"ML_KEM"')), 'the algorithm is recorded');
      for (const s of secrets) {
        for (const text of [s.toString('base64'), s.toString('hex'), s.toString('base64').slice(8, 40)]) {
          for (const f of files) assert.ok(!f.includes(text), `a secret value (${text.slice(0, 6)}…) is in the trail`);
        }
      }
    } finally {
      removeDir(server.dataDir);
    }
  });
});
