/**
 * Helpers for the audit-trail tests: read every record of a data directory's trail, check a
 * record against the CloudTrail record format of kms-reference.md §10, run `keyhold audit`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { AuditEventRow } from '../../src/store/audit-log';
import { SqliteAuditStore } from '../../src/store/sqlite/audit-log-sqlite';
import { KEYHOLD_BIN } from '../helpers/server';

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
const OPTIONAL = ['errorCode', 'errorMessage', 'additionalEventData', 'tlsDetails', 'serviceEventDetails'];

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
    assert.equal(e.recipientAccountId, id.accountId, what);
  }
  assert.equal('errorCode' in e, 'errorMessage' in e, `${what}: errorCode and errorMessage go together`);
  if ('errorCode' in e) {
    assert.match(e.errorCode, /^[A-Za-z]+$/, what);
    assert.equal(typeof e.errorMessage, 'string', what);
    assert.equal(e.responseElements, null, `${what}: a failed call has no responseElements`);
  }
  if (e.readOnly) assert.equal(e.responseElements, null, `${what}: read-only and cryptographic calls record responseElements null`);
}
