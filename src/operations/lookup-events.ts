/**
 * CloudTrail LookupEvents over the audit trail (CloudTrail API reference, LookupEvents): at most
 * one lookup attribute, a time range, MaxResults 1-50 (default 50), NextToken paging, newest
 * first. Results are limited to the caller's account (recipientAccountId). Each event carries
 * the stored record verbatim as CloudTrailEvent, so `aws cloudtrail lookup-events` shows the
 * same bytes `keyhold audit verify` checks.
 *
 * Authorization: `cloudtrail:LookupEvents` has no resource type (policies grant it with
 * `"Resource": "*"`; see the Service Authorization Reference page for CloudTrail), so the
 * caller's identity-based policies, session policies and SCPs decide against `"*"`, through the
 * same evaluator as the IAM, STS and Organizations actions (src/identity/authorize-call.ts); an
 * account root is bounded only by SCPs. CloudTrail's own errors (InvalidLookupAttributesException,
 * …) are ordinary ServiceErrors from the one table in src/errors.ts.
 */
import { createHash } from 'node:crypto';
import { ServiceError } from '../errors';
import { authorizeCall } from '../identity/authorize-call';
import type { AuditEventRow, AuditStore, LookupAttributeKey } from '../store/audit-log';
import { toAuditReader, type AuditReader } from '../store/audit-reader';
import type { Operation, RequestContext, Services } from './operation';
import type { ListShape, StringShape, StructureShape, ViolationTable } from './shape';
import { CLOUDTRAIL_INPUTS } from '../model/cloudtrail-inputs';
import { CLOUDTRAIL_OUTPUTS, type Event, type LookupEventsOutput } from '../model/cloudtrail-outputs';

/** The IAM action LookupEvents is authorized as. */
export const LOOKUP_EVENTS_ACTION = 'cloudtrail:LookupEvents';

/**
 * Throws AccessDeniedException unless the caller may perform cloudtrail:LookupEvents. AWS names
 * no resource in the message of an action without resource-level permissions, e.g. "User: arn:…
 * is not authorized to perform: cloudtrail:LookupEvents with an explicit deny in a service control
 * policy" (quoted in aws-samples/landing-zone-accelerator-on-aws-for-tse-se issue 10).
 */
function authorizeLookup(ctx: RequestContext, svc: Services): Promise<void> {
  const call = { store: svc.store, clock: svc.clock, caller: ctx.caller, origin: ctx.origin, region: ctx.region };
  return authorizeCall(call, LOOKUP_EVENTS_ACTION, '*', { noResourceType: true });
}

const DEFAULT_MAX_RESULTS = 50;
const LOOKUP_INPUT = CLOUDTRAIL_INPUTS.LookupEvents as StructureShape;
const ATTRIBUTE_KEYS = ((LOOKUP_INPUT.members.LookupAttributes as ListShape).member as StructureShape).members.AttributeKey as StringShape;

/**
 * The generated shape's violations CloudTrail answers with its own exceptions (CloudTrail API
 * Reference, LookupEvents, "Errors": InvalidLookupAttributesException "Occurs when a lookup
 * attribute is specified that is not valid", InvalidMaxResultsException "This exception is thrown
 * if the limit specified is not valid", InvalidEventCategoryException "Occurs if an event category
 * that is not valid is specified as a value of EventCategory"); every other violation (a missing
 * AttributeValue, …) is the generic ValidationException form.
 */
const LOOKUP_VIOLATIONS: ViolationTable = Object.freeze({
  'lookupAttributes.member.attributeKey': ['InvalidLookupAttributesException', `The attribute key is not valid. Valid keys: ${(ATTRIBUTE_KEYS.enum ?? []).join(', ')}.`],
  eventCategory: ['InvalidEventCategoryException', 'The event category is not valid. Valid value: insight.'],
  maxResults: ['InvalidMaxResultsException', 'MaxResults must be from 1 to 50.'],
});
const MAX_ATTRIBUTE_VALUE = 2000;

interface LookupEventsInput {
  LookupAttributes?: { AttributeKey: string; AttributeValue: string }[];
  StartTime?: number;
  EndTime?: number;
  EventCategory?: string;
  MaxResults?: number;
  NextToken?: string;
}

interface Token {
  /** time, stream and seq of the last event returned */
  t: number;
  r: number;
  s: number;
  /** the query the token belongs to */
  q: string;
}

