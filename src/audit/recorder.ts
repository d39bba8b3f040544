/**
 * The request side of the audit trail (docs/architecture.md §3 step 5): one CloudTrail record per API request
 * — allowed, denied or failed — made durable before the response is written. Requests that never
 * authenticated are counted per source and minute in the operator trail instead (auth-failures.ts,
 * issue 11), so no one can write into another tenant's trail.
 *
 * The server opens a `RequestAudit` as a request arrives, tells it what it learns (caller,
 * operation, body), calls `beforeInvoke` just before the operation runs and `finish` once the
 * outcome is known, and sends the response only if `finish` resolved. Guarantees:
 *  - A response other than a 5xx is sent only after its record is durable; if the record
 *    cannot be written the client gets a 5xx instead (fail closed).
 *  - A mutating operation runs only after a durable intent for it exists, and only while the
 *    writer is healthy. Its record completes the intent in the same transaction. If that record
 *    cannot be written (the disk failed, the process died), recovery appends the intent's record
 *    instead: the same request, marked with an unknown outcome. So every change the service may
 *    have made has a record, though a client may see a 5xx for a change that did happen.
 *  - Read-only operations change nothing, so they need no intent: their response is withheld
 *    if their record fails.
 *  - A call that uses a key of another account is recorded in both accounts, as AWS does: "Cross-
 *    account operations on KMS keys are logged in both the caller account and the KMS key owner
 *    account. However, cross-account AWS KMS requests that are rejected because access is denied
 *    are logged only in the caller's account" (KMS Developer Guide, logging-using-cloudtrail).
 *    Each copy has its own eventID and recipientAccountId and both share a sharedEventID and the
 *    requestID (CloudTrail User Guide, shared-event-ID). The copies are appended together, so
 *    they land in the same commit and the response waits for both.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Clock } from '../clock';
import { forService, ServiceError } from '../errors';
import type { Caller } from '../identity/caller';
import { isKeyId, keyArn, parseKmsArn } from '../keys/arn';
import { AuthFailureLog } from './auth-failures';
import { boundedApiCallRecord, KMS_KEY_TYPE, lookupUsername, userIdentity, type ApiCall, type RecordResource } from './event';
import { newEventId } from './event-id';
import { newAuditNotes, type AuditNotes } from './notes';
import { requestParameters, responseElements, type ShapeLike } from './request-parameters';
import type { AuditSink } from './sink';

/** What the recorder needs to know of an operation. */
export interface AuditedOperation {
  readonly name: string;
  readonly readOnly: boolean;
  readonly input: ShapeLike;
}

/** Wiring of the recorder. */
export interface RecorderOptions {
  readonly sink: AuditSink;
  readonly clock: Clock;
  /** Region recorded when the request names none that can be trusted. */
  readonly defaultRegion: string;
  /** The service and operation an X-Amz-Target names, if any (requests that fail before routing). */
  readonly identify: (target: string | undefined) => { signingName: string; op: AuditedOperation } | undefined;
}

/** Request members that name a KMS key (kms-reference.md §3.1). */
const KEY_MEMBERS = ['KeyId', 'TargetKeyId', 'SourceKeyId', 'DestinationKeyId'] as const;
const SCOPE = /Credential=([A-Za-z0-9]{1,128})\/\d{8}\/([a-z0-9-]{1,32})\/([a-z0-9-]{1,32})\/aws4_request/;
const OPERATION_NAME = /^[A-Z][A-Za-z0-9]{0,63}$/;
const REGION = /^([a-z]+-){2,3}\d+$/;
const MAX_USER_AGENT = 1024;
const MAX_HOST = 1024;

/** errorMessage of a record whose request's outcome is unknown (recovered from its intent). */
export const OUTCOME_UNKNOWN_MESSAGE =
  'The outcome of this request is unknown: its audit record could not be completed, and the operation may have taken effect.';

/**
 * Read-only operations that change state all the same, so they write an intent first like every
 * mutating call (issue 11): GetParametersForImport stores an import token. (Naming a predefined
 * `alias/aws/*` creates its AWS managed key: see `namesManagedAlias`.)
 */
const STATEFUL_READS: ReadonlySet<string> = new Set(['GetParametersForImport']);
/** alias/aws/<name>, alone or in an alias ARN. */
const MANAGED_ALIAS = /^(?:arn:[^:]+:kms:([^:]*):(\d{12}):)?(alias\/aws\/[^/]+)$/;
/** Managed aliases known to exist, so naming them creates nothing (AWS managed keys are never deleted). */
const MAX_KNOWN_ALIASES = 10_000;

