/**
 * AWS Query requests (IAM, STS: form-encoded, no X-Amz-Target) name their operation in the
 * body's `Action`. A request that fails before it is routed — a wrong signature, no signature,
 * an action the service does not have — is recorded under that name, not "Unknown"; a value
 * that is not an operation name is never copied into the record.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { form, send, sign, type Creds } from '../identity/wire';
import { removeDir, startServer, type TestServer } from '../helpers/server';
import { assertApiCallRecord, trailRecords } from './helpers';

const FORM = 'application/x-www-form-urlencoded; charset=utf-8';

describe('Query requests that fail before routing are recorded under their Action', () => {
  let server: TestServer;
  let records: Record<string, any>[] = [];
  const sent = new Map<string, { requestId: string; status: number }>();

  async function signed(label: string, service: 'iam' | 'sts', body: string, creds: Creds): Promise<void> {
    const headers = await sign(server.port, service, 'us-east-1', { 'content-type': FORM }, body, creds);
    const a = await send(server.port, headers, body);
    sent.set(label, { requestId: String(a.headers['x-amzn-requestid']), status: a.status });
  }

  async function unsigned(label: string, body: string): Promise<void> {
    const a = await send(server.port, { 'content-type': FORM, 'content-length': String(Buffer.byteLength(body)) }, body);
    sent.set(label, { requestId: String(a.headers['x-amzn-requestid']), status: a.status });
  }

  const recordOf = (label: string): Record<string, any> => {
    const s = sent.get(label);
    assert.ok(s, `${label} was not sent`);
    const mine = records.filter((r) => r.requestID === s.requestId);
    assert.equal(mine.length, 1, `${label}: ${mine.length} records`);
    return mine[0]!;
  };

  before(async () => {
    server = await startServer();
    const wrong = { accessKeyId: server.credentials.accessKeyId, secretAccessKey: 'not-the-secret' };
    await signed('bad-signature', 'iam', form('iam', 'CreateUser', { UserName: 'mallory' }), wrong);
    await signed('sts-bad-signature', 'sts', form('sts', 'GetCallerIdentity', {}), wrong);
    await signed('unknown-action', 'iam', form('iam', 'FrobnicateUser', {}), server.credentials);
    await signed('malformed-action', 'iam', form('iam', 'create-user<script>', {}), server.credentials);
    await unsigned('unsigned', form('iam', 'GetUser', {}));
    await signed('no-action', 'iam', 'Version=2010-05-08', server.credentials);
    await signed('allowed', 'iam', form('iam', 'ListUsers', {}), server.credentials);
    assert.equal(await server.stop(), 0, server.output());
    records = trailRecords(server.dataDir);
  });

  after(() => {
    if (server) removeDir(server.dataDir);
  });

  test('a wrong signature: the IAM Action, eventSource iam, the claimed identity, SignatureDoesNotMatch', () => {
    assert.equal(sent.get('bad-signature')!.status, 403);
    const r = recordOf('bad-signature');
    assert.equal(r.eventName, 'CreateUser');
    assert.equal(r.eventSource, 'iam.amazonaws.com');
    assert.equal(r.readOnly, false);
    assert.equal(r.errorCode, 'InvalidSignatureException');
    assert.deepEqual(r.userIdentity, { type: 'Unknown', accountId: server.accountId, accessKeyId: server.credentials.accessKeyId });
    assert.equal(r.requestParameters, null, 'an unauthenticated body is not recorded');
    assertApiCallRecord(r);
  });

  test('a wrong signature on STS: the STS Action under sts.amazonaws.com, read-only as the operation is', () => {
    const r = recordOf('sts-bad-signature');
    assert.equal(r.eventName, 'GetCallerIdentity');
    assert.equal(r.eventSource, 'sts.amazonaws.com');
    assert.equal(r.readOnly, true);
    assertApiCallRecord(r);
  });

  test('an Action the service does not have is recorded under that name with UnknownOperationException', () => {
    assert.equal(sent.get('unknown-action')!.status, 400);
    const r = recordOf('unknown-action');
    assert.equal(r.eventName, 'FrobnicateUser');
    assert.equal(r.eventSource, 'iam.amazonaws.com');
    assert.equal(r.errorCode, 'UnknownOperationException');
    assert.equal(r.userIdentity.accessKeyId, server.credentials.accessKeyId);
    assert.equal(r.userIdentity.type, 'Root', 'signed correctly: recorded with the identity it proved, not as Unknown');
    assertApiCallRecord(r);
  });

  test('an unsigned request is recorded under its Action', () => {
    const r = recordOf('unsigned');
    assert.equal(r.eventName, 'GetUser');
    assert.equal(r.errorCode, 'MissingAuthenticationTokenException');
    assertApiCallRecord(r);
  });

  test('an Action that is not an operation name, or none, is recorded as Unknown', () => {
    const bad = recordOf('malformed-action');
    assert.equal(bad.eventName, 'Unknown');
    assert.equal(bad.errorCode, 'UnknownOperationException');
    const none = recordOf('no-action');
    assert.equal(none.eventName, 'Unknown');
  });

  test('a routed request is still recorded under its operation', () => {
    assert.equal(sent.get('allowed')!.status, 200);
    const r = recordOf('allowed');
    assert.equal(r.eventName, 'ListUsers');
    assert.equal('errorCode' in r, false);
    assertApiCallRecord(r);
  });
});
