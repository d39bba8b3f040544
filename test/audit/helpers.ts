/**
 * Helpers for the audit-trail tests: read every record of a data directory's trail, check a
 * record against the CloudTrail record format of kms-reference.md §10, run `keyhold audit`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { apiCallRecord } from '../../src/audit/event';
import { newEventId } from '../../src/audit/event-id';
import type { AuditAppend, AuditEventRow } from '../../src/store/audit-log';
import { SqliteAuditStore } from '../../src/store/sqlite/audit-log-sqlite';
import { EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { KEYHOLD_BIN } from '../helpers/server';
import { send, sign, type Creds } from '../identity/wire';

const LOOKUP_EVENTS_TARGET = 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents';

/** A LookupEvents answer: HTTP status, request id and the parsed JSON body. */
export interface LookupAnswer {
  readonly status: number;
  readonly requestId: string;
  readonly json: any;
}

/** Calls CloudTrail LookupEvents as `creds` (awsJson1_1, SigV4 for `cloudtrail`, as the SDKs sign it). */
export async function lookupEvents(port: number, creds: Creds, input: Record<string, unknown> = {}): Promise<LookupAnswer> {
  const body = JSON.stringify(input);
  const headers = await sign(port, 'cloudtrail', 'us-east-1', { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': LOOKUP_EVENTS_TARGET }, body, creds);
  const a = await send(port, headers, body);
  return { status: a.status, requestId: String(a.headers['x-amzn-requestid']), json: a.body === '' ? {} : JSON.parse(a.body) };
}

/** Every record LookupEvents returns to `creds` for `attribute`, all pages, parsed. */
export async function lookupAll(port: number, creds: Creds, attribute?: { AttributeKey: string; AttributeValue: string }): Promise<Record<string, any>[]> {
  const out: Record<string, any>[] = [];
  let token: string | undefined;
  do {
    const r = await lookupEvents(port, creds, {
      ...(attribute === undefined ? {} : { LookupAttributes: [attribute] }),
      ...(token === undefined ? {} : { NextToken: token }),
    });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    for (const e of r.json.Events) out.push(JSON.parse(e.CloudTrailEvent) as Record<string, any>);
    token = r.json.NextToken;
  } while (token !== undefined);
  return out;
}

/** Every stored record of the trail in `dataDir`, stream by stream, in chain order. */
export function trailRows(dataDir: string): AuditEventRow[] {
  const store = new SqliteAuditStore({ dir: join(dataDir, 'audit'), readonly: true });
  try {
    const rows: AuditEventRow[] = [];
    for (const n of store.streamIds()) for (const r of store.stream(n).events(1)) rows.push(r);
    return rows;
  } finally {
    store.close();
  }
}

/** Every record, parsed. */
export function trailRecords(dataDir: string): Record<string, any>[] {
  return trailRows(dataDir).map((r) => JSON.parse(r.body) as Record<string, any>);
}

/** The result of running the keyhold command. */
export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `bin/keyhold <args>`. */
export function keyhold(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [KEYHOLD_BIN, ...args], { env, timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(err);
        return;
      }
      resolve({ code: err ? (err.code as unknown as number) : 0, stdout, stderr });
    });
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const ACCOUNT = /^\d{12}$/;
const KEY_ARN = /^arn:aws:kms:[a-z0-9-]+:\d{12}:key\/(mrk-[0-9a-f]{32}|[0-9a-f-]{36})$/;
const REQUIRED = [
  'eventVersion', 'userIdentity', 'eventTime', 'eventSource', 'eventName', 'awsRegion', 'sourceIPAddress', 'userAgent',
  'requestParameters', 'responseElements', 'requestID', 'eventID', 'readOnly', 'resources', 'eventType', 'managementEvent',
  'recipientAccountId', 'eventCategory',
];
const OPTIONAL = ['errorCode', 'errorMessage', 'additionalEventData', 'tlsDetails', 'serviceEventDetails', 'sharedEventID'];

/** Asserts that `e` is a well-formed CloudTrail `AwsApiCall` record (kms-reference.md §10). */
export function assertApiCallRecord(e: Record<string, any>, what = String(e.eventName)): void {
  const keys = Object.keys(e);
  for (const k of REQUIRED) assert.ok(keys.includes(k), `${what}: missing ${k}`);
  for (const k of keys) assert.ok(REQUIRED.includes(k) || OPTIONAL.includes(k), `${what}: unexpected field ${k}`);
  assert.equal(e.eventVersion, '1.11', what);
  assert.match(e.eventTime, TIME, what);
  assert.match(e.eventSource, /^[a-z0-9-]+\.amazonaws\.com$/, what);
  assert.match(e.eventName, /^[A-Z][A-Za-z0-9]+$/, what);
  assert.match(e.awsRegion, /^([a-z]+-){2,3}\d+$/, what);
  assert.equal(typeof e.sourceIPAddress, 'string', what);
  assert.equal(typeof e.userAgent, 'string', what);
  assert.match(e.requestID, UUID, what);
  assert.match(e.eventID, UUID, what);
  assert.equal(typeof e.readOnly, 'boolean', what);
  assert.equal(e.eventType, 'AwsApiCall', what);
  assert.equal(e.managementEvent, true, what);
  assert.equal(e.eventCategory, 'Management', what);
  assert.ok(e.recipientAccountId === null || ACCOUNT.test(e.recipientAccountId), `${what}: recipientAccountId`);
  assert.ok(e.requestParameters === null || (typeof e.requestParameters === 'object' && !Array.isArray(e.requestParameters)), `${what}: requestParameters`);
  assert.ok(e.responseElements === null || (typeof e.responseElements === 'object' && !Array.isArray(e.responseElements)), `${what}: responseElements`);
  // requestParameters and responseElements members are lowerCamelCase (kms-reference.md §10).
  for (const part of [e.requestParameters, e.responseElements]) {
    if (part !== null) for (const k of Object.keys(part)) assert.match(k, /^[a-z]/, `${what}: member ${k} is not lowerCamelCase`);
  }
  assert.ok(Array.isArray(e.resources), `${what}: resources`);
  for (const r of e.resources) {
    assert.deepEqual(Object.keys(r).sort(), ['ARN', 'accountId', 'type'], `${what}: resource fields`);
    assert.equal(r.type, 'AWS::KMS::Key', what);
    assert.match(r.ARN, KEY_ARN, what);
    assert.equal(r.accountId, r.ARN.split(':')[4], what);
  }
  const id = e.userIdentity;
  assert.equal(typeof id, 'object', what);
  assert.ok(['Root', 'IAMUser', 'AssumedRole', 'FederatedUser', 'Unknown'].includes(id.type), `${what}: userIdentity.type ${id.type}`);
  if (id.type !== 'Unknown') {
    for (const k of ['principalId', 'arn', 'accountId', 'accessKeyId']) assert.equal(typeof id[k], 'string', `${what}: userIdentity.${k}`);
    // A call recorded in several accounts (another account's key): the key owner's copy goes to
    // the owner, and every copy carries the sharedEventID.
    if (e.recipientAccountId !== id.accountId) {
      assert.match(e.sharedEventID, UUID, `${what}: a copy for another account needs a sharedEventID`);
      assert.ok(e.resources.some((r: { accountId: string }) => r.accountId === e.recipientAccountId), `${what}: recipient owns no resource`);
    }
  }
  if ('sharedEventID' in e) assert.match(e.sharedEventID, UUID, what);
  assert.equal('errorCode' in e, 'errorMessage' in e, `${what}: errorCode and errorMessage go together`);
  if ('errorCode' in e) {
    assert.match(e.errorCode, /^[A-Za-z]+$/, what);
    assert.equal(typeof e.errorMessage, 'string', what);
    assert.equal(e.responseElements, null, `${what}: a failed call has no responseElements`);
  }
  if (e.readOnly) assert.equal(e.responseElements, null, `${what}: read-only and cryptographic calls record responseElements null`);
}

/** A KMS API call of account `account`'s root as the recorder would store it (writable only for CreateKey). */
export function apiCallFixture(account: string, time: number, name: string, extra: { arn?: string; requestId?: string } = {}): AuditAppend {
  return apiCallRecord({
    time,
    eventId: newEventId(time),
    requestId: extra.requestId ?? randomUUID(),
    userIdentity: { type: 'Root', principalId: account, arn: `arn:aws:iam::${account}:root`, accountId: account, accessKeyId: 'AKIATESTTESTTEST0001' },
    username: 'root',
    accessKeyId: 'AKIATESTTESTTEST0001',
    eventSource: 'kms.amazonaws.com',
    eventName: name,
    region: 'us-east-1',
    sourceIp: '127.0.0.1',
    userAgent: 'test',
    requestParameters: null,
    responseElements: null,
    readOnly: name !== 'CreateKey',
    resources: extra.arn === undefined ? [] : [{ accountId: account, type: 'AWS::KMS::Key', arn: extra.arn }],
    recipientAccountId: account,
  });
}

/**
 * Asserts that the server answers an Encrypt with `key` again within about ten seconds of the
 * trail becoming writable (its probe runs every second), retrying every 200 ms.
 */
export async function assertRecovers(kms: KMSClient, key: string): Promise<void> {
  let ok = false;
  for (let i = 0; i < 50 && !ok; i++) {
    try {
      await kms.send(new EncryptCommand({ KeyId: key, Plaintext: Buffer.from('after') }));
      ok = true;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  assert.ok(ok, 'the server recovered when the trail became writable');
}
