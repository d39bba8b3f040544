/**
 * The HTTP listener: bounded body reading, health and metrics, then the request pipeline
 * route → authenticate → decode → validate → invoke → serialise (STYLE, after smithy). Every
 * response carries x-amzn-RequestId and Date (SDKs correct clock skew from Date). With a
 * certificate and key configured the same handler is served over HTTPS (TLS 1.2 or later, as AWS
 * endpoints require), health and metrics included.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createSecureContext, type SecureVersion, type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { auditUnavailable, type AuditRecorder } from '../audit/recorder';
import { forService, ServiceError, toServiceError } from '../errors';
import type { CredentialCache, ResolvedCredential } from '../identity/credentials';
import type { RequestContext, Services } from '../operations/operation';
import { errorBody } from '../protocol/error-writer';
import { checkJsonRequest, findOperation, invokeJson, parseJsonBody, type JsonServices } from '../protocol/json-protocol';
import {
  XML_TYPE, findQueryOperation, invokeQuery, isQueryRequest, parseForm, queryErrorResponse, queryOperationNamed, queryParameters, scopeService,
  type QueryService, type QueryServices,
} from '../protocol/query-protocol';
import type { SignedRequest, SigV4Verifier } from '../protocol/sigv4';
import type { TlsFiles } from '../config';
import type { Metrics } from './metrics';
import { scanRequestHeaders, type RequestHeaders } from './request-headers';

/** The API listener: HTTP, or HTTPS when TLS is configured. */
export type ApiServer = Server | HttpsServer;

/** The oldest protocol accepted: AWS endpoints require TLS 1.2 (KMS Developer Guide, infrastructure-security). */
const MIN_TLS_VERSION: SecureVersion = 'TLSv1.2';

/**
 * Checks that a certificate and key can serve TLS (both parse, and the key matches the
 * certificate), so a bad pair stops the start instead of every worker. The message is OpenSSL's,
 * which names the problem, never key material.
 */
