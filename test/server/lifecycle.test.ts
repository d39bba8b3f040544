/**
 * Operator behaviour of `bin/keyhold serve` (docs/architecture.md §7, issue 2 "Project and operator
 * interface"): SIGTERM drains in-flight requests and exits 0; one server per data directory;
 * `keyhold credentials create` before the first start and on a live directory; secrets are
 * stored wrapped; file modes; /healthz; and the wire-level errors for bad requests, signed with
 * @smithy/signature-v4 exactly as an SDK signs them.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateKeyCommand, EncryptCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { KEYHOLD_BIN, removeDir, startServer, tempDir, type Credentials, type TestServer } from '../helpers/server';
import { send, sign, type Answer } from '../identity/wire';

/** SigV4-signs a KMS awsJson1_1 request the way the AWS SDK does; returns the headers to send. */
function signedHeaders(
  port: number,
  target: string | undefined,
  body: string | Buffer,
  creds: Credentials,
  region = 'us-east-1',
): Promise<Record<string, string>> {
  const headers: Record<string, string> = { 'content-type': 'application/x-amz-json-1.1' };
  if (target !== undefined) headers['x-amz-target'] = target;
  return sign(port, 'kms', region, headers, body, creds);
}

/** Asserts an awsJson1_1 error response: status, __type, and the headers every response has. */
function assertError(res: Answer, status: number, type: string): { __type: string; message: string } {
  assert.ok(res.status >= 400 && res.status < 500, `expected a 4xx, got ${res.status}: ${res.body}`);
  assert.equal(res.status, status, res.body);
  assert.ok(res.headers['x-amzn-requestid'], 'x-amzn-RequestId header missing');
  assert.ok(res.headers.date && !Number.isNaN(Date.parse(res.headers.date)), 'Date header missing');
  const parsed = JSON.parse(res.body) as { __type: string; message: string };
  assert.equal(parsed.__type, type);
  assert.equal(typeof parsed.message, 'string');
  assert.ok(parsed.message.length > 0);
  return parsed;
}

