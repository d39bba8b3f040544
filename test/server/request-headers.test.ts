/** The listener's one-pass header scan reads what Node's `req.headers` would give, duplicates included. */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { scanRequestHeaders } from '../../src/server/request-headers';

/** Sends `head` (request line and header lines) to a real node:http server; returns what it parsed. */
async function parsed(lines: string[]): Promise<IncomingMessage> {
  let got: IncomingMessage | undefined;
  const server = createServer((req, res) => {
    got = req;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.end(['POST / HTTP/1.1', 'Host: x', 'Connection: close', ...lines, '', ''].join('\r\n')));
    s.on('data', () => {});
    s.on('close', () => resolve());
    s.on('error', reject);
  });
  await new Promise<void>((r) => server.close(() => r()));
  assert.ok(got !== undefined, 'the server saw the request');
  return got;
}

const CASES: string[][] = [
  ['Content-Type: application/x-amz-json-1.1', 'X-Amz-Target: TrentService.Encrypt', 'Authorization: AWS4-HMAC-SHA256 a', 'User-Agent: ua'],
  ['content-type: a', 'CONTENT-TYPE: b', 'x-amz-target: T.A', 'X-AMZ-TARGET: T.B', 'authorization: one', 'Authorization: two', 'user-agent: u1', 'User-Agent: u2'],
  ['X-Amz-Targetx: no', 'x-amz-date: 20260101T000000Z', 'Content-Length: 0'],
  [],
];

test('scanRequestHeaders equals req.headers for the headers the listener reads', async () => {
  for (const lines of CASES) {
    const req = await parsed(lines);
    const h = scanRequestHeaders(req.rawHeaders);
    const want = req.headers;
    assert.equal(h.contentType, want['content-type'], lines.join(' | '));
    assert.equal(h.contentLength, want['content-length'], lines.join(' | '));
    assert.equal(h.target, want['x-amz-target'], lines.join(' | '));
    assert.equal(h.authorization, want.authorization, lines.join(' | '));
    assert.equal(h.userAgent, want['user-agent'], lines.join(' | '));
  }
});

test('duplicates: the first Content-Type/Authorization/User-Agent wins, X-Amz-Target values are joined', () => {
  const h = scanRequestHeaders(['Content-Type', 'a', 'content-type', 'b', 'X-Amz-Target', 'T.A', 'x-amz-target', 'T.B', 'Authorization', '1', 'authorization', '2']);
  assert.equal(h.contentType, 'a');
  assert.equal(h.target, 'T.A, T.B');
  assert.equal(h.authorization, '1');
  assert.equal(h.userAgent, undefined);
});
