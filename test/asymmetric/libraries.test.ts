/**
 * KMS signatures as users consume them, checked by libraries Keyhold does not use to make them:
 * `jose` verifies JWTs signed through KMS (RS256, PS256, ES256, EdDSA) against the GetPublicKey
 * key; `ethers` recovers the Ethereum address of a secp256k1 KMS key from a signature over a
 * keccak256 digest (trying both recovery ids, as KMS signers do); and the AWS CLI
 * (/usr/bin/aws) drives get-public-key, sign, verify, generate-mac and verify-mac end to end.
 */
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { CreateKeyCommand, GetPublicKeyCommand, KMSClient, SignCommand, type SigningAlgorithmSpec } from '@aws-sdk/client-kms';
import { computeAddress, getBytes, hashMessage, recoverAddress, Signature } from 'ethers';
import { jwtVerify } from 'jose';
import { assertAwsCliInstalled, AwsCli } from '../helpers/aws-cli';
import { removeDir, startServer, type TestServer } from '../helpers/server';

/** DER ECDSA-Sig-Value (RFC 3279 §2.2.3) -> r and s as fixed-length big-endian integers. */
function derToRS(der: Uint8Array, size: number): { r: Buffer; s: Buffer } {
  const b = Buffer.from(der);
  assert.equal(b[0], 0x30);
  let i = (b[1] as number) & 0x80 ? 2 + ((b[1] as number) & 0x7f) : 2;
  const int = (): Buffer => {
    assert.equal(b[i], 0x02);
    const len = b[i + 1] as number;
    let v = b.subarray(i + 2, i + 2 + len);
    i += 2 + len;
    while (v.length > size && v[0] === 0) v = v.subarray(1);
    return Buffer.concat([Buffer.alloc(size - v.length), v]);
  };
  return { r: int(), s: int() };
}

function b64url(data: string | Uint8Array): string {
  return Buffer.from(data).toString('base64url');
}