export function checkTlsFiles(files: TlsFiles): void {
  try {
    createSecureContext({ cert: files.cert, key: files.key, minVersion: MIN_TLS_VERSION });
  } catch (e) {
    throw new Error(`--tls-cert and --tls-key cannot be used: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Whether the request arrived over TLS (aws:SecureTransport). */
export function isSecureTransport(req: IncomingMessage): boolean {
  return (req.socket as Partial<TLSSocket>).encrypted === true;
}

/** What the listener needs. */
export interface ServerDeps {
  readonly services: Services;
  /** JSON services by X-Amz-Target prefix. */
  readonly jsonServices: JsonServices;
  /** AWS Query services (IAM, STS) by SigV4 signing name: form-encoded requests signed for them. */
  readonly queryServices?: QueryServices;
  readonly verifier: SigV4Verifier<ResolvedCredential>;
  readonly credentials: CredentialCache;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly maxBodyBytes: number;
  /** The audit trail (docs/architecture.md §3 step 5); absent only in benchmarks that build the server in-process (bench/). */
  readonly audit?: AuditRecorder;
  /** Certificate and key: serve HTTPS; absent = plain HTTP. */
  readonly tls?: TlsFiles;
  /** Open connections accepted at once; more are closed on arrival (absent: no limit). */
  readonly maxConnections?: number;
  /** Whether GET /metrics is answered here (false when --metrics-port moves it to its own listener). */
  readonly serveMetrics?: boolean;
}

const JSON_TYPE = 'application/x-amz-json-1.1';

/** A verified request: whose credential, and the Region and service it was signed for. */
interface Authenticated {
  readonly credential: ResolvedCredential;
  readonly region: string;
  readonly service: string;
}

let dateSecond = 0;
let dateHeader = '';
/** The HTTP Date header, formatted once per second. */
function httpDate(): string {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateHeader = new Date(now).toUTCString();
  }
  return dateHeader;
}

function send(res: ServerResponse, status: number, requestId: string, body: string, contentType = JSON_TYPE): void {
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-RequestId': requestId,
    Date: httpDate(),
  });
  res.end(body);
}

/**
 * A body over the limit is still read (and discarded) up to this size before the 413, so the
 * client can finish writing and read its answer; beyond it the answer comes at once.
 */
const DRAIN_LIMIT_BYTES = 8 * 1024 * 1024;

function readBody(req: IncomingMessage, headers: RequestHeaders, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tooLarge = (): ServiceError => new ServiceError('RequestEntityTooLargeException', `The request body exceeds the maximum size of ${limit} bytes.`);
    const declared = Number(headers.contentLength);
    if (declared > DRAIN_LIMIT_BYTES) {
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (over) {
        // Past the drain bound: answer now (the connection closes after the 413).
        if (size > DRAIN_LIMIT_BYTES) reject(tooLarge());
        return;
      }
      if (size > limit) {
        // Read the rest and discard it, then answer 413: a client still writing its body would
        // otherwise see its connection reset (EPIPE) before it reads the answer.
        over = true;
        chunks.length = 0;
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => (over || declared > limit ? reject(tooLarge()) : resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size))));
    if (declared > limit) over = true;
    // The client went away mid-body, or the server timed it out (408): a client abort, not a
    // server fault (issue 11), so 5xx metrics count server faults only.
    const aborted = (): void => reject(clientAborted());
    req.on('error', aborted);
    req.on('aborted', aborted);
  });
}

function clientAborted(): ServiceError {
  return new ServiceError('RequestTimeoutException', 'The client closed the connection or did not send the whole request in time.');
}

/** Creates the API server (not yet listening). */
export function createApiServer(deps: ServerDeps): ApiServer {
  const { services, jsonServices, queryServices, verifier, credentials, logger, metrics, maxBodyBytes, audit } = deps;

  /** The Query service a request is for: form-encoded and signed for iam/sts (unsigned: the first, for its error). */
  function queryServiceOf(headers: RequestHeaders): QueryService | undefined {
    if (queryServices === undefined || !isQueryRequest(headers.contentType, headers.target)) return undefined;
    const scope = scopeService(headers.authorization);
    if (scope === undefined) return Object.values(queryServices)[0];
    return Object.prototype.hasOwnProperty.call(queryServices, scope) ? queryServices[scope] : undefined;
  }

  /** The pipeline of handleApi for the AWS Query protocol: form-encoded input, XML output and errors. */
  async function handleQueryApi(req: IncomingMessage, res: ServerResponse, requestId: string, headers: RequestHeaders, query: QueryService): Promise<void> {
    let opName = 'unknown';
    const started = process.hrtime.bigint();
    const record = audit?.begin(req, requestId);
    let out = '';
    let failure: ServiceError | undefined;
    try {
      const body = await readBody(req, headers, maxBodyBytes);
      // The Action names the operation even if the request fails before it is routed (its audit eventName).
      const params = parseForm(body);
      const action = params.get('Action');
      if (record !== undefined && action !== undefined) record.named(query.signingName, action, queryOperationNamed(query, action));
      if (req.method !== 'POST') throw new ServiceError('MethodNotAllowedException', 'Only POST is supported.');
      services.keyring.refresh();
      const verified = authenticate(req, headers, body);
      const auth = verified instanceof Promise ? await verified : verified;
      if (auth.service !== query.signingName) {
        throw new ServiceError('InvalidSignatureException', `Credential should be scoped to correct service: '${query.signingName}'. `);
      }
      record?.authenticated(auth.credential.caller, auth.region);
      const op = findQueryOperation(query, params);
      opName = op.name;
      record?.identified(auth.credential.caller, auth.region, query.signingName, op);
      const input = queryParameters(op.input, params);
      const ctx: RequestContext = {
        caller: auth.credential.caller,
        origin: { sourceIp: req.socket.remoteAddress ?? '', userAgent: headers.userAgent ?? '', secureTransport: isSecureTransport(req) },
        region: auth.region,
        requestId,
        audit: record?.notes,
      };
      if (record !== undefined) await record.beforeInvoke(input);
      out = await invokeQuery(query, op, input, ctx, services);
    } catch (e) {
      failure = forService(toServiceError(e), query.signingName);
      if (failure.status >= 500) logger.error({ requestId, operation: opName, err: e }, 'request failed');
      else logger.debug({ requestId, operation: opName, error: failure.name }, 'request rejected');
    }
    if (record !== undefined) {
      try {
        // No responseElements: CreateAccessKey and AssumeRole answer with secrets.
        await record.finish('', failure);
      } catch (e) {
        logger.error({ requestId, operation: opName, err: e }, 'audit record could not be written: answering with an error');
        if (failure === undefined || failure.status < 500) failure = forService(auditUnavailable(), query.signingName);
      }
    }
    if (failure === undefined) {
      send(res, 200, requestId, out, XML_TYPE);
      metrics.observe(opName, 200, started);
    } else {
      if (failure.name === 'RequestEntityTooLargeException') res.setHeader('Connection', 'close');
      const xml = queryErrorResponse(failure, query.xmlNamespace, requestId);
      send(res, xml.status, requestId, xml.body, XML_TYPE);
      metrics.observe(opName, xml.status, started);
    }
  }

  /**
   * Verifies the signature. Synchronous for a known access key (every request but a key's first
   * in this process), so the common case costs no promise (issue 11, hot path).
   */
  function authenticate(req: IncomingMessage, headers: RequestHeaders, body: Buffer): Authenticated | Promise<Authenticated> {
    const signed = { method: req.method ?? 'POST', url: req.url ?? '/', rawHeaders: req.rawHeaders, body };
    try {
      return credentials.current(verifier.verify(signed));
    } catch (e) {
      if (e instanceof ServiceError && e.name === 'UnrecognizedClientException') return authenticateUnknown(headers, signed, e);
      throw e;
    }
  }

  /** A key this process has not seen yet: load it once from the store, then verify again. */
  async function authenticateUnknown(headers: RequestHeaders, signed: SignedRequest, e: ServiceError): Promise<Authenticated> {
    const id = /Credential=([^/,\s]+)\//.exec(headers.authorization ?? '')?.[1];
    if (id !== undefined && credentials.resolve(id) === undefined && (await credentials.load(id))) {
      return credentials.current(verifier.verify(signed));
    }
    throw e;
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const headers = scanRequestHeaders(req.rawHeaders);
    const query = queryServiceOf(headers);
    if (query !== undefined) return handleQueryApi(req, res, requestId, headers, query);
    let opName = 'unknown';
    /** The service the request addressed (KMS until its target names another): how its faults are spelled. */
    let signingName = 'kms';
    const started = process.hrtime.bigint();
    const record = audit?.begin(req, requestId);
    let out = '';
    let failure: ServiceError | undefined;
    try {
      const body = await readBody(req, headers, maxBodyBytes);
      if (req.method !== 'POST') throw new ServiceError('MethodNotAllowedException', 'Only POST is supported.');
      services.keyring.refresh();
      const verified = authenticate(req, headers, body);
      const auth = verified instanceof Promise ? await verified : verified;
      record?.authenticated(auth.credential.caller, auth.region);
      checkJsonRequest(req.url, headers.contentType);
      const { service, op } = findOperation(headers.target, jsonServices);
      opName = op.name;
      signingName = service.signingName;
      record?.identified(auth.credential.caller, auth.region, service.signingName, op);
      if (auth.service !== service.signingName) {
        throw new ServiceError('InvalidSignatureException', `Credential should be scoped to correct service: '${service.signingName}'. `);
      }
      const parsed = parseJsonBody(body);
      const ctx: RequestContext = {
        caller: auth.credential.caller,
        origin: {
          sourceIp: req.socket.remoteAddress ?? '',
          userAgent: headers.userAgent ?? '',
          secureTransport: isSecureTransport(req),
        },
        region: auth.region,
        requestId,
        audit: record?.notes,
      };
      if (record !== undefined) await record.beforeInvoke(parsed);
      out = await invokeJson(op, parsed, ctx, services);
    } catch (e) {
      failure = forService(toServiceError(e), signingName);
      if (failure.status >= 500) logger.error({ requestId, operation: opName, err: e }, 'request failed');
      else logger.debug({ requestId, operation: opName, error: failure.name }, 'request rejected');
    }
    if (record !== undefined) {
      try {
        await record.finish(out, failure);
      } catch (e) {
        // Fail closed: no answer leaves without its durable audit record (docs/architecture.md §1 promise 2).
        logger.error({ requestId, operation: opName, err: e }, 'audit record could not be written: answering with an error');
        if (failure === undefined || failure.status < 500) failure = forService(auditUnavailable(), signingName);
      }
    }
    if (failure === undefined) {
      if (out === '') {
        res.writeHead(200, { 'Content-Type': JSON_TYPE, 'Content-Length': 0, 'x-amzn-RequestId': requestId, Date: httpDate() });
        res.end();
      } else {
        send(res, 200, requestId, out);
      }
      metrics.observe(opName, 200, started);
    } else {
      if (failure.name === 'RequestEntityTooLargeException') res.setHeader('Connection', 'close');
      send(res, failure.status, requestId, errorBody(failure));
      metrics.observe(opName, failure.status, started);
    }
  }

  const handle: RequestListener = (req, res) => {
    const requestId = randomUUID();
    if (req.method === 'GET' && req.url === '/healthz') {
      send(res, 200, requestId, '{"status":"ok"}');
      return;
    }
    if (deps.serveMetrics !== false && req.method === 'GET' && req.url === '/metrics') {
      metrics.render().then(
        (text) => {
          res.writeHead(200, { 'Content-Type': metrics.contentType, 'x-amzn-RequestId': requestId, Date: httpDate() });
          res.end(text);
        },
        () => send(res, 500, requestId, errorBody(toServiceError(undefined))),
      );
      return;
    }
    void handleApi(req, res, requestId);
  };
  const server: ApiServer =
    deps.tls === undefined
      ? createServer({ keepAliveTimeout: 65_000 }, handle)
      : createHttpsServer({ cert: deps.tls.cert, key: deps.tls.key, minVersion: MIN_TLS_VERSION, keepAliveTimeout: 65_000 }, handle);
  server.headersTimeout = 30_000;
  server.requestTimeout = 60_000;
  if (deps.maxConnections !== undefined) server.maxConnections = deps.maxConnections;
  return server;
}
