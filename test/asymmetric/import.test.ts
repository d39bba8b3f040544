/**
 * Importing RSA, ECC, Ed25519 and HMAC key material (issue 10) through @aws-sdk/client-kms over
 * a real socket: keys made by `openssl genpkey` (or `openssl rand` for HMAC), turned into DER
 * PKCS#8 with `openssl pkcs8 -topk8`, wrapped with `openssl pkeyutl` / `openssl enc
 * -id-aes256-wrap-pad` exactly as AWS's developer guide shows (test/helpers/openssl-import.ts),
 * then used: OpenSSL verifies the imported key's signatures and derives the same ECDH secret, and
 * an imported HMAC key's MAC equals crypto.createHmac over the same bytes. Then AWS's limits on
 * wrapping per material type, material that does not fit the key spec, and re-import.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CreateKeyCommand,
  DeriveSharedSecretCommand,
  DescribeKeyCommand,
  GenerateMacCommand,
  GetParametersForImportCommand,
  GetPublicKeyCommand,
  ImportKeyMaterialCommand,
  KMSClient,
  SignCommand,
  VerifyMacCommand,
  type AlgorithmSpec,
  type KeySpec,
  type KeyUsageType,
  type WrappingKeySpec,
} from '@aws-sdk/client-kms';
import { rejects } from '../helpers/assertions';
import { OPENSSL, opensslRandomMaterial, opensslWrap } from '../helpers/openssl-import';
import { opensslVerifies } from '../helpers/openssl-verify';
import { removeDir, startServer, tempDir, type TestServer } from '../helpers/server';

/** `openssl genpkey` with `args`, then `openssl pkcs8 -topk8 -nocrypt -outform DER`: the DER PKCS#8 AWS asks for. */
function opensslPrivateKey(dir: string, name: string, args: string[]): Buffer {
  const pem = join(dir, `${name}.pem`);
  execFileSync(OPENSSL, ['genpkey', ...args, '-out', pem], { stdio: ['ignore', 'ignore', 'ignore'] });
  return execFileSync(OPENSSL, ['pkcs8', '-topk8', '-nocrypt', '-in', pem, '-outform', 'DER']);
}

