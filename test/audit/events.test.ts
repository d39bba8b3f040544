/**
 * One CloudTrail record per API request (issue 4, docs/architecture.md §1 promise 2): every KMS operation in
 * the registry, driven through @aws-sdk/client-kms against a real server, yields exactly one
 * well-formed record — allowed, denied (another account's key), failed (validation), and
 * requests that never authenticate (wrong secret, unknown access key) or name no operation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as KMS from '@aws-sdk/client-kms';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { request as httpRequest } from 'node:http';
import { KMS_OPERATIONS } from '../../src/operations/registry';
import { removeDir, startServer, type TestServer } from '../helpers/server';
import { assertApiCallRecord, keyhold, trailRecords } from './helpers';

/** CloudTrail readOnly per operation (kms-reference.md §3.1). */
const READ_ONLY = new Set([
  'Decapsulate', 'Decrypt', 'DeriveSharedSecret', 'DescribeCustomKeyStores', 'DescribeKey', 'Encapsulate', 'Encrypt',
  'GenerateDataKey', 'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext', 'GenerateDataKeyWithoutPlaintext', 'GenerateMac',
  'GenerateRandom', 'GetKeyLastUsage', 'GetKeyPolicy', 'GetKeyRotationStatus', 'GetParametersForImport', 'GetPublicKey', 'ListAliases',
  'ListGrants', 'ListKeyPolicies', 'ListKeyRotations', 'ListKeys', 'ListResourceTags', 'ListRetirableGrants', 'ReEncrypt', 'Sign',
  'Verify', 'VerifyMac',
]);

const OTHER = { accessKeyId: 'AKIAAUDITOTHERACCT01', secretAccessKey: 'other-account-secret-0001', accountId: '222233334444' };

interface Sent {
  readonly op: string;
  readonly requestId: string;
  /** The error name, when the call failed. */
  readonly error: string | undefined;
}