/** What every RequestAudit of a recorder shares. */
interface Shared extends RecorderOptions {
  readonly failures: AuthFailureLog;
  /** `account\0region\0alias` of managed aliases seen resolved. */
  readonly knownAliases: Set<string>;
}

/** Makes a RequestAudit per request. */
export class AuditRecorder {
  readonly #shared: Shared;

  constructor(opts: RecorderOptions) {
    this.#shared = { ...opts, failures: new AuthFailureLog(opts.sink, opts.defaultRegion, () => opts.clock.now()), knownAliases: new Set() };
  }

  /** Starts the record of a request as it arrives. */
  begin(req: IncomingMessage, requestId: string): RequestAudit {
    return new RequestAudit(this.#shared, req, requestId);
  }

  /** Shutdown: writes the operator records still being counted. */
  close(): Promise<void> {
    return this.#shared.failures.close();
  }
}

/** The audit record of one request, filled in as the request proceeds. */
export class RequestAudit {
  /** The slot operations fill (RequestContext.audit). */
  readonly notes: AuditNotes = newAuditNotes();
  readonly #opts: Shared;
  readonly #req: IncomingMessage;
  readonly #requestId: string;
  readonly #time: number;
  #caller: Caller | undefined;
  #region: string | undefined;
  #signingName: string | undefined;
  #op: AuditedOperation | undefined;
  #params: Record<string, unknown> | undefined;
  /** The operation the body names, before authentication and routing (a Query request's Action). */
  #named: { signingName: string; name: string; op: AuditedOperation | undefined } | undefined;
  #intent = false;
  /** Whether the writer counts this request among those about to submit a record. */
  #expected = false;

  constructor(opts: Shared, req: IncomingMessage, requestId: string) {
    this.#opts = opts;
    this.#req = req;
    this.#requestId = requestId;
    this.#time = opts.clock.now();
  }

  /**
   * The body names operation `name` of the service signing as `signingName` (`op` when that
   * service has it), not yet authenticated: a Query request's Action. Recorded as the eventName
   * should the request fail before it is routed; ignored unless it looks like an operation name.
   */
  named(signingName: string, name: string, op: AuditedOperation | undefined): void {
    if (OPERATION_NAME.test(name)) this.#named = { signingName, name, op };
  }

  /** The request authenticated as `caller` (recorded as such even if it names no operation). */
  authenticated(caller: Caller, region: string): void {
    this.#caller = caller;
    this.#region = region;
  }

  /** The request authenticated as `caller` and routed to `op` of the service signing as `signingName`. */
  identified(caller: Caller, region: string, signingName: string, op: AuditedOperation): void {
    this.authenticated(caller, region);
    this.#signingName = signingName;
    this.#op = op;
    // From here the request runs without waiting on its client: its record comes within moments.
    if (!this.#expected) {
      this.#expected = true;
      this.#opts.sink.expect();
    }
  }

  /** This request's first record is submitted (or never will be): the writer stops waiting for it. */
  #settle(): void {
    if (!this.#expected) return;
    this.#expected = false;
    this.#opts.sink.settle();
  }

