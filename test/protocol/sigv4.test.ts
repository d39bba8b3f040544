/**
 * SigV4 verifier tests: the public AWS SigV4 test suite run as data (test/fixtures/sigv4), then
 * requests signed by @smithy/signature-v4 the way the AWS SDK signs a KMS call, then one real
 * @aws-sdk/client-kms call over a socket. Every failure asserts the AWS error name and message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Sha256 } from '@aws-crypto/sha256-js';
import { KMSClient, ListKeysCommand } from '@aws-sdk/client-kms';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { ManualClock } from '../../src/clock';
import { ServiceError } from '../../src/errors';
import {
  SigV4Verifier,
  canonicalQuery,
  canonicalUri,
  type SignedRequest,
  type SigningCredential,
} from '../../src/protocol/sigv4';

const MISMATCH =
  'The request signature we calculated does not match the signature you provided. ' +
  'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';
const INVALID_TOKEN = 'The security token included in the request is invalid.';
const CONTENT_SHA256_MISMATCH =
  "The provided 'X-Amz-Content-Sha256' header does not match what was computed.";
const UNSUPPORTED_ALGORITHM = "Unsupported Authorization algorithm; this service requires 'AWS4-HMAC-SHA256'.";
const BAD_CREDENTIAL =
  "The 'Credential' parameter of the Authorization header must have the form " +
  '<AccessKeyId>/<yyyyMMdd>/<region>/<service>/aws4_request.';
const BAD_SIGNATURE =
  "The 'Signature' parameter of the Authorization header must be 64 lowercase hexadecimal characters.";

/** Asserts a ServiceError with this name and message, and that no secret leaked into it. */
function expectError(
  fn: () => unknown,
  name: string,
  message: string,
  secrets: readonly string[] = [],
): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ServiceError, `expected a ServiceError, got ${String(err)}`);
    assert.equal(err.name, name);
    assert.equal(err.message, message);
    assert.equal(err.status, 400);
    for (const s of secrets) assert.ok(!err.message.includes(s), 'error message leaks a secret');
    return true;
  });
}

function header(req: SignedRequest, name: string): string | undefined {
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]!.toLowerCase() === name) return req.rawHeaders[i + 1];
  }
  return undefined;
}

/** A copy of the request with header `name` mapped (undefined removes it). */
function withHeader(
  req: SignedRequest,
  name: string,
  map: (value: string) => string | undefined,
): SignedRequest {
  const rawHeaders: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const [n, v] = [req.rawHeaders[i]!, req.rawHeaders[i + 1]!];
    const value = n.toLowerCase() === name ? map(v) : v;
    if (value !== undefined) rawHeaders.push(n, value);
  }
  return { ...req, rawHeaders };
}

function signatureOf(req: SignedRequest): string {
  return /Signature=([0-9a-f]+)/.exec(header(req, 'authorization') ?? '')?.[1] ?? '';
}

// -------------------------------------------------------------------------------------------
// 1. The AWS SigV4 test suite.

interface Suite {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  service: string;
  timestamp: string;
  vectors: { name: string; source: string; sessionToken?: string }[];
}

// From test/protocol (ts source) or dist/test/protocol (compiled).
const FIXTURES = [
  join(__dirname, '..', 'fixtures', 'sigv4'),
  join(__dirname, '..', '..', '..', 'test', 'fixtures', 'sigv4'),
].find((dir) => existsSync(join(dir, 'suite.json')));
assert.ok(FIXTURES, 'test/fixtures/sigv4 not found');
const suite = JSON.parse(readFileSync(join(FIXTURES, 'suite.json'), 'utf8')) as Suite;

/** Parses a signed-request file into what Node would hand the server (values trimmed, as llhttp does). */
function parseSignedRequest(text: string): SignedRequest {
  const sep = text.indexOf('\n\n');
  const head = sep < 0 ? text : text.slice(0, sep);
  const body = sep < 0 ? '' : text.slice(sep + 2);
  const [requestLine, ...lines] = head.split('\n');
  const first = requestLine!.indexOf(' ');
  const last = requestLine!.lastIndexOf(' ');
  const rawHeaders: string[] = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    rawHeaders.push(line.slice(0, colon), line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, ''));
  }
  return {
    method: requestLine!.slice(0, first),
    url: requestLine!.slice(first + 1, last),
    rawHeaders,
    body: Buffer.from(body, 'utf8'),
  };
}

