/**
 * HTTPS for the API listener (--tls-cert/--tls-key): the AWS SDK works over TLS with a private
 * CA, plain HTTP to the TLS port gets no answer, aws:SecureTransport is true over TLS (a key
 * policy denying insecure transport lets TLS calls through and refuses plain-HTTP ones), audit
 * records carry CloudTrail's tlsDetails only for TLS calls, and a half or unreadable
 * configuration stops the start with a clear message. The certificate is made at test time with
 * the openssl command line.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateKeyCommand, DecryptCommand, EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { loadConfig } from '../../src/config';
import { assertApiCallRecord, trailRecords } from '../audit/helpers';
import { keyhold } from '../helpers/keyhold-cli';
import { removeDir, startServer, stopAndRemove, tempDir, type TestServer } from '../helpers/server';

/** Writes a self-signed P-256 certificate for 127.0.0.1 and its key into `dir`. */
function selfSigned(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
    '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
  ], { stdio: 'ignore' });
  return { cert, key };
}

/** A key policy: the account may do anything, but not Encrypt or Decrypt over plain HTTP. */
function denyInsecurePolicy(accountId: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Sid: 'Root', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: 'kms:*', Resource: '*' },
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: ['kms:Encrypt', 'kms:Decrypt'],
        Resource: '*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ],
  });
}

async function encryptDecrypt(client: KMSClient, keyId: string): Promise<void> {
  const plaintext = Buffer.from('over the wire');
  const enc = await client.send(new EncryptCommand({ KeyId: keyId, Plaintext: plaintext }));
  const dec = await client.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }));
  assert.deepEqual(Buffer.from(dec.Plaintext ?? []), plaintext);
  assert.equal(dec.KeyId, enc.KeyId);
}

describe('TLS listener', () => {
  const certDir = tempDir('keyhold-tls-');
  let pem: { cert: string; key: string };
  let ca: Buffer;
  let tls: TestServer | undefined;
  let plain: TestServer | undefined;

  before(async () => {
    pem = selfSigned(certDir, 'server');
    ca = readFileSync(pem.cert);
    tls = await startServer({ args: ['--tls-cert', pem.cert, '--tls-key', pem.key], tlsCa: ca });
    plain = await startServer();
  });

  after(async () => {
    await stopAndRemove(tls, { exitCode: 0 });
    await stopAndRemove(plain, { exitCode: 0 });
    removeDir(certDir);
  });

  test('the ready line says https and the endpoint is https', () => {
    assert.ok(tls);
    const ready = tls.output().split('\n').find((l) => l.includes('keyhold ready'));
    assert.ok(ready !== undefined);
    assert.equal((JSON.parse(ready) as { scheme: string }).scheme, 'https');
    assert.match(tls.endpoint, /^https:\/\/127\.0\.0\.1:\d+$/);
  });

  test('CreateKey, Encrypt and Decrypt work over TLS with the AWS SDK', async () => {
    assert.ok(tls);
    const client = tls.client();
    const created = await client.send(new CreateKeyCommand({ Description: 'tls' }));
    assert.ok(created.KeyMetadata?.KeyId);
    await encryptDecrypt(client, created.KeyMetadata.KeyId);
  });

  test('/healthz is served on the TLS listener', async () => {
    assert.ok(tls);
    const status = await new Promise<number | undefined>((resolve, reject) => {
      httpsGet(`${tls!.endpoint}/healthz`, { ca }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      }).on('error', reject);
    });
    assert.equal(status, 200);
  });

  test('a plain-HTTP request to the TLS port gets no HTTP answer', async () => {
    assert.ok(tls);
    const outcome = await new Promise<string>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port: tls!.port, path: '/healthz', method: 'GET', timeout: 10_000 }, (res) => {
        res.resume();
        resolve(`answered ${res.statusCode}`);
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e) => resolve(`error ${e.message}`));
      req.end();
    });
    assert.match(outcome, /^error /);
    assert.doesNotMatch(outcome, /timeout/);
  });

  test('a key policy denying aws:SecureTransport false allows TLS calls and refuses plain-HTTP ones with AccessDeniedException', async () => {
    assert.ok(tls && plain);
    const secure = tls.client();
    const secureKey = await secure.send(new CreateKeyCommand({ Policy: denyInsecurePolicy(tls.accountId) }));
    await encryptDecrypt(secure, secureKey.KeyMetadata!.KeyId!);

    const insecure = plain.client();
    const insecureKey = await insecure.send(new CreateKeyCommand({ Policy: denyInsecurePolicy(plain.accountId) }));
    await assert.rejects(
      insecure.send(new EncryptCommand({ KeyId: insecureKey.KeyMetadata!.KeyId!, Plaintext: Buffer.from('x') })),
      (e: Error) => {
        assert.equal(e.name, 'AccessDeniedException');
        assert.match(e.message, /kms:Encrypt/);
        assert.match(e.message, /explicit deny in a resource-based policy/);
        return true;
      },
    );
  });

  test('audit records of TLS calls carry tlsDetails; those of plain-HTTP calls have none', async () => {
    assert.ok(tls && plain);
    const client = tls.client();
    const key = await client.send(new CreateKeyCommand({}));
    await encryptDecrypt(client, key.KeyMetadata!.KeyId!);
    const records = trailRecords(tls.dataDir).filter((r) => ['CreateKey', 'Encrypt', 'Decrypt'].includes(r.eventName as string));
    assert.ok(records.length >= 3, `expected TLS records, got ${records.length}`);
    for (const r of records) {
      assertApiCallRecord(r);
      const details = r.tlsDetails as { tlsVersion: string; cipherSuite: string; clientProvidedHostHeader: string } | undefined;
      assert.ok(details !== undefined, `${r.eventName as string} has no tlsDetails`);
      assert.deepEqual(Object.keys(details).sort(), ['cipherSuite', 'clientProvidedHostHeader', 'tlsVersion']);
      assert.match(details.tlsVersion, /^TLSv1\.[23]$/);
      assert.match(details.cipherSuite, /^[A-Z0-9_-]{8,}$/);
      assert.equal(details.clientProvidedHostHeader, `127.0.0.1:${tls.port}`);
    }

    await plain.client().send(new CreateKeyCommand({}));
    const plainRecords = trailRecords(plain.dataDir).filter((r) => r.eventName === 'CreateKey');
    assert.ok(plainRecords.length >= 1);
    for (const r of plainRecords) assert.equal('tlsDetails' in r, false);
  });
});

