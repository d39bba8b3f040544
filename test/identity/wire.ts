/**
 * Test helpers: IAM/STS (AWS Query) and Organizations (awsJson1_1) requests signed with
 * @smithy/signature-v4 exactly as the SDKs sign them, sent over a real socket, and a minimal
 * reader for the XML answers.
 */
import { request, type IncomingHttpHeaders } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { KMSClient } from '@aws-sdk/client-kms';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

/** Credentials, temporary ones with a session token. */
export interface Creds {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** A raw HTTP answer. */
export interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** Sends one request on a fresh connection and reads the whole answer. */
export function send(port: number, headers: Record<string, string>, body: string | Buffer, method = 'POST', path = '/'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    // The server may answer (413) and close before the whole body is written; the answer wins.
    req.on('error', reject);
    req.end(body);
  });
}

/** Signs headers+body for `service` in `region`. */
export async function sign(
  port: number, service: string, region: string, headers: Record<string, string>, body: string | Buffer, creds: Creds,
): Promise<Record<string, string>> {
  const req = new HttpRequest({ method: 'POST', protocol: 'http:', hostname: '127.0.0.1', port, path: '/', headers: { host: `127.0.0.1:${port}`, ...headers }, body });
  const signer = new SignatureV4({ service, region, credentials: creds, sha256: Sha256 });
  const signed = await signer.sign(req);
  return { ...(signed.headers as Record<string, string>), 'content-length': String(Buffer.byteLength(body)) };
}

const VERSIONS: Readonly<Record<string, string>> = { iam: '2010-05-08', sts: '2011-06-15' };

/** Form-encodes Query parameters (Action and Version first). */
export function form(service: 'iam' | 'sts', action: string, params: Record<string, string | number>): string {
  const p = new URLSearchParams({ Action: action, Version: VERSIONS[service] as string });
  for (const [k, v] of Object.entries(params)) p.append(k, String(v));
  return p.toString();
}

/** An IAM or STS call. */
export async function query(
  port: number, service: 'iam' | 'sts', action: string, params: Record<string, string | number>, creds: Creds, region = 'us-east-1',
): Promise<Answer> {
  const body = form(service, action, params);
  const headers = await sign(port, service, region, { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body, creds);
  return send(port, headers, body);
}

/** An Organizations call; the parsed JSON answer. */
export async function organizations(port: number, op: string, input: Record<string, unknown>, creds: Creds): Promise<{ status: number; json: any }> {
  const body = JSON.stringify(input);
  const headers = await sign(
    port, 'organizations', 'us-east-1', { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AWSOrganizationsV20161128.${op}` }, body, creds,
  );
  const a = await send(port, headers, body);
  return { status: a.status, json: a.body === '' ? {} : JSON.parse(a.body) };
}

/** The text of the first <tag> element, XML entities decoded; undefined when absent. */
export function xml(body: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(body);
  return m === null ? undefined : decodeXml(m[1] as string);
}

/** The texts of every <tag> element. */
export function xmlAll(body: string, tag: string): string[] {
  return [...body.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, 'g'))].map((m) => decodeXml(m[1] as string));
}

function decodeXml(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#xD);/g, (_, e: string) => ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'", '#xD': '\r' })[e] as string);
}

/** The Code and Message of a Query error answer. */
export function queryError(a: Answer): { status: number; type?: string; code?: string; message?: string } {
  return { status: a.status, type: xml(a.body, 'Type'), code: xml(a.body, 'Code'), message: xml(a.body, 'Message') };
}

/** A KMS client for any credentials (temporary ones too). */
export function kmsClient(endpoint: string, creds: Creds, region = 'us-east-1'): KMSClient {
  return new KMSClient({ endpoint, region, credentials: creds, maxAttempts: 1 });
}

/** Credentials from CreateAccessKey or AssumeRole XML. */
export function credsFrom(body: string): Creds {
  const token = xml(body, 'SessionToken');
  return {
    accessKeyId: xml(body, 'AccessKeyId') as string,
    secretAccessKey: xml(body, 'SecretAccessKey') as string,
    ...(token === undefined ? {} : { sessionToken: token }),
  };
}
