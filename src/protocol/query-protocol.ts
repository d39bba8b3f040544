/**
 * The AWS Query protocol (IAM, STS): a form-encoded POST body `Action=CreateUser&Version=…&…`,
 * an XML response `<CreateUserResponse xmlns=…><CreateUserResult>…</CreateUserResult>
 * <ResponseMetadata><RequestId>…</RequestId></ResponseMetadata></CreateUserResponse>`, and the
 * error document `<ErrorResponse><Error><Type>Sender</Type><Code>…</Code><Message>…</Message>
 * </Error><RequestId>…</RequestId></ErrorResponse>` (smithy "AWS query protocol":
 * https://smithy.io/2.0/aws/protocols/aws-query-protocol.html). Lists are `Name.member.N`,
 * nested members `Name.member.N.Member`, maps `Name.entry.N.key/value`.
 *
 * Like the JSON protocol it knows no operation's fields: input is decoded against the
 * operation's declared shape and validated by the same code as every other operation
 * (src/operations/shape.ts); output is encoded by the operation's generated output shape
 * (src/protocol/xml-encoder.ts: timestamps ISO 8601, lists as `<member>`, maps as `<entry>`).
 * XML is built by hand with escaping; nothing client-supplied reaches the output unescaped.
 */
import { ERROR_STATUS, QUERY_ERRORS, ServiceError } from '../errors';
import type { Operation, Output, RequestContext, Services } from '../operations/operation';
import { decodeInput, type Shape, type StructureShape } from '../operations/shape';
import { encodeXml, escapeXml } from './xml-encoder';

export { escapeXml, xmlDate } from './xml-encoder';

/** One Query service: its signing name, API version, XML namespace and operations by Action. */
export interface QueryService {
  readonly signingName: string;
  readonly version: string;
  readonly xmlNamespace: string;
  readonly operations: Readonly<Record<string, Operation>>;
  /** Every Action AWS models (src/model/operations.ts): unimplemented ones answer UnsupportedOperationException (issue 8). */
  readonly modelled?: ReadonlySet<string>;
}

/** Query services by SigV4 signing name, e.g. { iam: …, sts: … }. */
export type QueryServices = Readonly<Record<string, QueryService>>;

export const XML_TYPE = 'text/xml';

/**
 * Whether a request speaks the Query protocol: a form-encoded body and no X-Amz-Target
 * (awsJson1_1 requests always carry one).
 */
export function isQueryRequest(contentType: string | undefined, target: string | string[] | undefined): boolean {
  return target === undefined && contentType !== undefined && contentType.toLowerCase().startsWith('application/x-www-form-urlencoded');
}

/** The SigV4 service named in an Authorization header's credential scope, if any. */
export function scopeService(authorization: string | undefined): string | undefined {
  return authorization === undefined ? undefined : /Credential=[^/,\s]+\/\d{8}\/[^/,\s]+\/([^/,\s]+)\//.exec(authorization)?.[1];
}

/**
 * Most parameters one Query request may carry. IAM's largest inputs (a 131,072-character policy
 * document, 50 tags) need a few hundred; the cap bounds the work any body does before it is
 * authenticated (issue 12 item 5). Counted on the raw body, before anything is decoded.
 */
export const MAX_QUERY_PARAMETERS = 10_000;

const AMPERSAND = 0x26;

/**
 * Parses a form-encoded body into a map (a repeated name keeps its last value). A body of more
 * than MAX_QUERY_PARAMETERS parameters is refused (ValidationException) before it is decoded.
 */
export function parseForm(body: Buffer): Map<string, string> {
  let count = 1;
  for (let at = body.indexOf(AMPERSAND); at >= 0; at = body.indexOf(AMPERSAND, at + 1)) {
    if (++count > MAX_QUERY_PARAMETERS) {
      throw new ServiceError('ValidationException', `The request has more than ${MAX_QUERY_PARAMETERS} parameters.`);
    }
  }
  const params = new Map<string, string>();
  for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params.set(k, v);
  return params;
}

/** The operation of `service` an Action names, if it has one. */
export function queryOperationNamed(service: QueryService, action: string): Operation | undefined {
  return Object.prototype.hasOwnProperty.call(service.operations, action) ? service.operations[action] : undefined;
}

/** Finds the operation the Action parameter names; InvalidAction (UnknownOperationException) otherwise. */
export function findQueryOperation(service: QueryService, params: ReadonlyMap<string, string>): Operation {
  const action = params.get('Action');
  const op = action === undefined ? undefined : queryOperationNamed(service, action);
  if (op !== undefined) return op;
  if (action !== undefined && service.modelled?.has(action) === true) {
    throw new ServiceError('UnsupportedOperationException', `${action} is not supported by Keyhold. See docs/compatibility.md for the operations it does not implement.`);
  }
  throw new ServiceError(
    'UnknownOperationException',
    `Could not find operation ${action === undefined ? '(none)' : quote(action)} for version ${quote(params.get('Version') ?? service.version)}`,
  );
}

function quote(v: string): string {
  return v.length > 64 ? v.slice(0, 64) + '...' : v;
}

// -------------------------------------------------------------------------------------------------
// Input: flat parameters -> the JSON-like value decodeInput validates.