describe('importing asymmetric and HMAC key material', () => {
  let server: TestServer;
  let kms: KMSClient;
  let dir: string;

  before(async () => {
    server = await startServer();
    kms = server.client();
    dir = tempDir('keyhold-byok-');
  });

  after(async () => {
    kms.destroy();
    await server.stop();
    removeDir(server.dataDir);
    removeDir(dir);
  });

  async function externalKey(KeySpec: KeySpec, KeyUsage: KeyUsageType): Promise<{ id: string; arn: string }> {
    const m = (await kms.send(new CreateKeyCommand({ KeySpec, KeyUsage, Origin: 'EXTERNAL' }))).KeyMetadata!;
    assert.equal(m.KeyState, 'PendingImport');
    assert.equal(m.Origin, 'EXTERNAL');
    return { id: m.KeyId!, arn: m.Arn! };
  }

  async function wrapped(keyId: string, algorithm: AlgorithmSpec, wrappingKeySpec: WrappingKeySpec, material: Buffer): Promise<{ ImportToken: Uint8Array; EncryptedKeyMaterial: Buffer }> {
    const p = await kms.send(new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: algorithm, WrappingKeySpec: wrappingKeySpec }));
    return { ImportToken: p.ImportToken!, EncryptedKeyMaterial: opensslWrap(algorithm, p.PublicKey!, material) };
  }

  async function importInto(keyId: string, algorithm: AlgorithmSpec, wrappingKeySpec: WrappingKeySpec, material: Buffer): Promise<string> {
    const w = await wrapped(keyId, algorithm, wrappingKeySpec, material);
    const out = await kms.send(new ImportKeyMaterialCommand({ KeyId: keyId, ...w, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }));
    assert.match(out.KeyMaterialId!, /^[0-9a-f]{64}$/);
    return out.KeyMaterialId!;
  }

  test('RSA_3072 SIGN_VERIFY with RSA_AES_KEY_WRAP_SHA_256: the public key is openssl\'s, its signatures verify with openssl', async () => {
    const { id } = await externalKey('RSA_3072', 'SIGN_VERIFY');
    const pkcs8 = opensslPrivateKey(dir, 'rsa3072', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:3072']);
    await rejects(
      kms.send(new GetParametersForImportCommand({ KeyId: id, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_4096' })),
      'ValidationException',
      'The RSAES_OAEP_SHA_256 wrapping algorithm cannot wrap RSA key material. Use RSA_AES_KEY_WRAP_SHA_1 or RSA_AES_KEY_WRAP_SHA_256.',
    );
    await importInto(id, 'RSA_AES_KEY_WRAP_SHA_256', 'RSA_4096', pkcs8);
    const m = (await kms.send(new DescribeKeyCommand({ KeyId: id }))).KeyMetadata!;
    assert.equal(m.KeyState, 'Enabled');
    assert.ok(m.SigningAlgorithms!.includes('RSASSA_PSS_SHA_256'));
    const spki = Buffer.from((await kms.send(new GetPublicKeyCommand({ KeyId: id }))).PublicKey!);
    const expected = execFileSync(OPENSSL, ['pkey', '-in', join(dir, 'rsa3072.pem'), '-pubout', '-outform', 'DER']);
    assert.deepEqual(spki, expected);
    const message = Buffer.from('signed by an imported RSA key');
    const pss = await kms.send(new SignCommand({ KeyId: id, Message: message, SigningAlgorithm: 'RSASSA_PSS_SHA_256' }));
    assert.ok(opensslVerifies(expected, message, pss.Signature!, { hash: 'sha256', pss: true, saltLength: 32 }));
    const pkcs1 = await kms.send(new SignCommand({ KeyId: id, Message: message, SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_384' }));
    assert.ok(opensslVerifies(expected, message, pkcs1.Signature!, { hash: 'sha384' }));
  });

  test('RSA_2048 with RSA_AES_KEY_WRAP_SHA_1 and a 2048-bit wrapping key', async () => {
    const { id } = await externalKey('RSA_2048', 'SIGN_VERIFY');
    const pkcs8 = opensslPrivateKey(dir, 'rsa2048', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']);
    await importInto(id, 'RSA_AES_KEY_WRAP_SHA_1', 'RSA_2048', pkcs8);
    const message = Buffer.from('m');
    const sig = await kms.send(new SignCommand({ KeyId: id, Message: message, SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256' }));
    assert.ok(opensslVerifies(createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })).export({ type: 'spki', format: 'der' }), message, sig.Signature!, { hash: 'sha256' }));
  });

  test('ECC_NIST_P384 and secp256k1 signing keys, with RSAES_OAEP and RSA_AES wrapping', async () => {
    for (const [spec, curve, algorithm, alg] of [
      ['ECC_NIST_P384', 'P-384', 'RSAES_OAEP_SHA_256', 'ECDSA_SHA_384'],
      ['ECC_SECG_P256K1', 'secp256k1', 'RSA_AES_KEY_WRAP_SHA_1', 'ECDSA_SHA_256'],
    ] as const) {
      const { id } = await externalKey(spec, 'SIGN_VERIFY');
      const pkcs8 = opensslPrivateKey(dir, spec, ['-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${curve}`]);
      await importInto(id, algorithm, 'RSA_2048', pkcs8);
      const spki = Buffer.from((await kms.send(new GetPublicKeyCommand({ KeyId: id }))).PublicKey!);
      assert.deepEqual(spki, execFileSync(OPENSSL, ['pkey', '-in', join(dir, `${spec}.pem`), '-pubout', '-outform', 'DER']));
      const message = Buffer.from(`signed by an imported ${spec} key`);
      const sig = await kms.send(new SignCommand({ KeyId: id, Message: message, SigningAlgorithm: alg }));
      assert.ok(opensslVerifies(spki, message, sig.Signature!, { hash: alg === 'ECDSA_SHA_384' ? 'sha384' : 'sha256' }), spec);
    }
  });

  test('ECC_NIST_P521 KEY_AGREEMENT: RSAES_OAEP with RSA_2048 is refused; RSA_3072 works; ECDH agrees with openssl\'s key', async () => {
    const { id } = await externalKey('ECC_NIST_P521', 'KEY_AGREEMENT');
    await rejects(
      kms.send(new GetParametersForImportCommand({ KeyId: id, WrappingAlgorithm: 'RSAES_OAEP_SHA_1', WrappingKeySpec: 'RSA_2048' })),
      'ValidationException',
      'The RSAES_OAEP_SHA_1 wrapping algorithm with an RSA_2048 wrapping key cannot wrap ECC_NIST_P521 key material. Use a larger wrapping key spec or an RSA_AES wrapping algorithm.',
    );
    const pkcs8 = opensslPrivateKey(dir, 'p521', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521']);
    await importInto(id, 'RSAES_OAEP_SHA_256', 'RSA_3072', pkcs8);
    const peer = generateKeyPairSync('ec', { namedCurve: 'secp521r1' });
    const out = await kms.send(new DeriveSharedSecretCommand({ KeyId: id, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer.publicKey.export({ type: 'spki', format: 'der' }) }));
    const imported = createPrivateKey(readFileSync(join(dir, 'p521.pem')));
    assert.deepEqual(Buffer.from(out.SharedSecret!), diffieHellman({ privateKey: imported, publicKey: peer.publicKey }));
    assert.equal(out.KeyOrigin, 'EXTERNAL');
  });

  test('ECC_NIST_EDWARDS25519: an imported Ed25519 key signs as openssl\'s key does', async () => {
    const { id } = await externalKey('ECC_NIST_EDWARDS25519', 'SIGN_VERIFY');
    const pkcs8 = opensslPrivateKey(dir, 'ed25519', ['-algorithm', 'ED25519']);
    await importInto(id, 'RSAES_OAEP_SHA_1', 'RSA_2048', pkcs8);
    const spki = Buffer.from((await kms.send(new GetPublicKeyCommand({ KeyId: id }))).PublicKey!);
    const message = Buffer.from('pure Ed25519');
    const sig = await kms.send(new SignCommand({ KeyId: id, Message: message, SigningAlgorithm: 'ED25519_SHA_512' }));
    assert.ok(opensslVerifies(spki, message, sig.Signature!, {}));
  });

  for (const [spec, hash, bytes] of [['HMAC_224', 'sha224', 28], ['HMAC_256', 'sha256', 64], ['HMAC_384', 'sha384', 48], ['HMAC_512', 'sha512', 128]] as const) {
    test(`${spec}: the MAC of imported material equals crypto.createHmac over the same bytes`, async () => {
      const { id } = await externalKey(spec, 'GENERATE_VERIFY_MAC');
      const material = opensslRandomMaterial(bytes);
      await importInto(id, 'RSAES_OAEP_SHA_256', 'RSA_2048', material);
      const message = Buffer.from(`a message for ${spec}`);
      const alg = `HMAC_SHA_${spec.slice(5)}` as 'HMAC_SHA_256';
      const mac = await kms.send(new GenerateMacCommand({ KeyId: id, Message: message, MacAlgorithm: alg }));
      assert.deepEqual(Buffer.from(mac.Mac!), createHmac(hash, material).update(message).digest());
      const v = await kms.send(new VerifyMacCommand({ KeyId: id, Message: message, Mac: createHmac(hash, material).update(message).digest(), MacAlgorithm: alg }));
      assert.equal(v.MacValid, true);
    });
  }

  test('material that does not fit the key spec is IncorrectKeyMaterialException, and the key stays PendingImport', async () => {
    const hmac = await externalKey('HMAC_384', 'GENERATE_VERIFY_MAC');
    for (const n of [32, 129]) {
      const w = await wrapped(hmac.id, 'RSA_AES_KEY_WRAP_SHA_256', 'RSA_2048', opensslRandomMaterial(n));
      await rejects(
        kms.send(new ImportKeyMaterialCommand({ KeyId: hmac.id, ...w, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' })),
        'IncorrectKeyMaterialException',
        'The key material for a HMAC_384 KMS key must be 48 to 128 bytes long.',
      );
    }
    const p256 = await externalKey('ECC_NIST_P256', 'SIGN_VERIFY');
    const p384Key = opensslPrivateKey(dir, 'wrong-curve', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384']);
    const cases: [Buffer, string][] = [
      [p384Key, 'The key material is not a ECC_NIST_P256 private key.'],
      [opensslPrivateKey(dir, 'ed-not-ec', ['-algorithm', 'ED25519']), 'The key material is not a ECC_NIST_P256 private key.'],
      [opensslRandomMaterial(32), 'The key material for a ECC_NIST_P256 KMS key must be a DER-encoded PKCS #8 private key.'],
    ];
    for (const [material, message] of cases) {
      const w = await wrapped(p256.id, 'RSA_AES_KEY_WRAP_SHA_256', 'RSA_2048', material);
      await rejects(kms.send(new ImportKeyMaterialCommand({ KeyId: p256.id, ...w, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' })), 'IncorrectKeyMaterialException', message);
    }
    const rsa = await externalKey('RSA_2048', 'ENCRYPT_DECRYPT');
    const w = await wrapped(rsa.id, 'RSA_AES_KEY_WRAP_SHA_256', 'RSA_2048', opensslPrivateKey(dir, 'rsa3072-not-2048', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:3072']));
    await rejects(
      kms.send(new ImportKeyMaterialCommand({ KeyId: rsa.id, ...w, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' })),
      'IncorrectKeyMaterialException',
      'The key material is not a RSA_2048 private key.',
    );
    for (const k of [hmac, p256, rsa]) assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: k.id }))).KeyMetadata!.KeyState, 'PendingImport');
  });

  test('re-import: the same key in another PKCS#8 encoding has the same KeyMaterialId; another key is refused', async () => {
    const { id } = await externalKey('ECC_NIST_P256', 'SIGN_VERIFY');
    const pem = join(dir, 'reimport.pem');
    execFileSync(OPENSSL, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', pem], { stdio: ['ignore', 'ignore', 'ignore'] });
    const full = execFileSync(OPENSSL, ['pkcs8', '-topk8', '-nocrypt', '-in', pem, '-outform', 'DER']);
    const first = await importInto(id, 'RSA_AES_KEY_WRAP_SHA_256', 'RSA_3072', full);
    // The same private key without its optional public key: `openssl ec -no_public`, then PKCS#8.
    const noPublicPem = join(dir, 'reimport-nopub.pem');
    execFileSync(OPENSSL, ['ec', '-in', pem, '-no_public', '-out', noPublicPem], { stdio: ['ignore', 'ignore', 'ignore'] });
    const short = execFileSync(OPENSSL, ['pkcs8', '-topk8', '-nocrypt', '-in', noPublicPem, '-outform', 'DER']);
    assert.ok(short.length < full.length);
    assert.equal(await importInto(id, 'RSAES_OAEP_SHA_256', 'RSA_2048', short), first);
    const other = opensslPrivateKey(dir, 'reimport-other', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']);
    const w = await wrapped(id, 'RSAES_OAEP_SHA_256', 'RSA_2048', other);
    await rejects(
      kms.send(new ImportKeyMaterialCommand({ KeyId: id, ...w, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' })),
      'IncorrectKeyMaterialException',
      'The key material in the request is not the key material that was previously imported into this KMS key.',
    );
  });

  test('ML-DSA and ML-KEM keys cannot be created for import', async () => {
    for (const [KeySpec, KeyUsage] of [['ML_DSA_65', 'SIGN_VERIFY'], ['ML_KEM_768', 'ENCAPSULATE_DECAPSULATE']] as const) {
      await rejects(
        kms.send(new CreateKeyCommand({ KeySpec, KeyUsage, Origin: 'EXTERNAL' })),
        'UnsupportedOperationException',
        `Importing ${KeySpec} key material is not supported by this Keyhold server.`,
      );
    }
  });
});