function suiteVerifier(sessionToken?: string): SigV4Verifier<SigningCredential> {
  const credential: SigningCredential = {
    accessKeyId: suite.accessKeyId,
    secret: suite.secretAccessKey,
    ...(sessionToken === undefined ? {} : { sessionToken }),
  };
  return new SigV4Verifier({ resolve: (id) => (id === suite.accessKeyId ? credential : undefined) }, {
    services: new Set([suite.service]),
    regions: new Set([suite.region]),
    clock: new ManualClock(Date.parse(suite.timestamp)),
  });
}

test('the fixture set holds at least 15 AWS SigV4 suite vectors', () => {
  assert.ok(suite.vectors.length >= 15, `only ${suite.vectors.length} vectors`);
});

for (const vector of suite.vectors) {
  const text = readFileSync(join(FIXTURES, `${vector.name}.sreq`), 'utf8');
  const request = parseSignedRequest(text);
  const verifier = suiteVerifier(vector.sessionToken);
  const secrets = [suite.secretAccessKey, signatureOf(request), ...(vector.sessionToken ? [vector.sessionToken] : [])];
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(header(request, 'authorization')!)![1]!.split(';');
  // The suite's post-sts-header-after adds X-Amz-Security-Token after signing. AWS's services
  // (and Keyhold, issue 8) require every x-amz-* header to be signed, so it must be refused.
  const unsignedAmz = request.rawHeaders.filter((h, i) => i % 2 === 0 && h.toLowerCase().startsWith('x-amz-') && !signedHeaders.includes(h.toLowerCase()));
  if (unsignedAmz.length > 0) {
    test(`SigV4 suite ${vector.name}: an unsigned ${unsignedAmz[0]} header is refused with InvalidSignatureException`, () => {
      expectError(() => verifier.verify(request), 'InvalidSignatureException', `'${unsignedAmz[0]!.toLowerCase()}' must be a 'SignedHeader' in the AWS Authorization.`, secrets);
    });
    continue;
  }
  // With x-amz-content-sha256 present, a body change is caught by that header before the HMAC.
  const bodyTamperMessage =
    header(request, 'x-amz-content-sha256') === undefined ? MISMATCH : CONTENT_SHA256_MISMATCH;

  test(`SigV4 suite ${vector.name}: accepted`, () => {
    const result = verifier.verify(request);
    assert.equal(result.credential.accessKeyId, suite.accessKeyId);
    assert.equal(result.region, suite.region);
    assert.equal(result.service, suite.service);
    assert.equal(result.amzDate, '20150830T123600Z');
  });

  test(`SigV4 suite ${vector.name}: a changed body byte is rejected with InvalidSignatureException`, () => {
    const body = Buffer.from(request.body);
    const tampered = body.length === 0 ? Buffer.from('x') : (body[0]! ^= 1, body);
    expectError(
      () => verifier.verify({ ...request, body: tampered }),
      'InvalidSignatureException',
      bodyTamperMessage,
      secrets,
    );
  });

  test(`SigV4 suite ${vector.name}: a changed signed header is rejected with InvalidSignatureException`, () => {
    // The date and token headers have their own checks; x-amz-content-sha256 is tied to the body.
    const ownChecks = ['x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256'];
    const plain = signedHeaders.filter((h) => !ownChecks.includes(h));
    assert.ok(plain.includes('host'));
    for (const name of plain) {
      const tampered = withHeader(request, name, (v) => String.fromCharCode(v.charCodeAt(0) ^ 1) + v.slice(1));
      expectError(() => verifier.verify(tampered), 'InvalidSignatureException', MISMATCH, secrets);
    }
  });

  test(`SigV4 suite ${vector.name}: a changed signature digit is rejected with InvalidSignatureException`, () => {
    const tampered = withHeader(request, 'authorization', (v) =>
      v.replace(/Signature=(.)/, (_, c: string) => `Signature=${c === '0' ? '1' : '0'}`),
    );
    expectError(() => verifier.verify(tampered), 'InvalidSignatureException', MISMATCH, secrets);
  });
}

