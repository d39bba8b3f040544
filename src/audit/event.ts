/**
 * CloudTrail records (kms-reference.md §10; CloudTrail User Guide, "CloudTrail record contents"):
 * `AwsApiCall` records for requests and `AwsServiceEvent` records for what the service does on
 * its own (deleting a key at the end of its waiting period, rotating, expiring imported
 * material). Fields appear in the order of AWS's own KMS examples. Each builder returns the
 * stored form: the record's JSON plus the columns LookupEvents filters on, all derived from it.
 */
import type { Caller } from '../identity/caller';
import type { AuditAppend, AuditResource } from '../store/audit-log';
import { isoSeconds } from './chain';

/** CloudTrail record schema version of current KMS records. */
export const EVENT_VERSION = '1.11';
/** The resource type of KMS keys. */
export const KMS_KEY_TYPE = 'AWS::KMS::Key';
/** What AWS writes as identity, source address and user agent of its own actions. */
export const AWS_INTERNAL = 'AWS Internal';

const ASSUMED_ROLE = /^arn:(aws[\w-]*):sts::(\d{12}):assumed-role\/(.+)\/([^/]+)$/;

/** `userIdentity` of an authenticated caller. */
export function userIdentity(caller: Caller): Record<string, unknown> {
  switch (caller.principalType) {
    case 'Root':
      return { type: 'Root', principalId: caller.principalId, arn: caller.principalArn, accountId: caller.accountId, accessKeyId: caller.accessKeyId };
    case 'IAMUser':
      return {
        type: 'IAMUser',
        principalId: caller.principalId,
        arn: caller.principalArn,
        accountId: caller.accountId,
        accessKeyId: caller.accessKeyId,
        userName: caller.userName,
      };
    case 'AssumedRole': {
      const m = ASSUMED_ROLE.exec(caller.principalArn);
      const roleName = m?.[3];
      const id: Record<string, unknown> = {
        type: 'AssumedRole',
        principalId: caller.principalId,
        arn: caller.principalArn,
        accountId: caller.accountId,
        accessKeyId: caller.accessKeyId,
      };
      if (m !== null && roleName !== undefined) {
        id.sessionContext = {
          sessionIssuer: {
            type: 'Role',
            principalId: caller.principalId.split(':')[0],
            arn: `arn:${m[1]}:iam::${m[2]}:role/${roleName}`,
            accountId: caller.accountId,
            userName: roleName.split('/').pop(),
          },
          attributes: { mfaAuthenticated: 'false' },
        };
      }
      return id;
    }
  }
}

/** The LookupEvents `Username` of a caller: "root", the IAM user name, or the role session name. */
export function lookupUsername(caller: Caller): string | null {
  switch (caller.principalType) {
    case 'Root':
      return 'root';
    case 'IAMUser':
      return caller.userName;
    case 'AssumedRole':
      return caller.principalArn.split('/').pop() ?? null;
  }
}

/** A resource entry of a record. */
export interface RecordResource {
  readonly accountId: string;
  readonly type: string;
  readonly arn: string;
}

/** Everything an `AwsApiCall` record says. */
export interface ApiCall {
  readonly time: number;
  readonly eventId: string;
  readonly requestId: string;
  readonly userIdentity: Record<string, unknown>;
  /** LookupEvents Username; null when unknown. */
  readonly username: string | null;
  readonly accessKeyId: string | null;
  readonly eventSource: string;
  readonly eventName: string;
  readonly region: string;
  readonly sourceIp: string;
  readonly userAgent: string;
  readonly error?: { readonly code: string; readonly message: string };
  readonly requestParameters: Record<string, unknown> | null;
  readonly responseElements: Record<string, unknown> | null;
  readonly additionalEventData?: Record<string, unknown>;
  readonly readOnly: boolean;
  readonly resources: readonly RecordResource[];
  /** null when the request names no account (an unknown access key). */
  readonly recipientAccountId: string | null;
  /**
   * Set when the call is recorded in more than one account (a key of another account): the
   * GUID every copy shares, each copy having its own eventID (CloudTrail User Guide, shared-event-ID).
   */
  readonly sharedEventId?: string;
  readonly tls?: { readonly tlsVersion: string; readonly cipherSuite: string; readonly clientProvidedHostHeader: string };
}