/**
 * The parameters as a tree of their dot-separated names: `Tags.member.1.Key=a` is the value of
 * node Tags → member → 1 → Key. Built once in one pass over the names, so decoding costs time
 * linear in the body (issue 12 item 5: rescanning every name for each list member was quadratic).
 */
interface ParamNode {
  value: string | undefined;
  readonly children: Map<string, ParamNode>;
}

function paramTree(params: ReadonlyMap<string, string>): ParamNode {
  const root: ParamNode = { value: undefined, children: new Map() };
  for (const [name, value] of params) {
    let node = root;
    let from = 0;
    for (;;) {
      const dot = name.indexOf('.', from);
      const part = dot < 0 ? name.slice(from) : name.slice(from, dot);
      let child = node.children.get(part);
      if (child === undefined) {
        child = { value: undefined, children: new Map() };
        node.children.set(part, child);
      }
      node = child;
      if (dot < 0) break;
      from = dot + 1;
    }
    node.value = value;
  }
  return root;
}

/** Indices N present under a list's `member` (or a map's `entry`) node, ascending. */
function indices(node: ParamNode): number[] {
  const found = new Set<number>();
  for (const part of node.children.keys()) {
    const n = Number(part);
    if (Number.isSafeInteger(n) && n >= 1) found.add(n);
  }
  return [...found].sort((a, b) => a - b);
}

function queryValue(shape: Shape, node: ParamNode | undefined): unknown {
  if (node === undefined) return undefined;
  switch (shape.type) {
    case 'structure':
      return queryStructure(shape, node);
    case 'list': {
      if (node.value === '') return []; // an empty list is sent as `Name=`
      const members = node.children.get('member');
      if (members === undefined) return undefined;
      return indices(members).map((i) => queryValue(shape.member, members.children.get(String(i))));
    }
    case 'map': {
      const entries = node.children.get('entry');
      if (entries === undefined) return undefined;
      const out: Record<string, unknown> = {};
      for (const i of indices(entries)) {
        const entry = entries.children.get(String(i));
        const k = entry?.children.get('key')?.value;
        if (k !== undefined) out[k] = entry?.children.get('value')?.value ?? '';
      }
      return out;
    }
    default: {
      const raw = node.value;
      if (raw === undefined) return undefined;
      if (shape.type === 'integer') return /^-?\d{1,15}$/.test(raw) ? Number(raw) : raw;
      if (shape.type === 'boolean') return raw === 'true' ? true : raw === 'false' ? false : raw;
      if (shape.type === 'timestamp') {
        const ms = Date.parse(raw);
        return Number.isNaN(ms) ? raw : ms / 1000;
      }
      if (shape.type === 'blob') return raw; // base64, as in JSON
      return raw;
    }
  }
}

function queryStructure(shape: StructureShape, node: ParamNode): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(shape.members)) {
    const v = queryValue(shape.members[name] as Shape, node.children.get(name));
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/** The operation's members from Query parameters, as the JSON-like value a JSON body would hold (not yet validated). */
export function queryParameters(shape: StructureShape, params: ReadonlyMap<string, string>): Record<string, unknown> {
  return queryStructure(shape, paramTree(params));
}

// -------------------------------------------------------------------------------------------------
// Output: XML, encoded by the operation's generated output shape (src/protocol/xml-encoder.ts).

/** The XML document of a successful response: `<OpResult>` (botocore's resultWrapper) and ResponseMetadata/RequestId. */
export function queryResponse(opName: string, namespace: string, shape: StructureShape, output: object | undefined, requestId: string): string {
  const result = output === undefined ? '' : `<${opName}Result>${encodeXml(shape, output)}</${opName}Result>`;
  return (
    `<${opName}Response xmlns="${escapeXml(namespace)}">${result}` +
    `<ResponseMetadata><RequestId>${escapeXml(requestId)}</RequestId></ResponseMetadata></${opName}Response>`
  );
}

/** The wire Code and HTTP status of an error over the Query protocol. */
export function queryError(err: ServiceError): { code: string; status: number } {
  return QUERY_ERRORS[err.name] ?? { code: err.name, status: ERROR_STATUS[err.name] };
}

/** The XML error document, and its status. */
export function queryErrorResponse(err: ServiceError, namespace: string, requestId: string): { status: number; body: string } {
  const { code, status } = queryError(err);
  const type = status >= 500 ? 'Receiver' : 'Sender';
  return {
    status,
    body:
      `<ErrorResponse xmlns="${escapeXml(namespace)}"><Error><Type>${type}</Type><Code>${escapeXml(code)}</Code>` +
      `<Message>${escapeXml(err.message)}</Message></Error><RequestId>${escapeXml(requestId)}</RequestId></ErrorResponse>`,
  };
}

/** Validates (see queryParameters) and invokes a Query operation; returns the XML response body. */
export async function invokeQuery(
  service: QueryService, op: Operation, parameters: Record<string, unknown>, ctx: RequestContext, svc: Services,
): Promise<string> {
  const input = decodeInput(op.input, parameters, op.inputViolations);
  const out = (await op.invoke(input, ctx, svc)) as Output;
  return queryResponse(op.name, service.xmlNamespace, op.output, out, ctx.requestId);
}