function queryFingerprint(account: string, input: LookupEventsInput): string {
  const a = input.LookupAttributes?.[0];
  return createHash('sha256')
    .update(JSON.stringify([account, a?.AttributeKey ?? null, a?.AttributeValue ?? null, input.StartTime ?? null, input.EndTime ?? null]))
    .digest('base64url')
    .slice(0, 16);
}

function encodeToken(t: Token): string {
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

function decodeToken(s: string, q: string): Token {
  let t: unknown;
  try {
    t = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  } catch {
    t = undefined;
  }
  const ok =
    typeof t === 'object' && t !== null &&
    Number.isSafeInteger((t as Token).t) && Number.isSafeInteger((t as Token).r) && Number.isSafeInteger((t as Token).s) && (t as Token).q === q;
  if (!ok) throw new ServiceError('InvalidNextTokenException', 'Invalid NextToken. The token must come from a previous call with the same parameters.');
  return t as Token;
}

/** One result of LookupEvents. */
function wireEvent(row: AuditEventRow): Event {
  const record = JSON.parse(row.body) as { resources?: { type?: string; ARN?: string }[] };
  const e: { -readonly [K in keyof Event]: Event[K] } = {
    EventId: row.eventId,
    EventName: row.eventName,
    ReadOnly: row.readOnly ? 'true' : 'false',
  };
  if (row.accessKeyId !== null) e.AccessKeyId = row.accessKeyId;
  e.EventTime = Math.floor(row.time / 1000) * 1000; // whole seconds, as CloudTrail records times
  e.EventSource = row.eventSource;
  if (row.username !== null) e.Username = row.username;
  e.Resources = (record.resources ?? []).map((r) => ({ ResourceType: r.type, ResourceName: r.ARN }));
  e.CloudTrailEvent = row.body;
  return e;
}

/**
 * LookupEvents over `trail` (undefined when the trail is off: nothing to find), read through the
 * reader port (store/audit-reader.ts): the SQLite trail as it is, or PostgreSQL's reader.
 */
export function lookupEvents(trail: AuditReader | AuditStore | undefined): Operation<LookupEventsInput, LookupEventsOutput> {
  const reader = trail === undefined ? undefined : toAuditReader(trail);
  return {
    name: 'LookupEvents',
    output: CLOUDTRAIL_OUTPUTS.LookupEvents,
    readOnly: true,
    input: CLOUDTRAIL_INPUTS.LookupEvents,
    inputViolations: LOOKUP_VIOLATIONS,
    async invoke(input, ctx, svc) {
      await authorizeLookup(ctx, svc);
      const attrs = input.LookupAttributes ?? [];
      if (attrs.length > 1) throw new ServiceError('InvalidLookupAttributesException', 'You cannot specify more than one lookup attribute.');
      const attr = attrs[0];
      if (attr !== undefined) {
        if (attr.AttributeValue.length < 1 || attr.AttributeValue.length > MAX_ATTRIBUTE_VALUE) {
          throw new ServiceError('InvalidLookupAttributesException', `The attribute value must be 1 to ${MAX_ATTRIBUTE_VALUE} characters long.`);
        }
      }
      if (input.StartTime !== undefined && input.EndTime !== undefined && input.StartTime > input.EndTime) {
        throw new ServiceError('InvalidTimeRangeException', 'Start time must not be after end time.');
      }
      const max = input.MaxResults ?? DEFAULT_MAX_RESULTS;
      const q = queryFingerprint(ctx.caller.accountId, input);
      const after = input.NextToken === undefined ? undefined : decodeToken(input.NextToken, q);
      // Keyhold records no Insights events; management events are not returned for that category.
      if (reader === undefined || input.EventCategory === 'insight') return { Events: [] };
      if (attr?.AttributeKey === 'ReadOnly' && attr.AttributeValue !== 'true' && attr.AttributeValue !== 'false') return { Events: [] };
      const rows = await reader.lookup({
        account: ctx.caller.accountId,
        attribute: attr === undefined ? undefined : { key: attr.AttributeKey as LookupAttributeKey, value: attr.AttributeValue },
        startTime: input.StartTime,
        // EndTime is inclusive to the second; stored times carry milliseconds.
        endTime: input.EndTime === undefined ? undefined : input.EndTime + 999,
        after: after === undefined ? undefined : { time: after.t, stream: after.r, seq: after.s },
        limit: max + 1,
      });
      const page = rows.slice(0, max);
      const out: Record<string, unknown> = { Events: page.map(wireEvent) };
      const last = page[page.length - 1];
      if (rows.length > max && last !== undefined) out.NextToken = encodeToken({ t: last.time, r: last.stream, s: last.seq, q });
      return out;
    },
  };
}
