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

  /** Operator records of failed authentication, summed (a run may straddle a minute boundary). */
  const authFailures = (): { requests: number; errorCodes: Record<string, number>; eventNames: Record<string, number>; keyIds: Set<string>; records: Record<string, any>[] } => {
    const mine = records.filter((r) => r.eventName === 'KeyholdUnauthenticatedRequests');
    const sum = { requests: 0, errorCodes: {} as Record<string, number>, eventNames: {} as Record<string, number>, keyIds: new Set<string>(), records: mine };
    for (const r of mine) {
      const d = r.additionalEventData;
      sum.requests += d.requests;
      for (const [k, v] of Object.entries(d.errorCodes as Record<string, number>)) sum.errorCodes[k] = (sum.errorCodes[k] ?? 0) + v;
      for (const [k, v] of Object.entries(d.eventNames as Record<string, number>)) sum.eventNames[k] = (sum.eventNames[k] ?? 0) + v;
      for (const id of d.claimedAccessKeyIds as string[]) sum.keyIds.add(id);
    }
    return sum;
  };

  test('requests that fail authentication have no record of their own in any tenant trail (issue 11)', () => {
    assert.equal(sent.get('bad-signature')!.status, 403);
    for (const label of ['bad-signature', 'sts-bad-signature', 'unsigned']) {
      const s = sent.get(label)!;
      assert.deepEqual(records.filter((r) => r.requestID === s.requestId), [], `${label} has no record of its own`);
    }
    assert.equal(records.filter((r) => r.recipientAccountId === server.accountId && r.userIdentity?.type === 'Unknown').length, 0,
      'nothing unauthenticated reached the account the claimed key belongs to');
  });

  test('they are counted in the operator trail per source and minute, with their Actions and error codes', () => {
    const f = authFailures();
    assert.ok(f.records.length >= 1 && f.records.length <= 2, `${f.records.length} summary records`);
    for (const r of f.records) {
      assert.equal(r.eventSource, 'keyhold.internal');
      assert.equal(r.recipientAccountId, null, 'no tenant account');
      assert.equal(r.sourceIPAddress, '127.0.0.1');
      assert.equal(r.requestParameters, null, 'an unauthenticated body is not recorded');
    }
    assert.equal(f.requests, 3);
    assert.deepEqual(f.errorCodes, { InvalidSignatureException: 2, MissingAuthenticationTokenException: 1 });
    assert.deepEqual(f.eventNames, { CreateUser: 1, GetCallerIdentity: 1, GetUser: 1 });
    assert.deepEqual([...f.keyIds], [server.credentials.accessKeyId]);
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
