/**
 * Operator-facing hardening (issue 12 items 6 and 10): what every start says about the data
 * directory, no administrator minted for a store that has accounts, `credentials create` reading
 * its secret from a file or stdin, umask 077 for every command, a warning for plain HTTP beyond
 * loopback, the per-worker connection cap, and /metrics on a listener of its own.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { request } from 'node:http';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ListKeysCommand } from '@aws-sdk/client-kms';
import { KEYHOLD_BIN, removeDir, startServer, tempDir, type TestServer } from '../helpers/server';

const MASTER_KEY_WARNING = 'the master key file is inside the data directory';
const PLAINTEXT_WARNING = 'the credentials file holds an administrator secret in plain text';

/** Runs `bin/keyhold` through sh with `umask 000` first, feeding `stdin`. */
function keyholdUnderUmask0(args: string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const quoted = [process.execPath, KEYHOLD_BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const child = spawn('/bin/sh', ['-c', `umask 000; exec ${quoted}`], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}

/** GET http://127.0.0.1:port/path; status and body. */
function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Lines of a server's JSON log whose msg includes `text`. */
function logLines(server: TestServer, text: string): string[] {
  return server.output().split('\n').filter((l) => l.includes(text));
}

describe('the data directory on every start', () => {
  test('every start warns that the master key file and the administrator secret sit in the data directory', async () => {
    const dataDir = tempDir();
    try {
      for (let start = 1; start <= 2; start++) {
        const server = await startServer({ dataDir });
        try {
          assert.equal(logLines(server, MASTER_KEY_WARNING).length, 1, `start ${start}: ${server.output()}`);
          assert.match(logLines(server, MASTER_KEY_WARNING)[0] as string, /"level":40/);
          assert.equal(logLines(server, PLAINTEXT_WARNING).length, 1, `start ${start}`);
        } finally {
          assert.equal(await server.stop(), 0);
        }
      }
    } finally {
      removeDir(dataDir);
    }
  });

  test('no master key warning with the key file on another volume or with a passphrase', async () => {
    const keyDir = tempDir();
    const keyFile = join(keyDir, 'master.key');
    writeFileSync(keyFile, 'a-master-key-kept-elsewhere-0123456789abcdef\n', { mode: 0o600 });
    for (const opts of [{ args: ['--master-key-file', keyFile] }, { env: { KEYHOLD_MASTER_PASSPHRASE: 'correct horse battery staple' } }]) {
      const server = await startServer(opts);
      try {
        assert.deepEqual(logLines(server, MASTER_KEY_WARNING), []);
        assert.ok(!existsSync(join(server.dataDir, 'master.key')));
      } finally {
        assert.equal(await server.stop(), 0);
        removeDir(server.dataDir);
      }
    }
    removeDir(keyDir);
  });

  test('a deleted credentials file never mints a new administrator; the log names the command that restores access', async () => {
    const first = await startServer();
    const { dataDir, credentials, accountId } = first;
    assert.equal(await first.stop(), 0);
    rmSync(join(dataDir, 'credentials'));
    const again = await startServer({ dataDir });
    try {
      assert.ok(!existsSync(join(dataDir, 'credentials')), 'a new credentials file was written');
      const lines = logLines(again, 'no administrator was created');
      assert.equal(lines.length, 1, again.output());
      assert.ok((lines[0] as string).includes(`keyhold credentials create --data-dir ${dataDir} --account-id ${accountId}`), lines[0]);
      assert.deepEqual(logLines(again, 'created account and administrator'), []);
      // The administrator made at the first start still works, and is the only way in.
      const kms = again.client(credentials);
      try {
        await kms.send(new ListKeysCommand({}));
      } finally {
        kms.destroy();
      }
    } finally {
      assert.equal(await again.stop(), 0);
      removeDir(dataDir);
    }
  });
});

describe('keyhold credentials create', () => {
  test('reads the secret from stdin or a file; warns on the command line and below 40 characters; every file it makes is 0600 under umask 000', async () => {
    const parent = tempDir();
    const dataDir = join(parent, 'fresh');
    const longSecret = 'L'.repeat(20) + 'stdin-secret-0123456789abcdef';
    try {
      const fromStdin = await keyholdUnderUmask0(
        ['credentials', 'create', '--data-dir', dataDir, '--access-key-id', 'FROMSTDIN1', '--secret-access-key-file', '-', '--account-id', '123456789012'],
        longSecret + '\n',
      );
      assert.equal(fromStdin.code, 0, fromStdin.stderr);
      assert.equal(fromStdin.stderr.includes('warning'), false, fromStdin.stderr);
      // umask 077 whatever the caller's: the data directory and everything in it are the user's only.
      const modes = [dataDir, ...readdirSync(dataDir).map((f) => join(dataDir, f))].map((p) => [p, statSync(p).mode & 0o077] as const);
      assert.ok(modes.length >= 3, `${modes.length} entries`);
      for (const [p, bits] of modes) assert.equal(bits, 0, `${p} is open to group or others`);

      const file = join(parent, 'secret.txt');
      writeFileSync(file, 'short-file-secret\n', { mode: 0o600 });
      const fromFile = await keyholdUnderUmask0(['credentials', 'create', '--data-dir', dataDir, '--access-key-id', 'FROMFILE1', '--secret-access-key-file', file]);
      assert.equal(fromFile.code, 0, fromFile.stderr);
      assert.equal(fromFile.stderr, "warning: the secret is shorter than AWS's 40 characters; use short fixed secrets only for test fixtures\n");

      const inline = await keyholdUnderUmask0(['credentials', 'create', '--data-dir', dataDir, '--access-key-id', 'INLINE1', '--secret-access-key', 'testing']);
      assert.equal(inline.code, 0, inline.stderr);
      assert.match(inline.stderr, /warning: --secret-access-key puts the secret in the process list and shell history/);
      assert.match(inline.stderr, /shorter than AWS's 40 characters/);

      const both = await keyholdUnderUmask0(['credentials', 'create', '--data-dir', dataDir, '--access-key-id', 'BOTH1', '--secret-access-key', 'x'.repeat(40), '--secret-access-key-file', file]);
      assert.equal(both.code, 2);
      assert.match(both.stderr, /needs one of --secret-access-key-file and --secret-access-key/);
      for (const run of [fromStdin, fromFile, inline]) assert.ok(!run.stdout.includes('short-file-secret') && !run.stdout.includes(longSecret));

      // Provisioned before the first start: the store has an account, so no administrator is minted; the keys work.
      const server = await startServer({ dataDir });
      try {
        assert.ok(!existsSync(join(dataDir, 'credentials')));
        for (const [accessKeyId, secretAccessKey] of [['FROMSTDIN1', longSecret], ['FROMFILE1', 'short-file-secret'], ['INLINE1', 'testing']] as const) {
          const kms = server.client({ accessKeyId, secretAccessKey });
          try {
            await kms.send(new ListKeysCommand({}));
          } finally {
            kms.destroy();
          }
        }
      } finally {
        assert.equal(await server.stop(), 0);
      }
    } finally {
      removeDir(parent);
    }
  });
});

describe('serving', () => {
  test('plain HTTP beyond loopback is warned about; on loopback it is not', async () => {
    const open = await startServer({ args: ['--host', '0.0.0.0'] });
    try {
      assert.equal(logLines(open, 'serving plain HTTP beyond loopback').length, 1, open.output());
    } finally {
      assert.equal(await open.stop(), 0);
      removeDir(open.dataDir);
    }
    const local = await startServer();
    try {
      assert.deepEqual(logLines(local, 'serving plain HTTP beyond loopback'), []);
    } finally {
      assert.equal(await local.stop(), 0);
      removeDir(local.dataDir);
    }
  });

  test('--max-connections: connections beyond the cap are closed unanswered; those within are served', async () => {
    const server = await startServer({ args: ['--max-connections', '2'] });
    const sockets: Socket[] = [];
    const open = (): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const s = connect(server.port, '127.0.0.1', () => resolve(s));
        s.on('error', () => undefined);
        s.once('error', reject);
        sockets.push(s);
      });
    /** Sends GET /healthz on `s`; resolves to what came back before the socket closed or 10 s passed. */
    const healthz = (s: Socket): Promise<string> =>
      new Promise((resolve) => {
        let got = '';
        const timer = setTimeout(() => resolve(got), 10_000);
        s.on('data', (d: Buffer) => {
          got += d.toString();
          if (got.includes('{"status":"ok"}')) {
            clearTimeout(timer);
            resolve(got);
          }
        });
        s.on('close', () => {
          clearTimeout(timer);
          resolve(got);
        });
        s.write('GET /healthz HTTP/1.1\r\nHost: keyhold\r\n\r\n');
      });
    try {
      const a = await open();
      const b = await open();
      assert.match(await healthz(a), /^HTTP\/1\.1 200/);
      assert.match(await healthz(b), /^HTTP\/1\.1 200/);
      const c = await open();
      assert.equal(await healthz(c), '', 'a third connection was served');
      a.destroy();
      // Once one closes, a new connection is served (the server may notice the close a moment later).
      let served = '';
      for (let i = 0; i < 50 && !served.startsWith('HTTP/1.1 200'); i++) {
        await new Promise((r) => setTimeout(r, 100));
        served = await healthz(await open());
      }
      assert.match(served, /^HTTP\/1\.1 200/);
    } finally {
      for (const s of sockets) s.destroy();
      assert.equal(await server.stop(), 0);
      removeDir(server.dataDir);
    }
  });

  for (const workers of [1, 2]) {
    test(`--metrics-port moves /metrics to its own listener (${workers} worker${workers === 1 ? '' : 's'})`, async () => {
      const server = await startServer({ workers, args: ['--metrics-port', '0'], env: { KEYHOLD_METRICS_HOST: '127.0.0.1' } });
      try {
        const line = logLines(server, 'metrics listening')[0];
        assert.ok(line !== undefined, server.output());
        const metricsPort = (JSON.parse(line) as { port: number }).port;
        assert.notEqual(metricsPort, server.port);
        const kms = server.client();
        try {
          for (let i = 0; i < 4; i++) await kms.send(new ListKeysCommand({}));
        } finally {
          kms.destroy();
        }
        const scraped = await get(metricsPort, '/metrics');
        assert.equal(scraped.status, 200);
        const total = [...scraped.body.matchAll(/^keyhold_requests_total\{[^}]*operation="ListKeys"[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
        assert.equal(total, 4, scraped.body);
        assert.equal((await get(metricsPort, '/')).status, 404);
        // The API port no longer answers /metrics.
        const onApi = await get(server.port, '/metrics');
        assert.notEqual(onApi.status, 200);
        assert.ok(!onApi.body.includes('keyhold_requests_total'));
        assert.equal((await get(server.port, '/healthz')).status, 200);
      } finally {
        assert.equal(await server.stop(), 0);
        removeDir(server.dataDir);
      }
    });
  }
});