  /**
   * Called with the parsed body just before the operation runs. For a mutating operation:
   * refuses (503) while the trail is failing, and makes the intent durable first.
   */
  async beforeInvoke(params: Record<string, unknown>): Promise<void> {
    this.#params = params;
    if (this.#op === undefined) return;
    if (this.#op.readOnly && !STATEFUL_READS.has(this.#op.name) && this.#newManagedAlias() === undefined) return;
    const sink = this.#opts.sink;
    if (!sink.healthy) throw auditUnavailable();
    const unknown = forService(new ServiceError('KMSInternalException', OUTCOME_UNKNOWN_MESSAGE), this.#signingName ?? 'kms');
    const event = boundedApiCallRecord(this.#call('', unknown, { outcome: 'unknown' }));
    this.#settle();
    try {
      await sink.intend({ id: this.#requestId, owner: process.pid, createdAt: this.#time, event });
    } catch {
      throw auditUnavailable();
    }
    this.#intent = true;
  }

  /**
   * The `account\0region\0alias` of a predefined alias/aws/* the request names and this process
   * has not seen resolved: resolving it may create the AWS managed key (keys/aws-managed.ts).
   */
  #newManagedAlias(): string | undefined {
    const params = this.#params;
    const caller = this.#caller;
    if (params === undefined || caller === undefined) return undefined;
    for (const m of KEY_MEMBERS) {
      const v = params[m];
      if (typeof v !== 'string' || !v.includes('alias/aws/')) continue;
      const match = MANAGED_ALIAS.exec(v);
      if (match === null) continue;
      const known = `${match[2] ?? caller.accountId}\0${match[1] ?? this.#region ?? ''}\0${match[3]}`;
      if (!this.#opts.knownAliases.has(known)) return known;
    }
    return undefined;
  }

  /**
   * Makes the request's record durable; rejects if it cannot (the response must then be a 5xx).
   * A request already failing with a 5xx while the trail is known to be failing is answered at
   * once: its record is still attempted, but the answer is an error either way.
   */
  finish(output: string, error: ServiceError | undefined): Promise<void> {
    const sink = this.#opts.sink;
    if (this.#caller === undefined) {
      // Never authenticated: counted in the operator trail, not recorded in any tenant's (auth-failures.ts).
      this.#settle();
      const c = this.#call('', error, undefined);
      this.#opts.failures.add({ time: c.time, sourceIp: c.sourceIp, errorCode: c.error?.code ?? 'Unknown', eventName: c.eventName, accessKeyId: c.accessKeyId });
      return Promise.resolve();
    }
    const call = this.#call(output, error, undefined);
    const owners = this.#keyOwners(call, error);
    this.#settle();
    if (error === undefined && this.#op?.readOnly === true) {
      const alias = this.#newManagedAlias();
      if (alias !== undefined && this.#opts.knownAliases.size < MAX_KNOWN_ALIASES) this.#opts.knownAliases.add(alias);
    }
    let durable: Promise<void>;
    if (owners.length === 0) {
      const record = boundedApiCallRecord(call);
      durable = sink.append(this.#intent ? { ...record, completes: this.#requestId } : record);
    } else {
      // One copy per recipient account (see the module header). An intent is completed by the
      // caller's copy; recovery from a lost record restores that copy only.
      const shared = { ...call, sharedEventId: newEventId(call.time) };
      const mine = boundedApiCallRecord(shared);
      const copies = owners.map((account) => boundedApiCallRecord({ ...shared, eventId: newEventId(call.time), recipientAccountId: account }));
      const all = [sink.append(this.#intent ? { ...mine, completes: this.#requestId } : mine), ...copies.map((c) => sink.append(c))];
      durable = Promise.all(all).then(() => undefined);
    }
    // A request answered without its record is counted; the sink summarises them once it writes again.
    const time = this.#time;
    const region = call.region;
    durable.catch(() => sink.refused(time, region));
    if (error !== undefined && error.status >= 500 && !sink.healthy) return Promise.resolve();
    return durable;
  }

  /**
   * The accounts other than the caller's that own a key the request used, and so get their own
   * copy of its record: none for a denied request (AWS logs those in the caller's account only),
   * and for a failed one only the owners of keys the operation actually resolved.
   */
  #keyOwners(call: ApiCall, error: ServiceError | undefined): string[] {
    const caller = this.#caller;
    if (caller === undefined || error?.name === 'AccessDeniedException') return [];
    const arns = error === undefined ? call.resources.map((r) => r.arn) : this.notes.resources;
    const owners = new Set<string>();
    for (const arn of arns) {
      const account = parseKmsArn(arn)?.accountId;
      if (account !== undefined && account !== caller.accountId) owners.add(account);
    }
    return [...owners];
  }

  #call(output: string, error: ServiceError | undefined, additional: Record<string, unknown> | undefined): ApiCall {
    const o = this.#opts;
    const auth = this.#req.headers.authorization;
    const scope = this.#caller === undefined && typeof auth === 'string' ? SCOPE.exec(auth) : null;
    const target = this.#req.headers['x-amz-target'];
    const routed = this.#op === undefined ? o.identify(typeof target === 'string' ? target : undefined) : undefined;
    const named = this.#op === undefined && routed === undefined ? this.#named : undefined;
    const op = this.#op ?? routed?.op ?? named?.op;
    const signingName = this.#signingName ?? routed?.signingName ?? named?.signingName ?? scope?.[3] ?? 'kms';
    const region = this.#region ?? (scope?.[2] !== undefined && REGION.test(scope[2]) ? scope[2] : o.defaultRegion);

    let identity: Record<string, unknown>;
    let account: string | null;
    let accessKeyId: string | null;
    let username: string | null = null;
    const caller = this.#caller;
    if (caller !== undefined) {
      identity = userIdentity(caller);
      account = caller.accountId;
      accessKeyId = caller.accessKeyId;
      username = lookupUsername(caller);
    } else {
      // Not authenticated: record the identity the request claimed, never as proven.
      accessKeyId = scope?.[1] ?? null;
      account = null;
      identity = { type: 'Unknown' };
      if (accessKeyId !== null) identity.accessKeyId = accessKeyId;
    }

    let eventName = op?.name ?? named?.name;
    if (eventName === undefined) {
      const suffix = typeof target === 'string' ? target.slice(target.lastIndexOf('.') + 1) : '';
      eventName = OPERATION_NAME.test(suffix) ? suffix : 'Unknown';
    }
    const readOnly = op?.readOnly ?? false;
    const parsedOutput = error === undefined && output !== '' && op !== undefined && !readOnly ? responseElements(output) : null;
    const remote = this.#req.socket.remoteAddress ?? '';
    const ua = this.#req.headers['user-agent'];
    return {
      time: this.#time,
      eventId: newEventId(this.#time),
      requestId: this.#requestId,
      userIdentity: identity,
      username,
      accessKeyId,
      eventSource: `${signingName}.amazonaws.com`,
      eventName,
      region,
      sourceIp: remote.startsWith('::ffff:') ? remote.slice(7) : remote,
      userAgent: typeof ua === 'string' ? ua.slice(0, MAX_USER_AGENT) : '',
      error: error === undefined ? undefined : { code: error.name, message: error.message },
      requestParameters: op !== undefined ? requestParameters(op.input, this.#params) : null,
      responseElements: parsedOutput,
      additionalEventData: additional,
      readOnly,
      resources: this.#resources(region, account, output, error, parsedOutput),
      recipientAccountId: account,
      tls: tlsDetails(this.#req),
    };
  }

  /** The resolved keys the operation noted, and the keys the request or response name by id or ARN. */
  #resources(
    region: string,
    account: string | null,
    output: string,
    error: ServiceError | undefined,
    parsedOutput: Record<string, unknown> | null,
  ): RecordResource[] {
    const arns = new Set(this.notes.resources);
    const params = this.#params;
    if (params !== undefined) {
      for (const m of KEY_MEMBERS) {
        const v = params[m];
        if (typeof v !== 'string') continue;
        if (v.startsWith('arn:')) {
          if (parseKmsArn(v)?.resourceType === 'key') arns.add(v);
        } else if (account !== null && isKeyId(v)) {
          arns.add(keyArn(region, account, v));
        }
      }
    }
    // A read by alias that resolved without the helpers (DescribeKey): the response names the key.
    if (arns.size === 0 && error === undefined && output !== '') {
      const out = parsedOutput ?? (output.includes('"Arn"') ? safeParse(output) : null);
      const meta = (out?.KeyMetadata ?? out?.keyMetadata) as Record<string, unknown> | undefined;
      const arn = meta?.Arn ?? meta?.arn;
      if (typeof arn === 'string' && parseKmsArn(arn)?.resourceType === 'key') arns.add(arn);
    }
    const out: RecordResource[] = [];
    for (const arn of arns) out.push({ accountId: arn.split(':')[4] as string, type: KMS_KEY_TYPE, arn });
    return out;
  }
}

/**
 * CloudTrail's tlsDetails of a request that came over TLS (undefined for plain HTTP): the
 * protocol ("TLSv1.3"), the cipher suite by its OpenSSL name — what AWS records, e.g.
 * "TLS_AES_128_GCM_SHA256" or "ECDHE-RSA-AES128-GCM-SHA256" — and the Host header the client sent
 * (CloudTrail User Guide, cloudtrail-event-reference-record-contents).
 */
function tlsDetails(req: IncomingMessage): ApiCall['tls'] {
  const socket = req.socket as Partial<TLSSocket>;
  if (socket.encrypted !== true || socket.getProtocol === undefined || socket.getCipher === undefined) return undefined;
  const tlsVersion = socket.getProtocol();
  if (tlsVersion === null) return undefined;
  const host = req.headers.host;
  return { tlsVersion, cipherSuite: socket.getCipher().name, clientProvidedHostHeader: typeof host === 'string' ? host.slice(0, MAX_HOST) : '' };
}

function safeParse(text: string): Record<string, unknown> | null {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/**
 * The answer when the audit trail cannot be written (issue 11): 503 DependencyTimeoutException,
 * which the AWS SDKs retry; the request was not carried out (or its result withheld).
 */
export function auditUnavailable(): ServiceError {
  return new ServiceError('DependencyTimeoutException', 'The audit trail cannot be written; the request was not processed. Retry later.');
}
