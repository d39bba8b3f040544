/**
 * Test harness: runs the real `bin/keyhold serve` as a child process on a free port with a fresh
 * data directory, and gives tests an AWS SDK v3 KMS client pointed at it.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import type { AuditTestHooks } from '../../src/audit/thread-protocol';
import { killTree } from './processes';

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
export const KEYHOLD_BIN = join(REPO_ROOT, 'bin', 'keyhold');

/** Credentials read from a data directory's shared-credentials file. */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** A running server. */
export interface TestServer {
  readonly port: number;
  readonly endpoint: string;
  readonly dataDir: string;
  readonly region: string;
  readonly process: ChildProcess;
  readonly credentials: Credentials;
  readonly accountId: string;
  /** Output the server wrote so far. */
  output(): string;
  client(overrides?: Partial<Credentials> & { region?: string }): KMSClient;
  /** SIGTERM, resolving to the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL. */
  kill(): Promise<void>;
}

/** Options for starting a server. */
export interface StartOptions {
  dataDir?: string;
  workers?: number;
  region?: string;
  accountId?: string;
  env?: Record<string, string>;
  args?: string[];
  /** The server serves HTTPS (pass --tls-cert/--tls-key in args or env): `endpoint` is https and `client()` trusts this PEM CA. */
  tlsCa?: string | Buffer;
  /** How long to wait for "keyhold ready" (default 30 s); past it the server and its workers are killed. */
  startTimeoutMs?: number;
  /** The audit trail's test hooks: the server runs from the test-only entry that injects them (keyhold-audit-hooks.ts). */
  auditTestHooks?: AuditTestHooks;
}

/** Reads the [default] profile of a shared-credentials file. */
export function readCredentials(dataDir: string): Credentials {
  const text = readFileSync(join(dataDir, 'credentials'), 'utf8');
  const id = /aws_access_key_id\s*=\s*(\S+)/.exec(text)?.[1];
  const secret = /aws_secret_access_key\s*=\s*(\S+)/.exec(text)?.[1];
  if (id === undefined || secret === undefined) throw new Error('credentials file has no default profile');
  return { accessKeyId: id, secretAccessKey: secret };
}

/** A new empty temporary directory. */
export function tempDir(prefix = 'keyhold-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Where the servers of this test process keep their state (issue 14: the conformance suite and
 * the authorization matrix run on SQLite and on PostgreSQL). Unset: SQLite in each data
 * directory, as a plain `keyhold serve`. Set (test/helpers/on-postgres.ts): every data directory
 * gets its own PostgreSQL database, created the first time a server starts on it and kept for
 * later starts on the same directory.
 */
export interface ServerStoreBackend {
  /** The environment a server on `dataDir` starts with (KEYHOLD_STORE and friends); creates its database on first sight. */
  serverEnv(dataDir: string): Promise<Record<string, string>>;
  /** The environment a `keyhold` command on `dataDir` runs with; undefined for a directory no server started on. */
  commandEnv(dataDir: string): Record<string, string> | undefined;
}

let storeBackend: ServerStoreBackend | undefined;

/** Sets (or with undefined clears) where this process's servers keep their state. */
export function setServerStoreBackend(backend: ServerStoreBackend | undefined): void {
  storeBackend = backend;
}

/** Where this process's servers keep their state (undefined: SQLite in the data directory). */
export function serverStoreBackend(): ServerStoreBackend | undefined {
  return storeBackend;
}

/** Starts `keyhold serve` and waits until it is ready. */
export async function startServer(opts: StartOptions = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? tempDir();
  const backendEnv = storeBackend === undefined ? {} : await storeBackend.serverEnv(dataDir);
  const region = opts.region ?? 'us-east-1';
  const entry = opts.auditTestHooks === undefined ? [KEYHOLD_BIN] : [join(__dirname, 'keyhold-audit-hooks.js'), JSON.stringify(opts.auditTestHooks)];
  const args = [...entry, 'serve', '--port', '0', '--data-dir', dataDir, '--region', region,
    '--workers', String(opts.workers ?? 1), ...(opts.accountId ? ['--account-id', opts.accountId] : []), ...(opts.args ?? [])];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, KEYHOLD_LOG_LEVEL: 'info', ...backendEnv, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const port = await new Promise<number>((resolvePort, reject) => {
    const startTimeoutMs = opts.startTimeoutMs ?? 30_000;
    const timer = setTimeout(() => {
      // Kill it, workers included, before failing: a child left running past its timeout leaked (two under load).
      child.off('exit', onExit);
      killTree(child.pid!).then(
        (pids) => reject(new Error(`server did not start in ${startTimeoutMs} ms; killed pids ${pids.join(', ')}:\n${out}`)),
        (e: unknown) => reject(e instanceof Error ? e : new Error(String(e))),
      );
    }, startTimeoutMs);
    const onData = (): void => {
      for (const line of out.split('\n')) {
        if (!line.includes('keyhold ready')) continue;
        try {
          const rec = JSON.parse(line) as { port: number };
          clearTimeout(timer);
          child.stdout!.off('data', onData);
          resolvePort(rec.port);
          return;
        } catch {
          /* partial line */
        }
      }
    };
    child.stdout!.on('data', onData);
    const onExit = (code: number | null): void => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    };
    child.once('exit', onExit);
  });
  // A data directory provisioned before its first start (keyhold credentials create) has no credentials file.
  const hasFile = existsSync(join(dataDir, 'credentials'));
  const credentials = hasFile ? readCredentials(dataDir) : { accessKeyId: '', secretAccessKey: '' };
  const accountId = hasFile ? (/account (\d{12})/.exec(readFileSync(join(dataDir, 'credentials'), 'utf8'))?.[1] ?? '') : '';
  const endpoint = `${opts.tlsCa === undefined ? 'http' : 'https'}://127.0.0.1:${port}`;
  const requestHandler = opts.tlsCa === undefined ? undefined : { httpsAgent: new HttpsAgent({ ca: opts.tlsCa }) };
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    port,
    endpoint,
    dataDir,
    region,
    process: child,
    credentials,
    accountId,
    output: () => out,
    client(overrides = {}) {
      return new KMSClient({
        endpoint,
        region: overrides.region ?? region,
        credentials: {
          accessKeyId: overrides.accessKeyId ?? credentials.accessKeyId,
          secretAccessKey: overrides.secretAccessKey ?? credentials.secretAccessKey,
        },
        maxAttempts: 1,
        ...(requestHandler === undefined ? {} : { requestHandler }),
      });
    },
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Removes a data directory. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Stops `server` (when it was started) and removes its data directory; asserts the exit code first when `expect` names one. */
export async function stopAndRemove(server: TestServer | undefined, expect: { exitCode?: number } = {}): Promise<void> {
  if (server === undefined) return;
  const code = await server.stop();
  if (expect.exitCode !== undefined) assert.equal(code, expect.exitCode);
  removeDir(server.dataDir);
}