/** Runs `bin/keyhold <args>`; resolves with exit code and output. */
function keyhold(args: string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [KEYHOLD_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('SIGTERM drains in-flight requests and exits 0', () => {
  for (const workers of [1, 2]) {
    test(`with ${workers} worker(s)`, async () => {
      const server = await startServer({ workers });
      try {
        const kms = server.client();
        const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
        kms.destroy();

        // Several requests whose headers and half of their body the server has already received.
        const plaintexts = Array.from({ length: 6 }, () => randomBytes(64));
        const inflight = await Promise.all(
          plaintexts.map(async (pt) => {
            const body = Buffer.from(JSON.stringify({ KeyId: keyId, Plaintext: pt.toString('base64') }));
            const headers = await signedHeaders(server.port, 'TrentService.Encrypt', body, server.credentials);
            let finish!: () => void;
            const done = new Promise<Answer>((resolve, reject) => {
              const req = request({ host: '127.0.0.1', port: server.port, method: 'POST', path: '/', headers, agent: false }, (res) => {
                const chunks: Buffer[] = [];
                res.on('data', (c: Buffer) => chunks.push(c));
                res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
              });
              req.on('error', reject);
              req.flushHeaders();
              req.write(body.subarray(0, 20));
              finish = () => req.end(body.subarray(20));
            });
            return { done, finish, pt };
          }),
        );
        await sleep(300); // the server has read the headers and the first bytes

        const exitCode = server.stop();
        await sleep(400); // shutdown has begun while the requests are still open
        assert.equal(server.process.exitCode, null, 'the server exited before its in-flight requests completed');
        for (const r of inflight) r.finish();

        const results = await Promise.all(inflight.map((r) => r.done));
        for (const res of results) {
          assert.equal(res.status, 200, res.body);
          const out = JSON.parse(res.body) as { CiphertextBlob: string; KeyId: string };
          assert.ok(out.CiphertextBlob.length > 0);
          assert.match(out.KeyId, new RegExp(`:key/${keyId}$`));
        }
        assert.equal(await exitCode, 0, `exit code after SIGTERM:\n${server.output()}`);
      } finally {
        await server.kill();
        removeDir(server.dataDir);
      }
    });
  }
});

describe('operator interface', () => {
  let server: TestServer;

  before(async () => {
    server = await startServer({ workers: 2 });
  });
  after(async () => {
    if (server) {
      assert.equal(await server.stop(), 0, server.output());
      removeDir(server.dataDir);
    }
  });

  test('a second serve on the same data directory refuses while the first keeps serving', async () => {
    const second = await keyhold(['serve', '--port', '0', '--data-dir', server.dataDir, '--workers', '1']);
    assert.notEqual(second.code, 0);
    assert.notEqual(second.code, null, 'the second server did not exit');
    assert.match(second.stderr + second.stdout, /already using the data directory/);
    const kms = server.client();
    try {
      const out = await kms.send(new ListKeysCommand({}));
      assert.ok(Array.isArray(out.Keys));
    } finally {
      kms.destroy();
    }
    assert.equal(server.process.exitCode, null);
  });

  test('GET /healthz answers 200', async () => {
    const res = await send(server.port, {}, '', 'GET', '/healthz');
    assert.equal(res.status, 200);
    assert.ok(res.headers['x-amzn-requestid']);
  });

  test('GET /metrics reports the whole cluster, whichever worker answers', async () => {
    // New connections are dealt to the 2 workers in turn, so both count some of these.
    const calls = 12;
    for (let i = 0; i < calls; i++) {
      const headers = await signedHeaders(server.port, 'TrentService.GenerateRandom', '{"NumberOfBytes":8}', server.credentials);
      assert.equal((await send(server.port, headers, '{"NumberOfBytes":8}')).status, 200);
    }
    const totals: number[] = [];
    const workers = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const res = await send(server.port, {}, '', 'GET', '/metrics');
      assert.equal(res.status, 200);
      let total = 0;
      for (const m of res.body.matchAll(/^keyhold_requests_total\{([^}]*)\} (\d+)$/gm)) {
        if (!m[1]!.includes('operation="GenerateRandom"') || !m[1]!.includes('status="200"')) continue;
        total += Number(m[2]);
        workers.add(/worker="(\d+)"/.exec(m[1]!)?.[1] ?? '?');
      }
      totals.push(total);
    }
    assert.deepEqual(totals, totals.map(() => calls), 'every scrape counts every worker\'s requests');
    assert.equal(workers.size, 2, `series of both workers: ${[...workers].join(', ')}`);
  });

  test('GET /metrics counts the audit commits and the records they carried, per worker', async () => {
    const scrape = async (): Promise<{ commits: number; records: number; workers: Set<string> }> => {
      const res = await send(server.port, {}, '', 'GET', '/metrics');
      assert.equal(res.status, 200);
      const sum = (name: string, workers: Set<string>): number => {
        let n = 0;
        for (const m of res.body.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\d+)$`, 'gm'))) {
          n += Number(m[2]);
          workers.add(/worker="(\d+)"/.exec(m[1]!)?.[1] ?? '?');
        }
        return n;
      };
      const workers = new Set<string>();
      return { commits: sum('keyhold_audit_commits_total', workers), records: sum('keyhold_audit_records_total', workers), workers };
    };
    const before = await scrape();
    const calls = 6;
    for (let i = 0; i < calls; i++) {
      const headers = await signedHeaders(server.port, 'TrentService.GenerateRandom', '{"NumberOfBytes":8}', server.credentials);
      assert.equal((await send(server.port, headers, '{"NumberOfBytes":8}')).status, 200);
    }
    const after = await scrape();
    assert.equal(after.workers.size, 2, `series of both workers: ${[...after.workers].join(', ')}`);
    // One request at a time: every answered call is one record, and each commit carries at least one.
    assert.ok(after.records - before.records >= calls, `records ${before.records} -> ${after.records}`);
    assert.ok(after.commits - before.commits >= 1, `commits ${before.commits} -> ${after.commits}`);
    assert.ok(after.commits - before.commits <= after.records - before.records, 'no commit without a record');
  });

  test('DIR/credentials (and the generated master key file) have mode 0600', () => {
    assert.equal(statSync(join(server.dataDir, 'credentials')).mode & 0o777, 0o600);
    const keyFile = join(server.dataDir, 'master.key');
    if (existsSync(keyFile)) assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.equal(statSync(server.dataDir).mode & 0o077, 0, 'the data directory is readable by others');
  });

  test('credentials create on the live data directory: the new key works at once', async () => {
    const id = 'LIVE' + randomBytes(6).toString('hex').toUpperCase();
    // base64url may begin with '-', which an option's separate argument cannot: pass it with '='.
    const secret = randomBytes(24).toString('base64url');
    const r = await keyhold(['credentials', 'create', '--data-dir', server.dataDir, '--access-key-id', id, `--secret-access-key=${secret}`, '--account-id', server.accountId]);
    assert.equal(r.code, 0, r.stderr);
    const kms = server.client({ accessKeyId: id, secretAccessKey: secret });
    try {
      // Both workers must accept it: several requests on fresh connections.
      for (let i = 0; i < 6; i++) await kms.send(new ListKeysCommand({}));
      const created = await kms.send(new CreateKeyCommand({}));
      assert.equal(created.KeyMetadata!.AWSAccountId, server.accountId);
    } finally {
      kms.destroy();
    }
  });

  test('credentials create on an existing data directory without --account-id uses its account', async () => {
    const id = 'NOACCT' + randomBytes(6).toString('hex').toUpperCase();
    // base64url may begin with '-', which an option's separate argument cannot: pass it with '='.
    const secret = randomBytes(24).toString('base64url');
    const r = await keyhold(['credentials', 'create', '--data-dir', server.dataDir, '--access-key-id', id, `--secret-access-key=${secret}`]);
    assert.equal(r.code, 0, r.stderr);
    const kms = server.client({ accessKeyId: id, secretAccessKey: secret });
    try {
      const created = await kms.send(new CreateKeyCommand({}));
      assert.equal(created.KeyMetadata!.AWSAccountId, server.accountId, 'the key was provisioned in another account than the data directory\'s');
    } finally {
      kms.destroy();
    }
  });

  test('no secret is stored in plaintext in the data directory or logged', async () => {
    const id = 'WRAP' + randomBytes(6).toString('hex').toUpperCase();
    const secret = 'S3cr3t' + randomBytes(20).toString('hex');
    const r = await keyhold(['credentials', 'create', '--data-dir', server.dataDir, '--access-key-id', id, '--secret-access-key', secret, '--account-id', server.accountId]);
    assert.equal(r.code, 0, r.stderr);
    const kms = server.client({ accessKeyId: id, secretAccessKey: secret });
    try {
      await kms.send(new ListKeysCommand({}));
    } finally {
      kms.destroy();
    }
    const secrets = [server.credentials.secretAccessKey, secret];
    const files = readdirSync(server.dataDir).filter((f) => f !== 'credentials');
    assert.ok(files.includes('keyhold.db'), `no keyhold.db in ${files.join(', ')}`);
    for (const f of files) {
      const path = join(server.dataDir, f);
      if (!statSync(path).isFile()) continue;
      const bytes = readFileSync(path);
      for (const s of secrets) {
        for (const form of [Buffer.from(s, 'utf8'), Buffer.from(s, 'utf16le'), Buffer.from(Buffer.from(s).toString('base64').slice(0, 24))]) {
          assert.ok(!bytes.includes(form), `${f} contains an access-key secret in plaintext`);
        }
      }
    }
    for (const s of secrets) assert.ok(!server.output().includes(s), 'the server log contains an access-key secret');
    assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), 'credentials create echoed the secret');
  });

  describe('bad requests get a 4xx awsJson1_1 error, never a 5xx', () => {
    test('a 2 MiB body → 413 with a JSON error, and the server keeps serving', async () => {
      const big = Buffer.from(JSON.stringify({ KeyId: 'x', Plaintext: 'A'.repeat(2 * 1024 * 1024) }));
      const headers = await signedHeaders(server.port, 'TrentService.Encrypt', big, server.credentials);
      const res = await send(server.port, headers, big);
      assert.equal(res.status, 413, res.body);
      assert.ok(res.headers['x-amzn-requestid']);
      assert.ok(res.headers.date);
      const err = JSON.parse(res.body) as { __type: string; message: string };
      assert.equal(typeof err.__type, 'string');
      assert.ok(err.message.length > 0);

      // Without Content-Length (chunked) the limit holds too.
      const chunked = await new Promise<Answer>((resolve, reject) => {
        const { 'content-length': _cl, ...h } = headers;
        const req = request({ host: '127.0.0.1', port: server.port, method: 'POST', path: '/', headers: { ...h, 'transfer-encoding': 'chunked' }, agent: false }, (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers, body: Buffer.concat(chunks).toString('utf8') }));
        });
        req.on('error', reject);
        for (let i = 0; i < big.length; i += 64 * 1024) req.write(big.subarray(i, i + 64 * 1024));
        req.end();
      });
      assert.equal(chunked.status, 413, chunked.body);

      const kms = server.client();
      try {
        const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
        const out = await kms.send(new EncryptCommand({ KeyId: key, Plaintext: Buffer.from('still serving') }));
        assert.ok(out.CiphertextBlob && out.CiphertextBlob.length > 0);
      } finally {
        kms.destroy();
      }
    });

    test('malformed JSON with a valid signature → 400 SerializationException', async () => {
      for (const body of ['{"KeyId": ', 'not json', '[1,2]', '"string"']) {
        const headers = await signedHeaders(server.port, 'TrentService.ListKeys', body, server.credentials);
        assertError(await send(server.port, headers, body), 400, 'SerializationException');
      }
    });

    test('an unknown X-Amz-Target (signed) → 400 UnknownOperationException', async () => {
      for (const target of ['TrentService.FlyToTheMoon', 'OtherService.ListKeys', 'TrentService.__proto__', 'TrentService.constructor']) {
        const headers = await signedHeaders(server.port, target, '{}', server.credentials);
        assertError(await send(server.port, headers, '{}'), 400, 'UnknownOperationException');
      }
      const noTarget = await signedHeaders(server.port, undefined, '{}', server.credentials);
      assertError(await send(server.port, noTarget, '{}'), 400, 'UnknownOperationException');
    });

    test('no Authorization header → MissingAuthenticationTokenException', async () => {
      const res = await send(server.port, { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.ListKeys' }, '{}');
      assertError(res, 400, 'MissingAuthenticationTokenException');
    });

    test('a wrong secret → InvalidSignatureException', async () => {
      const headers = await signedHeaders(server.port, 'TrentService.ListKeys', '{}', {
        accessKeyId: server.credentials.accessKeyId,
        secretAccessKey: server.credentials.secretAccessKey + 'x',
      });
      const err = assertError(await send(server.port, headers, '{}'), 400, 'InvalidSignatureException');
      assert.ok(!err.message.includes(server.credentials.secretAccessKey));
    });

    test('a tampered body → InvalidSignatureException', async () => {
      const headers = await signedHeaders(server.port, 'TrentService.ListKeys', '{"Limit":10}', server.credentials);
      assertError(await send(server.port, headers, '{"Limit":11}'), 400, 'InvalidSignatureException');
    });

    test('an unknown access key → UnrecognizedClientException', async () => {
      const headers = await signedHeaders(server.port, 'TrentService.ListKeys', '{}', { accessKeyId: 'AKIANOTAKEY000000000', secretAccessKey: 'whatever' });
      assertError(await send(server.port, headers, '{}'), 400, 'UnrecognizedClientException');
    });

    test('a valid signed request succeeds on the same raw path (control)', async () => {
      const headers = await signedHeaders(server.port, 'TrentService.ListKeys', '{}', server.credentials);
      const res = await send(server.port, headers, '{}');
      assert.equal(res.status, 200, res.body);
      assert.ok(res.headers['x-amzn-requestid']);
      assert.ok(res.headers.date);
      assert.ok(Array.isArray((JSON.parse(res.body) as { Keys: unknown[] }).Keys));
    });
  });
});

describe('credentials create before the first start', () => {
  let parent: string;
  let server: TestServer | undefined;
  after(async () => {
    if (server) assert.equal(await server.stop(), 0);
    if (parent) removeDir(parent);
  });

  test('testing/testing in account 123456789012 works once the server starts', async () => {
    parent = tempDir();
    const dataDir = join(parent, 'fresh'); // a data directory that does not exist yet
    const r = await keyhold(['credentials', 'create', '--data-dir', dataDir, '--access-key-id', 'testing', '--secret-access-key', 'testing', '--account-id', '123456789012']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes('secret-access-key testing'));

    server = await startServer({ dataDir });
    const kms = server.client({ accessKeyId: 'testing', secretAccessKey: 'testing' });
    try {
      const created = await kms.send(new CreateKeyCommand({ Description: 'ci' }));
      assert.equal(created.KeyMetadata!.AWSAccountId, '123456789012');
      assert.equal(created.KeyMetadata!.Arn, `arn:aws:kms:us-east-1:123456789012:key/${created.KeyMetadata!.KeyId}`);
      const listed = await kms.send(new ListKeysCommand({}));
      assert.deepEqual(listed.Keys?.map((k) => k.KeyId), [created.KeyMetadata!.KeyId]);
    } finally {
      kms.destroy();
    }
    // A wrong secret for `testing` is still refused.
    const bad = server.client({ accessKeyId: 'testing', secretAccessKey: 'testinG' });
    try {
      await assert.rejects(bad.send(new ListKeysCommand({})), (e: Error) => e.name === 'InvalidSignatureException');
    } finally {
      bad.destroy();
    }
  });
});