describe('TLS configuration errors stop the start', () => {
  const dir = tempDir('keyhold-tls-config-');
  let pem: { cert: string; key: string };
  let other: { cert: string; key: string };

  before(() => {
    pem = selfSigned(dir, 'server');
    other = selfSigned(dir, 'other');
  });

  after(() => removeDir(dir));

  test('--tls-cert without --tls-key exits 1 naming both flags', async () => {
    const run = await keyhold(['serve', '--port', '0', '--data-dir', join(dir, 'data1'), '--workers', '1', '--tls-cert', pem.cert]);
    assert.equal(run.code, 1);
    assert.equal(run.stderr.trim(), 'keyhold: --tls-cert (KEYHOLD_TLS_CERT) and --tls-key (KEYHOLD_TLS_KEY) must be given together');
  });

  test('KEYHOLD_TLS_CERT and KEYHOLD_TLS_KEY configure TLS from the environment, flags winning, both or neither', () => {
    const env = { KEYHOLD_TLS_CERT: '/env/c.pem', KEYHOLD_TLS_KEY: '/env/k.pem' };
    assert.deepEqual(loadConfig({}, env).tls, { certFile: '/env/c.pem', keyFile: '/env/k.pem' });
    assert.deepEqual(loadConfig({ 'tls-cert': '/flag/c.pem' }, env).tls, { certFile: '/flag/c.pem', keyFile: '/env/k.pem' });
    assert.equal(loadConfig({}, {}).tls, undefined);
    assert.throws(() => loadConfig({}, { KEYHOLD_TLS_KEY: '/env/k.pem' }), {
      message: '--tls-cert (KEYHOLD_TLS_CERT) and --tls-key (KEYHOLD_TLS_KEY) must be given together',
    });
  });

  test('an unreadable certificate file exits 1 naming the flag and the file', async () => {
    const missing = join(dir, 'missing.crt');
    const run = await keyhold(['serve', '--port', '0', '--data-dir', join(dir, 'data2'), '--workers', '1', '--tls-cert', missing, '--tls-key', pem.key]);
    assert.equal(run.code, 1);
    assert.equal(run.stderr.trim(), `keyhold: --tls-cert ${missing} cannot be read (ENOENT)`);
  });

  test('a key that does not match the certificate exits 1', async () => {
    const run = await keyhold(['serve', '--port', '0', '--data-dir', join(dir, 'data3'), '--workers', '1', '--tls-cert', pem.cert, '--tls-key', other.key]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^keyhold: --tls-cert and --tls-key cannot be used: .*key values mismatch/);
    assert.doesNotMatch(run.stderr, /PRIVATE KEY/);
  });
});