test('canonical URI and query follow the generic (non-S3) suite rules', () => {
  assert.equal(canonicalUri('/'), '/');
  assert.equal(canonicalUri('//example//'), '/example/');
  assert.equal(canonicalUri('/example1/example2/../..'), '/');
  assert.equal(canonicalUri('/./example'), '/example');
  assert.equal(canonicalUri('/example space/'), '/example%20space/');
  assert.equal(canonicalUri('/a%20b'), '/a%2520b'); // already-encoded path is encoded again
  assert.equal(canonicalUri('/\u1234'), '/%E1%88%B4');
  assert.equal(canonicalQuery('Param2=value2&Param1=value1'), 'Param1=value1&Param2=value2');
  assert.equal(canonicalQuery('Param1=value2&Param1=Value1'), 'Param1=Value1&Param1=value2');
  assert.equal(
    canonicalQuery('Param-3=Value3&Param=Value2&%E1%88%B4=Value1'),
    '%E1%88%B4=Value1&Param=Value2&Param-3=Value3',
  );
  assert.equal(canonicalQuery('flag&a=b%2Fc&x=a+b'), 'a=b%2Fc&flag=&x=a%2Bb');
});

// -------------------------------------------------------------------------------------------
// 2. Requests signed like the AWS SDK signs a KMS call.

const T0 = Date.UTC(2026, 2, 14, 15, 9, 26); // 20260314T150926Z
const REGION = 'eu-west-1';
const HOST = `kms.${REGION}.amazonaws.com`;
const AKID = 'AKIAKEYHOLDTEST00001';
const SECRET = 'kHoLdTeStSeCrEt/0123456789abcdefghijKLMN';
const STS_AKID = 'ASIAKEYHOLDTEST00002';
const STS_SECRET = 'StSsEcReT/abcdefghijklmnopqrstuvwxyz01234';
const STS_TOKEN = 'FwoGZXIvYXdzEKeyholdSessionToken//////////wEaDExampleTokenValue+/=';

interface Principal extends SigningCredential {
  readonly arn: string;
}

const PRINCIPALS: ReadonlyMap<string, Principal> = new Map([
  [AKID, { accessKeyId: AKID, secret: SECRET, arn: 'arn:aws:iam::111122223333:user/alice' }],
  [
    STS_AKID,
    {
      accessKeyId: STS_AKID,
      secret: STS_SECRET,
      sessionToken: STS_TOKEN,
      arn: 'arn:aws:sts::111122223333:assumed-role/r/s',
    },
  ],
]);
const NO_LEAK = [SECRET, STS_SECRET, STS_TOKEN];

function kmsVerifier(
  clock = new ManualClock(T0),
  resolver = { resolve: (id: string) => PRINCIPALS.get(id) },
): SigV4Verifier<Principal> {
  return new SigV4Verifier(resolver, {
    services: new Set(['kms']),
    regions: new Set([REGION, 'us-east-1']),
    clock,
  });
}

interface SignOptions {
  accessKeyId?: string;
  secret?: string;
  sessionToken?: string;
  region?: string;
  service?: string;
  date?: number;
  target?: string;
  body?: string;
  unsignableHeaders?: Set<string>;
}