describe('one CloudTrail record per request', () => {
  let server: TestServer;
  let kms: KMS.KMSClient;
  const sent: Sent[] = [];
  let records: Record<string, any>[] = [];

  /** Sends one SDK command and remembers its request id and outcome. */
  async function call<T>(op: string, input: Record<string, unknown>, client: KMS.KMSClient = kms): Promise<T | undefined> {
    const Command = (KMS as unknown as Record<string, new (i: unknown) => any>)[`${op}Command`];
    assert.ok(Command !== undefined, `@aws-sdk/client-kms has no ${op}Command`);
    try {
      const out = await client.send(new Command(input));
      assert.ok(out.$metadata.requestId, `${op}: no request id`);
      sent.push({ op, requestId: out.$metadata.requestId as string, error: undefined });
      return out as T;
    } catch (e) {
      const err = e as { name: string; $metadata?: { requestId?: string } };
      assert.ok(err.$metadata?.requestId, `${op} failed without reaching the server: ${err.name} ${(e as Error).message}`);
      sent.push({ op, requestId: err.$metadata!.requestId!, error: err.name });
      return undefined;
    }
  }

  before(async () => {
    server = await startServer({ args: ['--regions', 'us-east-1,eu-west-1'] });
    kms = server.client();
    const made = await keyhold([
      'credentials', 'create', '--data-dir', server.dataDir, '--access-key-id', OTHER.accessKeyId,
      '--secret-access-key', OTHER.secretAccessKey, '--account-id', OTHER.accountId,
    ]);
    assert.equal(made.code, 0, made.stderr);

    const acct = server.accountId;
    const k = (await call<KMS.CreateKeyCommandOutput>('CreateKey', { Description: 'audit test' }))!.KeyMetadata!.KeyId!;
    const k2 = (await call<KMS.CreateKeyCommandOutput>('CreateKey', { Description: 'second' }))!.KeyMetadata!.KeyId!;
    const kArn = `arn:aws:kms:us-east-1:${acct}:key/${k}`;
    const ctx = { purpose: 'audit-test' };
    await call('DescribeKey', { KeyId: k });
    await call('ListKeys', {});
    const enc = await call<KMS.EncryptCommandOutput>('Encrypt', { KeyId: k, Plaintext: Buffer.from('hello'), EncryptionContext: ctx });
    await call('Decrypt', { CiphertextBlob: enc!.CiphertextBlob, EncryptionContext: ctx });
    await call('ReEncrypt', { CiphertextBlob: enc!.CiphertextBlob, SourceEncryptionContext: ctx, DestinationKeyId: k2 });
    await call('GenerateDataKey', { KeyId: k, KeySpec: 'AES_256' });
    await call('GenerateDataKeyWithoutPlaintext', { KeyId: k, KeySpec: 'AES_256' });
    await call('GenerateRandom', { NumberOfBytes: 32 });
    await call('CreateAlias', { AliasName: 'alias/audit-test', TargetKeyId: k });
    await call('UpdateAlias', { AliasName: 'alias/audit-test', TargetKeyId: k2 });
    await call('ListAliases', {});
    await call('DescribeKey', { KeyId: 'alias/audit-test' });
    await call('DeleteAlias', { AliasName: 'alias/audit-test' });
    await call('TagResource', { KeyId: k, Tags: [{ TagKey: 'team', TagValue: 'audit' }] });
    await call('ListResourceTags', { KeyId: k });
    await call('UntagResource', { KeyId: k, TagKeys: ['team'] });
    const pol = await call<KMS.GetKeyPolicyCommandOutput>('GetKeyPolicy', { KeyId: k, PolicyName: 'default' });
    await call('ListKeyPolicies', { KeyId: k });
    await call('PutKeyPolicy', { KeyId: k, PolicyName: 'default', Policy: pol?.Policy ?? '{}' });
    await call('UpdateKeyDescription', { KeyId: k, Description: 'updated' });
    await call('EnableKeyRotation', { KeyId: k });
    await call('GetKeyRotationStatus', { KeyId: k });
    await call('RotateKeyOnDemand', { KeyId: k });
    await call('ListKeyRotations', { KeyId: k });
    await call('DisableKeyRotation', { KeyId: k });
    const grant = await call<KMS.CreateGrantCommandOutput>('CreateGrant', {
      KeyId: k, GranteePrincipal: `arn:aws:iam::${acct}:root`, RetiringPrincipal: `arn:aws:iam::${acct}:root`, Operations: ['Encrypt'],
    });
    await call('ListGrants', { KeyId: k });
    await call('ListRetirableGrants', { RetiringPrincipal: `arn:aws:iam::${acct}:root` });
    await call('RetireGrant', { KeyId: kArn, GrantId: grant?.GrantId ?? 'none' });
    await call('RevokeGrant', { KeyId: k, GrantId: grant?.GrantId ?? 'none' });
    await call('DisableKey', { KeyId: k2 });
    await call('EnableKey', { KeyId: k2 });
    const ext = (await call<KMS.CreateKeyCommandOutput>('CreateKey', { Origin: 'EXTERNAL' }))?.KeyMetadata?.KeyId ?? k;
    const params = await call<KMS.GetParametersForImportCommandOutput>('GetParametersForImport', {
      KeyId: ext, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048',
    });
    await call('ImportKeyMaterial', {
      KeyId: ext, ImportToken: params?.ImportToken ?? Buffer.alloc(32), EncryptedKeyMaterial: Buffer.alloc(256, 1), ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
    });
    await call('DeleteImportedKeyMaterial', { KeyId: ext });
    const mrk = (await call<KMS.CreateKeyCommandOutput>('CreateKey', { MultiRegion: true }))?.KeyMetadata?.KeyId ?? k;
    await call('ReplicateKey', { KeyId: mrk, ReplicaRegion: 'eu-west-1' });
    await call('UpdatePrimaryRegion', { KeyId: mrk, PrimaryRegion: 'eu-west-1' });
    await call('ScheduleKeyDeletion', { KeyId: k2, PendingWindowInDays: 7 });
    await call('CancelKeyDeletion', { KeyId: k2 });
    // Anything registered later and not driven above still gets one (possibly failing) call.
    for (const op of Object.keys(KMS_OPERATIONS)) if (!sent.some((s) => s.op === op)) await call(op, { KeyId: k });

    // Failed: validation (the plaintext is over 4096 bytes).
    await call('Encrypt', { KeyId: k, Plaintext: Buffer.alloc(4097) });
    // Denied: another account uses this account's key by ARN.
    const other = server.client({ accessKeyId: OTHER.accessKeyId, secretAccessKey: OTHER.secretAccessKey });
    await call('Encrypt', { KeyId: kArn, Plaintext: Buffer.from('x') }, other);
    other.destroy();
    // Never authenticated: a wrong secret, an unknown access key.
    const wrong = server.client({ secretAccessKey: 'not-the-secret' });
    await call('DescribeKey', { KeyId: k }, wrong);
    wrong.destroy();
    const unknown = server.client({ accessKeyId: 'AKIANOSUCHKEY0000000', secretAccessKey: 'whatever' });
    await call('ListKeys', {}, unknown);
    unknown.destroy();

    assert.equal(await server.stop(), 0, server.output());
    records = trailRecords(server.dataDir);
  });

  after(() => {
    kms?.destroy();
    if (server) removeDir(server.dataDir);
  });

  test('every registered KMS operation was called and recorded', () => {
    const recorded = new Set(records.map((r) => r.eventName));
    for (const op of Object.keys(KMS_OPERATIONS)) assert.ok(recorded.has(op), `no record of ${op}`);
  });

  test('every authenticated request has exactly one record, with its outcome', () => {
    for (const s of sent) {
      const mine = records.filter((r) => r.requestID === s.requestId);
      if (s.error === 'InvalidSignatureException' || s.error === 'UnrecognizedClientException') {
        assert.equal(mine.length, 0, `${s.op} never authenticated: no record of its own (issue 11)`);
        continue;
      }
      assert.equal(mine.length, 1, `${s.op} (${s.requestId}): ${mine.length} records`);
      const r = mine[0]!;
      assert.equal(r.eventName, s.op, s.requestId);
      assert.equal(r.errorCode, s.error, `${s.op}: errorCode`);
    }
    const calls = records.filter((r) => r.eventType === 'AwsApiCall');
    assert.equal(calls.length, new Set(calls.map((r) => r.requestID)).size);
  });

  test('every record is a well-formed CloudTrail record with the readOnly of kms-reference §3.1', () => {
    for (const r of records.filter((x) => x.eventType === 'AwsApiCall')) {
      assertApiCallRecord(r, `${r.eventName} ${r.requestID}`);
      if (r.eventSource === 'kms.amazonaws.com') assert.equal(r.readOnly, READ_ONLY.has(r.eventName), `${r.eventName}: readOnly`);
    }
  });

  test('records name the resolved key ARN, even for an alias', () => {
    const byAlias = records.find((r) => r.eventName === 'DescribeKey' && r.requestParameters?.keyId === 'alias/audit-test');
    assert.ok(byAlias, 'DescribeKey by alias');
    assert.equal(byAlias.resources.length, 1);
    assert.match(byAlias.resources[0].ARN, /:key\//);
    const encrypt = records.find((r) => r.eventName === 'Encrypt' && r.errorCode === undefined)!;
    assert.deepEqual(encrypt.requestParameters.encryptionContext, { purpose: 'audit-test' });
    assert.equal(encrypt.responseElements, null);
    assert.equal(encrypt.resources[0].ARN, `arn:aws:kms:us-east-1:${server.accountId}:key/${encrypt.requestParameters.keyId}`);
  });

  test('management responses are recorded in lowerCamelCase', () => {
    const create = records.find((r) => r.eventName === 'CreateKey' && r.errorCode === undefined)!;
    assert.equal(create.readOnly, false);
    assert.equal(create.responseElements.keyMetadata.aWSAccountId, server.accountId);
    assert.match(create.responseElements.keyMetadata.creationDate, /^[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d\d:\d\d [AP]M$/);
    assert.equal(create.resources[0].ARN, create.responseElements.keyMetadata.arn);
    assert.deepEqual(create.requestParameters, { description: 'audit test' });
  });

  test('a denied call is recorded in the caller\'s account with AccessDeniedException', () => {
    const denied = records.find((r) => r.eventName === 'Encrypt' && r.userIdentity.accessKeyId === OTHER.accessKeyId)!;
    assert.equal(denied.errorCode, 'AccessDeniedException');
    assert.equal(denied.recipientAccountId, OTHER.accountId);
    assert.match(denied.resources[0].ARN, new RegExp(`:${server.accountId}:key/`));
  });

  test('unauthenticated requests stay out of tenant trails and are counted in the operator trail', () => {
    assert.equal(records.filter((r) => r.userIdentity?.type === 'Unknown' && r.recipientAccountId !== null).length, 0);
    const summaries = records.filter((r) => r.eventName === 'KeyholdUnauthenticatedRequests');
    assert.ok(summaries.length >= 1, 'an operator summary record');
    const codes: Record<string, number> = {};
    const ids = new Set<string>();
    for (const r of summaries) {
      assert.equal(r.recipientAccountId, null);
      assert.equal(r.eventSource, 'keyhold.internal');
      for (const [k, v] of Object.entries(r.additionalEventData.errorCodes as Record<string, number>)) codes[k] = (codes[k] ?? 0) + v;
      for (const id of r.additionalEventData.claimedAccessKeyIds as string[]) ids.add(id);
    }
    // The SDK retries neither error, so each failed once.
    assert.deepEqual(codes, { InvalidSignatureException: 1, UnrecognizedClientException: 1 });
    assert.deepEqual([...ids].sort(), ['AKIANOSUCHKEY0000000', server.credentials.accessKeyId].sort());
  });
});

describe('requests that name no operation', () => {
  test('an unknown X-Amz-Target and a malformed body are recorded once each', async () => {
    const server = await startServer();
    try {
      const signer = new SignatureV4({ credentials: server.credentials, region: 'us-east-1', service: 'kms', sha256: Sha256 });
      const send = async (target: string, body: string): Promise<{ status: number; requestId: string }> => {
        const req = await signer.sign(
          new HttpRequest({
            method: 'POST', protocol: 'http:', hostname: '127.0.0.1', port: server.port, path: '/',
            headers: { host: `127.0.0.1:${server.port}`, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target },
            body,
          }),
        );
        return new Promise((resolve, reject) => {
          const r = httpRequest({ host: '127.0.0.1', port: server.port, method: 'POST', path: '/', headers: req.headers as Record<string, string> }, (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, requestId: String(res.headers['x-amzn-requestid']) }));
          });
          r.on('error', reject);
          r.end(body);
        });
      };
      const unknownOp = await send('TrentService.NoSuchOperation', '{}');
      const badJson = await send('TrentService.ListKeys', '{not json');
      assert.equal(unknownOp.status, 400);
      assert.equal(badJson.status, 400);
      assert.equal(await server.stop(), 0);
      const records = trailRecords(server.dataDir);
      const a = records.filter((r) => r.requestID === unknownOp.requestId);
      const b = records.filter((r) => r.requestID === badJson.requestId);
      assert.equal(a.length, 1);
      assert.equal(b.length, 1);
      assert.equal(a[0]!.errorCode, 'UnknownOperationException');
      assert.equal(a[0]!.eventName, 'NoSuchOperation');
      assert.equal(a[0]!.userIdentity.type, 'Root', 'a correctly signed request is recorded with the identity it proved');
      assert.equal(a[0]!.userIdentity.accessKeyId, server.credentials.accessKeyId);
      assert.equal(b[0]!.errorCode, 'SerializationException');
      assert.equal(b[0]!.eventName, 'ListKeys');
      for (const r of [...a, ...b]) assertApiCallRecord(r);
    } finally {
      await server.stop();
      removeDir(server.dataDir);
    }
  });
});
