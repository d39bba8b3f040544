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

/**
 * The operator trail (issue 11): records no tenant's LookupEvents returns (recipient account
 * ''), read with `keyhold audit export` or `verify`. They are chained and signed like every
 * other record. eventSource is Keyhold's own, so they never pass for AWS records.
 */
export const OPERATOR_EVENT_SOURCE = 'keyhold.internal';

/** What an operator record says: a summary of many requests that have no record of their own. */
export interface OperatorSummary {
  readonly time: number;
  readonly eventId: string;
  /** KeyholdAuditUnavailable, KeyholdUnauthenticatedRequests. */
  readonly eventName: string;
  readonly region: string;
  /** Where the summarised requests came from ('' when they came from many places). */
  readonly sourceIp: string;
  readonly additionalEventData: Record<string, unknown>;
}

/** The stored form of an operator summary record. */
export function operatorRecord(e: OperatorSummary): AuditAppend {
  const r: Record<string, unknown> = {
    eventVersion: EVENT_VERSION,
    userIdentity: { type: 'Unknown' },
    eventTime: isoSeconds(e.time),
    eventSource: OPERATOR_EVENT_SOURCE,
    eventName: e.eventName,
    awsRegion: e.region,
    sourceIPAddress: e.sourceIp,
    userAgent: '',
    requestParameters: null,
    responseElements: null,
    additionalEventData: e.additionalEventData,
    eventID: e.eventId,
    readOnly: true,
    resources: [],
    eventType: 'AwsServiceEvent',
    managementEvent: true,
    recipientAccountId: null,
    eventCategory: 'Management',
  };
  return stored(r, {
    time: e.time,
    eventId: e.eventId,
    account: null,
    eventName: e.eventName,
    eventSource: OPERATOR_EVENT_SOURCE,
    readOnly: true,
    username: null,
    accessKeyId: null,
    requestId: null,
    resources: [],
  });
}

/** Longest stored record (UTF-16 units of its JSON); larger ones have their request parameters cut (issue 11). */
export const MAX_RECORD_CHARS = 64 * 1024;
/** A request parameter longer than this (as JSON) is replaced by a note when a record is too large. */
const MAX_PARAMETER_CHARS = 2048;

/**
 * Bounds the size of any one record: a request's parameters (a denied call's encryption
 * context, say) are the only part a caller controls freely, so a record above MAX_RECORD_CHARS
 * keeps each parameter up to MAX_PARAMETER_CHARS and replaces longer ones by a note of their
 * size; if that is still too large, the parameters and response elements are dropped.
 */
export function boundedApiCallRecord(e: ApiCall): AuditAppend {
  const full = apiCallRecord(e);
  if (full.body.length <= MAX_RECORD_CHARS) return full;
  const cut = (o: Record<string, unknown> | null): Record<string, unknown> | null => {
    if (o === null) return null;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) {
      const size = JSON.stringify(v)?.length ?? 0;
      out[k] = size <= MAX_PARAMETER_CHARS ? v : `(omitted by Keyhold: ${size} characters)`;
    }
    return out;
  };
  const trimmed = apiCallRecord({ ...e, requestParameters: cut(e.requestParameters), responseElements: cut(e.responseElements) });
  if (trimmed.body.length <= MAX_RECORD_CHARS) return trimmed;
  return apiCallRecord({ ...e, requestParameters: { keyholdOmitted: true }, responseElements: null });
}