/** Signs a KMS JSON call with @smithy/signature-v4, with the headers the JS SDK sends. */
async function signKms(o: SignOptions = {}): Promise<SignedRequest> {
  const body = o.body ?? JSON.stringify({ KeyId: 'alias/keyhold-test', Plaintext: 'aGVsbG8gd29ybGQ=' });
  const request = new HttpRequest({
    method: 'POST',
    protocol: 'https:',
    hostname: HOST,
    path: '/',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': o.target ?? 'TrentService.Encrypt',
      host: HOST,
      'content-length': String(Buffer.byteLength(body)),
      'x-amz-user-agent': 'aws-sdk-js/3.1164.0',
      'user-agent': 'aws-sdk-js/3.1164.0 ua/2.1 os/linux lang/js md/nodejs#20 api/kms#3.1164.0',
      'amz-sdk-invocation-id': '3c5bd8c8-8c6a-4e0e-9a44-6d0b8f0a4a5e',
      'amz-sdk-request': 'attempt=1; max=3',
    },
    body,
  });
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: o.accessKeyId ?? AKID,
      secretAccessKey: o.secret ?? SECRET,
      ...(o.sessionToken === undefined ? {} : { sessionToken: o.sessionToken }),
    },
    region: o.region ?? REGION,
    service: o.service ?? 'kms',
    sha256: Sha256,
  });
  const signed = await signer.sign(request, {
    signingDate: new Date(o.date ?? T0),
    ...(o.unsignableHeaders === undefined ? {} : { unsignableHeaders: o.unsignableHeaders }),
  });
  const rawHeaders: string[] = [];
  for (const [name, value] of Object.entries(signed.headers)) rawHeaders.push(name, value);
  return { method: signed.method, url: signed.path, rawHeaders, body: Buffer.from(body, 'utf8') };
}

test('a KMS call signed by @smithy/signature-v4 is accepted; the credential comes back untouched', async () => {
  const req = await signKms();
  const verified = kmsVerifier().verify(req);
  assert.equal(verified.credential, PRINCIPALS.get(AKID));
  assert.equal(verified.credential.arn, 'arn:aws:iam::111122223333:user/alice');
  assert.equal(verified.region, REGION);
  assert.equal(verified.service, 'kms');
  assert.equal(verified.amzDate, '20260314T150926Z');
});

test('header names are matched case-insensitively, as sent by other SDKs', async () => {
  const req = await signKms();
  const capitalize = (name: string) => name.replace(/(^|-)[a-z]/g, (m) => m.toUpperCase());
  const upper = { ...req, rawHeaders: req.rawHeaders.map((v, i) => (i % 2 === 0 ? capitalize(v) : v)) };
  assert.ok(upper.rawHeaders.includes('X-Amz-Target'));
  assert.equal(kmsVerifier().verify(upper).credential.accessKeyId, AKID);
});

test('a request signed with the wrong secret is rejected with InvalidSignatureException', async () => {
  const req = await signKms({ secret: 'not-the-secret' });
  expectError(() => kmsVerifier().verify(req), 'InvalidSignatureException', MISMATCH, [...NO_LEAK, signatureOf(req)]);
});

test('an unknown access key id is rejected with UnrecognizedClientException', async () => {
  const req = await signKms({ accessKeyId: 'AKIAUNKNOWNKEY000000' });
  expectError(() => kmsVerifier().verify(req), 'UnrecognizedClientException', INVALID_TOKEN, NO_LEAK);
});

test('a request without Authorization is rejected with MissingAuthenticationTokenException', async () => {
  const req = withHeader(await signKms(), 'authorization', () => undefined);
  expectError(() => kmsVerifier().verify(req), 'MissingAuthenticationTokenException', 'Missing Authentication Token');
});

test('a presigned (query-string) request is rejected with IncompleteSignatureException', async () => {
  const req = withHeader(await signKms(), 'authorization', () => undefined);
  const presigned = { ...req, url: '/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=x&X-Amz-Signature=00' };
  expectError(
    () => kmsVerifier().verify(presigned),
    'IncompleteSignatureException',
    'Query-string authentication is not supported by this service; sign the request with the Authorization header.',
  );
});