function stored(record: Record<string, unknown>, c: {
  time: number;
  eventId: string;
  account: string | null;
  eventName: string;
  eventSource: string;
  readOnly: boolean;
  username: string | null;
  accessKeyId: string | null;
  requestId: string | null;
  resources: readonly RecordResource[];
}): AuditAppend {
  const resources: AuditResource[] = c.resources.map((r) => ({ type: r.type, name: r.arn }));
  return {
    body: JSON.stringify(record),
    time: c.time,
    eventId: c.eventId,
    account: c.account ?? '',
    eventName: c.eventName,
    eventSource: c.eventSource,
    readOnly: c.readOnly,
    username: c.username,
    accessKeyId: c.accessKeyId,
    requestId: c.requestId,
    resources,
  };
}

/** The stored form of an `AwsApiCall` record. */
export function apiCallRecord(e: ApiCall): AuditAppend {
  const r: Record<string, unknown> = {
    eventVersion: EVENT_VERSION,
    userIdentity: e.userIdentity,
    eventTime: isoSeconds(e.time),
    eventSource: e.eventSource,
    eventName: e.eventName,
    awsRegion: e.region,
    sourceIPAddress: e.sourceIp,
    userAgent: e.userAgent,
  };
  if (e.error !== undefined) {
    r.errorCode = e.error.code;
    r.errorMessage = e.error.message;
  }
  r.requestParameters = e.requestParameters;
  r.responseElements = e.responseElements;
  if (e.additionalEventData !== undefined) r.additionalEventData = e.additionalEventData;
  r.requestID = e.requestId;
  r.eventID = e.eventId;
  r.readOnly = e.readOnly;
  r.resources = e.resources.map((x) => ({ accountId: x.accountId, type: x.type, ARN: x.arn }));
  r.eventType = 'AwsApiCall';
  r.managementEvent = true;
  r.recipientAccountId = e.recipientAccountId;
  if (e.sharedEventId !== undefined) r.sharedEventID = e.sharedEventId;
  r.eventCategory = 'Management';
  if (e.tls !== undefined) r.tlsDetails = e.tls;
  return stored(r, {
    time: e.time,
    eventId: e.eventId,
    account: e.recipientAccountId,
    eventName: e.eventName,
    eventSource: e.eventSource,
    readOnly: e.readOnly,
    username: e.username,
    accessKeyId: e.accessKeyId,
    requestId: e.requestId,
    resources: e.resources,
  });
}

/** Everything an `AwsServiceEvent` record about one key says. */
export interface ServiceEvent {
  readonly time: number;
  readonly eventId: string;
  /** DeleteKey, RotateKey, DeleteExpiredKeyMaterial, ... */
  readonly eventName: string;
  readonly accountId: string;
  readonly region: string;
  readonly keyArn: string;
  readonly keyId: string;
  readonly additionalEventData?: Record<string, unknown>;
}

/** The stored form of an `AwsServiceEvent` record, as AWS records KMS's own actions. */
export function serviceEventRecord(e: ServiceEvent): AuditAppend {
  const resources: RecordResource[] = [{ accountId: e.accountId, type: KMS_KEY_TYPE, arn: e.keyArn }];
  const r: Record<string, unknown> = {
    eventVersion: EVENT_VERSION,
    userIdentity: { accountId: e.accountId, invokedBy: AWS_INTERNAL },
    eventTime: isoSeconds(e.time),
    eventSource: 'kms.amazonaws.com',
    eventName: e.eventName,
    awsRegion: e.region,
    sourceIPAddress: AWS_INTERNAL,
    userAgent: AWS_INTERNAL,
    requestParameters: null,
    responseElements: null,
  };
  if (e.additionalEventData !== undefined) r.additionalEventData = e.additionalEventData;
  r.eventID = e.eventId;
  r.readOnly = false;
  r.resources = resources.map((x) => ({ accountId: x.accountId, type: x.type, ARN: x.arn }));
  r.eventType = 'AwsServiceEvent';
  r.managementEvent = true;
  r.recipientAccountId = e.accountId;
  r.serviceEventDetails = { keyId: e.keyId };
  r.eventCategory = 'Management';
  return stored(r, {
    time: e.time,
    eventId: e.eventId,
    account: e.accountId,
    eventName: e.eventName,
    eventSource: 'kms.amazonaws.com',
    readOnly: false,
    username: null,
    accessKeyId: null,
    requestId: null,
    resources,
  });
}