describe('independent libraries and the AWS CLI', () => {
  let server: TestServer;
  let kms: KMSClient;

  before(async () => {
    server = await startServer();
    kms = server.client();
  });
  after(async () => {
    kms?.destroy();
    assert.equal(await server.stop(), 0);
    removeDir(server.dataDir);
  });

  const JWTS: ReadonlyArray<[string, string, SigningAlgorithmSpec]> = [
    ['RS256', 'RSA_2048', 'RSASSA_PKCS1_V1_5_SHA_256'],
    ['PS256', 'RSA_3072', 'RSASSA_PSS_SHA_256'],
    ['ES256', 'ECC_NIST_P256', 'ECDSA_SHA_256'],
    ['EdDSA', 'ECC_NIST_EDWARDS25519', 'ED25519_SHA_512'],
  ];
  for (const [alg, spec, signingAlgorithm] of JWTS) {
    test(`jose verifies a ${alg} JWT signed through KMS`, async () => {
      const { KeyMetadata: m } = await kms.send(new CreateKeyCommand({ KeySpec: spec as 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }));
      const pub = await kms.send(new GetPublicKeyCommand({ KeyId: m!.KeyId! }));
      const signingInput = `${b64url(JSON.stringify({ alg, typ: 'JWT', kid: m!.KeyId }))}.${b64url(JSON.stringify({ sub: 'keyhold', iat: 1700000000 }))}`;
      const out = await kms.send(new SignCommand({ KeyId: m!.KeyId!, Message: Buffer.from(signingInput), SigningAlgorithm: signingAlgorithm }));
      // JWS ES256 signatures are r || s (RFC 7518 §3.4), KMS's are DER: converted as KMS JWT signers do.
      const sig = alg === 'ES256' ? (({ r, s }) => Buffer.concat([r, s]))(derToRS(out.Signature!, 32)) : Buffer.from(out.Signature!);
      const token = `${signingInput}.${b64url(sig)}`;
      const key = createPublicKey({ key: Buffer.from(pub.PublicKey!), format: 'der', type: 'spki' });
      const { payload, protectedHeader } = await jwtVerify(token, key, { algorithms: [alg] });
      assert.equal(payload.sub, 'keyhold');
      assert.equal(protectedHeader.alg, alg);
      const tampered = `${signingInput.slice(0, -2)}x${signingInput.slice(-1)}.${b64url(sig)}`;
      await assert.rejects(jwtVerify(tampered, key, { algorithms: [alg] }));
    });
  }

  test('ethers recovers the address of a secp256k1 KMS key from a signature over an EIP-191 digest', async () => {
    const { KeyMetadata: m } = await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY' }));
    const spki = Buffer.from((await kms.send(new GetPublicKeyCommand({ KeyId: m!.KeyId! }))).PublicKey!);
    // The SPKI of a secp256k1 key ends with the 65-byte uncompressed point.
    const address = computeAddress(`0x${spki.subarray(spki.length - 65).toString('hex')}`);
    const n = BigInt('0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141');
    for (let i = 0; i < 4; i++) {
      const digest = hashMessage(`hello from keyhold ${i}`);
      const out = await kms.send(new SignCommand({ KeyId: m!.KeyId!, Message: getBytes(digest), MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' }));
      const { r, s } = derToRS(out.Signature!, 32);
      // Ethereum wants low-S (EIP-2); KMS returns signatures as made, so signers normalise.
      let sv = BigInt(`0x${s.toString('hex')}`);
      if (sv > n / 2n) sv = n - sv;
      const sHex = `0x${sv.toString(16).padStart(64, '0')}`;
      const recovered = [27, 28].map((v) => recoverAddress(digest, Signature.from({ r: `0x${r.toString('hex')}`, s: sHex, v })));
      assert.ok(recovered.includes(address), `neither recovery id gives ${address}: ${recovered.join(', ')}`);
    }
  });

  test('the AWS CLI drives get-public-key, sign, verify, generate-mac and verify-mac', async () => {
    assertAwsCliInstalled();
    const cli = new AwsCli(() => server);
    try {
      const key = (await cli.json(['kms', 'create-key', '--key-spec', 'ECC_NIST_P384', '--key-usage', 'SIGN_VERIFY'])).KeyMetadata;
      assert.deepEqual(key.SigningAlgorithms, ['ECDSA_SHA_384']);
      const pub = await cli.json(['kms', 'get-public-key', '--key-id', key.KeyId]);
      assert.equal(pub.KeySpec, 'ECC_NIST_P384');
      assert.equal(createPublicKey({ key: Buffer.from(pub.PublicKey, 'base64'), format: 'der', type: 'spki' }).asymmetricKeyDetails?.namedCurve, 'secp384r1');
      const msg = cli.file('message.txt', 'signed by the AWS CLI\n');
      const signed = await cli.json(['kms', 'sign', '--key-id', key.KeyId, '--message', `fileb://${msg}`, '--message-type', 'RAW', '--signing-algorithm', 'ECDSA_SHA_384']);
      assert.equal(signed.SigningAlgorithm, 'ECDSA_SHA_384');
      const sigFile = cli.file('sig.bin', Buffer.from(signed.Signature, 'base64'));
      const verified = await cli.json(['kms', 'verify', '--key-id', key.KeyId, '--message', `fileb://${msg}`, '--signature', `fileb://${sigFile}`, '--signing-algorithm', 'ECDSA_SHA_384']);
      assert.equal(verified.SignatureValid, true);
      const bad = cli.file('bad.bin', Buffer.concat([readFileSync(sigFile).subarray(0, 20), Buffer.alloc(10)]));
      const refused = await cli.run(['kms', 'verify', '--key-id', key.KeyId, '--message', `fileb://${msg}`, '--signature', `fileb://${bad}`, '--signing-algorithm', 'ECDSA_SHA_384']);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /KMSInvalidSignatureException/);
      const macKey = (await cli.json(['kms', 'create-key', '--key-spec', 'HMAC_256', '--key-usage', 'GENERATE_VERIFY_MAC'])).KeyMetadata;
      const mac = await cli.json(['kms', 'generate-mac', '--key-id', macKey.KeyId, '--message', `fileb://${msg}`, '--mac-algorithm', 'HMAC_SHA_256']);
      assert.equal(Buffer.from(mac.Mac, 'base64').length, 32);
      const macFile = cli.file('mac.bin', Buffer.from(mac.Mac, 'base64'));
      const ok = await cli.json(['kms', 'verify-mac', '--key-id', macKey.KeyId, '--message', `fileb://${msg}`, '--mac', `fileb://${macFile}`, '--mac-algorithm', 'HMAC_SHA_256']);
      assert.equal(ok.MacValid, true);
    } finally {
      cli.remove();
    }
  });
});