test('a garbled Authorization header is rejected with IncompleteSignatureException', async () => {
  const req = await signKms();
  const auth = header(req, 'authorization')!;
  const sig = signatureOf(req);
  const cases: [string, string][] = [
    ['Bearer eyJhbGciOiJIUzI1NiJ9.secret-bearer', UNSUPPORTED_ALGORITHM],
    [auth.replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA512'), UNSUPPORTED_ALGORITHM],
    [
      'AWS4-HMAC-SHA256',
      "Authorization header requires 'Credential' parameter. " +
        "Authorization header requires 'Signature' parameter. " +
        "Authorization header requires 'SignedHeaders' parameter.",
    ],
    [auth.replace(/, Signature=[0-9a-f]+/, ''), "Authorization header requires 'Signature' parameter."],
    [auth.replace(/SignedHeaders=[^,]+, /, ''), "Authorization header requires 'SignedHeaders' parameter."],
    [
      auth.replace('Credential=', 'Credential '),
      'A component of the Authorization header is not a valid key=value pair (missing equal-sign).',
    ],
    [auth.replace(`/${REGION}/kms/`, '/kms/'), BAD_CREDENTIAL],
    [auth.replace(`Credential=${AKID}`, 'Credential='), BAD_CREDENTIAL],
    [auth.replace(sig, sig.toUpperCase()), BAD_SIGNATURE],
    [auth.replace(sig, sig.slice(1)), BAD_SIGNATURE],
    [`${auth}, Signature=${sig}`, "Authorization header has more than one 'Signature' parameter."],
  ];
  for (const [value, message] of cases) {
    const garbled = withHeader(req, 'authorization', () => value);
    expectError(() => kmsVerifier().verify(garbled), 'IncompleteSignatureException', message, [
      ...NO_LEAK,
      sig,
      'secret-bearer',
    ]);
  }
});

test('a request without X-Amz-Date or Date is rejected with IncompleteSignatureException', async () => {
  const req = withHeader(await signKms(), 'x-amz-date', () => undefined);
  expectError(
    () => kmsVerifier().verify(req),
    'IncompleteSignatureException',
    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
  );
});

test('a malformed X-Amz-Date is rejected with IncompleteSignatureException', async () => {
  const req = withHeader(await signKms(), 'x-amz-date', () => '2026-03-14T15:09:26Z');
  expectError(
    () => kmsVerifier().verify(req),
    'IncompleteSignatureException',
    "Date must be in ISO-8601 'basic format'. Got '2026-03-14T15:09:26Z'. See http://en.wikipedia.org/wiki/ISO_8601",
  );
});

test('an unsigned host header is rejected with IncompleteSignatureException', async () => {
  const req = await signKms({ unsignableHeaders: new Set(['host']) });
  assert.ok(!/SignedHeaders=[^,]*host/.test(header(req, 'authorization')!));
  expectError(
    () => kmsVerifier().verify(req),
    'IncompleteSignatureException',
    "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
  );
});

test('an unsigned X-Amz-Date header is rejected with IncompleteSignatureException', async () => {
  const req = await signKms();
  const tampered = withHeader(req, 'authorization', (v) => v.replace(';x-amz-date', ''));
  expectError(
    () => kmsVerifier().verify(tampered),
    'IncompleteSignatureException',
    "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.",
  );
});

test('a repeated Authorization header is rejected with IncompleteSignatureException', async () => {
  const req = await signKms();
  const twice = { ...req, rawHeaders: [...req.rawHeaders, 'Authorization', header(req, 'authorization')!] };
  expectError(
    () => kmsVerifier().verify(twice),
    'IncompleteSignatureException',
    "The request must not repeat the 'Authorization' header.",
  );
});

test('six minutes of clock skew either way is rejected with InvalidSignatureException', async () => {
  const late = await signKms({ date: T0 - 6 * 60_000 });
  expectError(
    () => kmsVerifier().verify(late),
    'InvalidSignatureException',
    'Signature expired: 20260314T150326Z is now earlier than 20260314T150426Z (20260314T150926Z - 5 min.)',
  );
  const early = await signKms({ date: T0 + 6 * 60_000 });
  expectError(
    () => kmsVerifier().verify(early),
    'InvalidSignatureException',
    'Signature not yet current: 20260314T151526Z is still later than 20260314T151426Z (20260314T150926Z + 5 min.)',
  );
});

test('four minutes of clock skew either way is accepted', async () => {
  for (const date of [T0 - 4 * 60_000, T0 + 4 * 60_000]) {
    assert.equal(kmsVerifier().verify(await signKms({ date })).credential.accessKeyId, AKID);
  }
});

test('the skew window follows maxSkewMs and a moving clock', async () => {
  const clock = new ManualClock(T0);
  const verifier = new SigV4Verifier({ resolve: (id: string) => PRINCIPALS.get(id) }, {
    services: new Set(['kms']),
    regions: new Set([REGION]),
    clock,
    maxSkewMs: 15 * 60_000,
  });
  const req = await signKms();
  clock.advance(14 * 60_000);
  assert.equal(verifier.verify(req).amzDate, '20260314T150926Z');
  clock.advance(2 * 60_000);
  expectError(
    () => verifier.verify(req),
    'InvalidSignatureException',
    'Signature expired: 20260314T150926Z is now earlier than 20260314T151026Z (20260314T152526Z - 15 min.)',
  );
});

test('a credential scoped to an unserved region is rejected with InvalidSignatureException', async () => {
  const req = await signKms({ region: 'ap-south-2' });
  expectError(
    () => kmsVerifier().verify(req),
    'InvalidSignatureException',
    "Credential should be scoped to a valid region, not 'ap-south-2'. ",
  );
});

test('a credential scoped to another service is rejected with InvalidSignatureException', async () => {
  const req = await signKms({ service: 'sqs' });
  expectError(
    () => kmsVerifier().verify(req),
    'InvalidSignatureException',
    "Credential should be scoped to correct service: 'kms'. ",
  );
});

test('a credential scope dated another day is rejected with InvalidSignatureException', async () => {
  const req = withHeader(await signKms(), 'authorization', (v) => v.replace('/20260314/', '/20260313/'));
  expectError(
    () => kmsVerifier().verify(req),
    'InvalidSignatureException',
    'Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: ' +
      "'20260313' != '20260314', from '20260314T150926Z'.",
  );
});

test('a credential scope with another terminator is rejected with InvalidSignatureException', async () => {
  const req = withHeader(await signKms(), 'authorization', (v) => v.replace('/aws4_request', '/aws4_reqest'));
  expectError(
    () => kmsVerifier().verify(req),
    'InvalidSignatureException',
    "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_reqest'. ",
  );
});

test('temporary credentials are accepted with their session token', async () => {
  const req = await signKms({ accessKeyId: STS_AKID, secret: STS_SECRET, sessionToken: STS_TOKEN });
  assert.equal(header(req, 'x-amz-security-token'), STS_TOKEN);
  assert.equal(kmsVerifier().verify(req).credential.arn, 'arn:aws:sts::111122223333:assumed-role/r/s');
});

test('temporary credentials without their session token are rejected with UnrecognizedClientException', async () => {
  const req = await signKms({ accessKeyId: STS_AKID, secret: STS_SECRET });
  expectError(() => kmsVerifier().verify(req), 'UnrecognizedClientException', INVALID_TOKEN, NO_LEAK);
});

test('temporary credentials with another session token are rejected with UnrecognizedClientException', async () => {
  for (const token of [STS_TOKEN.slice(0, -1) + 'A', STS_TOKEN + 'x', 'short']) {
    const req = await signKms({ accessKeyId: STS_AKID, secret: STS_SECRET, sessionToken: token });
    expectError(() => kmsVerifier().verify(req), 'UnrecognizedClientException', INVALID_TOKEN, [...NO_LEAK, token]);
  }
});

test('a long-term key presented with a session token is rejected with UnrecognizedClientException', async () => {
  const req = await signKms({ sessionToken: STS_TOKEN });
  expectError(() => kmsVerifier().verify(req), 'UnrecognizedClientException', INVALID_TOKEN, NO_LEAK);
});

test('a tampered X-Amz-Target is rejected with InvalidSignatureException', async () => {
  const signed = await signKms({ target: 'TrentService.Encrypt' });
  const req = withHeader(signed, 'x-amz-target', () => 'TrentService.ScheduleKeyDeletion');
  expectError(() => kmsVerifier().verify(req), 'InvalidSignatureException', MISMATCH);
});

test('a tampered body is rejected with InvalidSignatureException', async () => {
  const req = await signKms();
  // The JS SDK sends x-amz-content-sha256 (smithy applyChecksum defaults to true) ...
  const tampered = { ...req, body: Buffer.from(req.body.toString().replace('keyhold-test', 'keyhold-tesT')) };
  expectError(() => kmsVerifier().verify(tampered), 'InvalidSignatureException', CONTENT_SHA256_MISMATCH);
  // ... and without it the signature itself covers the body hash.
  const unsignedSha = await signKms({ unsignableHeaders: new Set(['x-amz-content-sha256']) });
  const bare = withHeader(unsignedSha, 'x-amz-content-sha256', () => undefined);
  assert.equal(kmsVerifier().verify(bare).credential.accessKeyId, AKID);
  expectError(() => kmsVerifier().verify({ ...bare, body: tampered.body }), 'InvalidSignatureException', MISMATCH);
});

test('UNSIGNED-PAYLOAD is rejected with InvalidSignatureException', async () => {
  const req = withHeader(await signKms(), 'x-amz-content-sha256', () => 'UNSIGNED-PAYLOAD');
  expectError(
    () => kmsVerifier().verify(req),
    'InvalidSignatureException',
    "This service requires a signed payload; 'X-Amz-Content-Sha256' must be the SHA-256 of the request body.",
  );
});

test('an HTTP Date header may stand in for X-Amz-Date', async () => {
  // Build the request by hand; smithy's string signer supplies an independent HMAC chain.
  const signer = new SignatureV4({
    credentials: { accessKeyId: AKID, secretAccessKey: SECRET },
    region: REGION,
    service: 'kms',
    sha256: Sha256,
  });
  const body = '{}';
  const date = 'Sat, 14 Mar 2026 15:09:26 GMT';
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  const scope = `20260314/${REGION}/kms/aws4_request`;
  const canonical = [
    'POST', '/', '',
    `date:${date}`, `host:${HOST}`, 'x-amz-target:TrentService.ListKeys', '',
    'date;host;x-amz-target',
    sha(body),
  ].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', '20260314T150926Z', scope, sha(canonical)].join('\n');
  const signature = await signer.sign(stringToSign, { signingDate: new Date(T0) });
  const authorization =
    `AWS4-HMAC-SHA256 Credential=${AKID}/${scope}, SignedHeaders=date;host;x-amz-target, Signature=${signature}`;
  const req: SignedRequest = {
    method: 'POST',
    url: '/',
    rawHeaders: ['Host', HOST, 'Date', date, 'X-Amz-Target', 'TrentService.ListKeys', 'Authorization', authorization],
    body: Buffer.from(body),
  };
  assert.equal(kmsVerifier().verify(req).amzDate, '20260314T150926Z');
});

test('a rotated secret invalidates the cached signing key', async () => {
  let current: Principal = { accessKeyId: AKID, secret: SECRET, arn: 'arn:aws:iam::111122223333:user/alice' };
  const verifier = kmsVerifier(new ManualClock(T0), { resolve: (id) => (id === AKID ? current : undefined) });
  const before = await signKms();
  verifier.verify(before); // warms the cache
  current = { ...current, secret: 'rotated/SECRET0123456789abcdefghijklmnop' };
  expectError(() => verifier.verify(before), 'InvalidSignatureException', MISMATCH);
  assert.equal(verifier.verify(await signKms({ secret: current.secret })).credential, current);
});

test('the signing-key cache stays correct when it is full', async () => {
  const verifier = new SigV4Verifier({ resolve: (id: string) => PRINCIPALS.get(id) }, {
    services: new Set(['kms']),
    regions: new Set([REGION, 'us-east-1']),
    clock: new ManualClock(T0),
    cacheSize: 1,
  });
  const a = await signKms();
  const b = await signKms({ region: 'us-east-1' });
  const c = await signKms({ accessKeyId: STS_AKID, secret: STS_SECRET, sessionToken: STS_TOKEN });
  for (let i = 0; i < 3; i++) {
    for (const req of [a, b, c]) verifier.verify(req);
  }
});

test('the constructor rejects an unusable configuration', () => {
  const resolver = { resolve: () => undefined };
  const clock = new ManualClock();
  const base = { services: new Set(['kms']), regions: new Set(['x']), clock };
  assert.throws(() => new SigV4Verifier(resolver, { ...base, services: new Set() }), /options.services/);
  assert.throws(() => new SigV4Verifier(resolver, { ...base, regions: new Set() }), /options.regions/);
  assert.throws(() => new SigV4Verifier(resolver, { ...base, cacheSize: 0 }), /options.cacheSize/);
  assert.throws(() => new SigV4Verifier(resolver, { ...base, maxSkewMs: NaN }), /options.maxSkewMs/);
});

// -------------------------------------------------------------------------------------------
// 3. The real client over a real socket: Node's rawHeaders, the SDK's own header set.

test('@aws-sdk/client-kms over HTTP is verified from Node rawHeaders', async () => {
  const verifier = kmsVerifier(new ManualClock(Date.now()));
  const seen: string[] = [];
  const JSON_TYPE = { 'content-type': 'application/x-amz-json-1.1' };
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const body = Buffer.concat(chunks);
        const v = verifier.verify({ method: req.method!, url: req.url!, rawHeaders: req.rawHeaders, body });
        seen.push(v.credential.arn);
        res.writeHead(200, JSON_TYPE).end('{"Keys":[],"Truncated":false}');
      } catch (err) {
        const e = err as ServiceError;
        seen.push(e.name);
        res.writeHead(e.status, JSON_TYPE).end(JSON.stringify({ __type: e.name, message: e.message }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const client = (secretAccessKey: string) =>
      new KMSClient({ region: REGION, endpoint, credentials: { accessKeyId: AKID, secretAccessKey }, maxAttempts: 1 });
    const good = client(SECRET);
    const out = await good.send(new ListKeysCommand({ Limit: 10 }));
    assert.deepEqual(out.Keys, []);
    const bad = client('wrong');
    await assert.rejects(bad.send(new ListKeysCommand({})), { name: 'InvalidSignatureException', message: MISMATCH });
    good.destroy();
    bad.destroy();
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  assert.deepEqual(seen, ['arn:aws:iam::111122223333:user/alice', 'InvalidSignatureException']);
});

// Issue 8: wire strictness.

test('an unsigned X-Amz-Target is refused: a captured DescribeKey cannot be replayed as DisableKey', async () => {
  const req = await signKms({ target: 'TrentService.DescribeKey', unsignableHeaders: new Set(['x-amz-target']) });
  assert.ok(!/SignedHeaders=[^,]*x-amz-target/.test(header(req, 'authorization')!));
  const replayed = withHeader(req, 'x-amz-target', () => 'TrentService.DisableKey');
  for (const r of [req, replayed]) {
    expectError(() => kmsVerifier().verify(r), 'InvalidSignatureException', "'x-amz-target' must be a 'SignedHeader' in the AWS Authorization.", [signatureOf(req)]);
  }
});

test('every unsigned x-amz-* header is refused, whatever its case; x-amzn-* (trace ids) need no signature', async () => {
  const req = await signKms();
  const extra = { ...req, rawHeaders: [...req.rawHeaders, 'X-Amz-Meta-Extra', 'v'] };
  expectError(() => kmsVerifier().verify(extra), 'InvalidSignatureException', "'x-amz-meta-extra' must be a 'SignedHeader' in the AWS Authorization.");
  const traced = { ...req, rawHeaders: [...req.rawHeaders, 'X-Amzn-Trace-Id', 'Root=1-5759e988-bd862e3fe1be46a994272793'] };
  assert.equal(kmsVerifier().verify(traced).service, 'kms');
});

test('an unknown parameter in the Authorization header is refused with IncompleteSignatureException', async () => {
  const req = await signKms();
  const sig = signatureOf(req);
  const extra = withHeader(req, 'authorization', (v) => `${v}, Extra=1`);
  expectError(
    () => kmsVerifier().verify(extra),
    'IncompleteSignatureException',
    "Authorization header has an unsupported parameter 'Extra'; only 'Credential', 'SignedHeaders' and 'Signature' are allowed.",
    [sig],
  );
});
