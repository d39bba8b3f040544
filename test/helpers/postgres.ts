/**
 * A throwaway PostgreSQL cluster for tests (issue 14): `initdb` into a temporary directory, its
 * own socket directory and a free loopback port, the postmaster a child of the test process,
 * stopped by PID. initdb refuses to run as root, and CI runs as root: then initdb runs as the
 * `postgres` user (created by Debian's `postgresql` package, which .ci/run installs) through
 * `runuser`, and the postmaster is spawned with that user's uid/gid. As any other user both run
 * as that user.
 *
 * One cluster per test file (`usePostgres()` registers the before/after hooks); a fresh database
 * per test where a test needs one (`createDatabase`). TCP connections authenticate with
 * scram-sha-256, so the password paths of src/store/postgres/connection.ts are exercised; the
 * superuser's password is handed to clients as an option, never in a URL.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { Client } from 'pg';
import { PostgresPool } from '../../src/store/postgres/connection';
import { childrenOf } from './processes';

/** The directory of PostgreSQL's binaries: PG_BIN, else the newest /usr/lib/postgresql/N/bin (Debian). */
export function postgresBinDir(): string {
  const fromEnv = process.env.PG_BIN;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0] === undefined) {
    throw new Error('PostgreSQL is not installed: no /usr/lib/postgresql/*/bin/initdb (apt-get install postgresql, as .ci/run does, or set PG_BIN)');
  }
  return join(root, versions[0], 'bin');
}

/** uid and gid of the `postgres` user when the tests run as root (initdb refuses root). */
function runAs(): { uid: number; gid: number; name: string } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string): number => {
    const r = spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error('running as root needs the `postgres` user (created by the postgresql package) to run initdb: apt-get install postgresql');
    return Number(r.stdout.trim());
  };
  return { uid: id('-u'), gid: id('-g'), name: 'postgres' };
}

/** A free loopback TCP port (the kernel's pick, released again). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** How a cluster is stopped: `fast` (SIGINT: clean) or `immediate` (SIGQUIT: like a crash, recovery at next start). */
export type StopMode = 'fast' | 'immediate';

/** A running (or stopped) throwaway cluster. */
export interface PgCluster {
  readonly host: string;
  readonly port: number;
  /** The superuser (the `postgres` user under root, else the current user). */
  readonly user: string;
  /** The superuser's password (scram-sha-256 over TCP). */
  readonly password: string;
  /** A file holding that password (what --store-password-file names). */
  readonly passwordFile: string;
  readonly dataDir: string;
  /** PID of the postmaster (undefined while stopped). */
  readonly pid: number | undefined;
  /** `postgres://USER@127.0.0.1:PORT/DB` — no password in it. */
  url(database?: string): string;
  /** Creates a new empty database and returns its name. */
  createDatabase(prefix?: string): Promise<string>;
  /** Runs one SQL statement as the superuser in `database`. */
  query(sql: string, params?: unknown[], database?: string): Promise<Record<string, unknown>[]>;
  /** Stops the postmaster by PID and waits for it to exit. */
  stop(mode?: StopMode): Promise<void>;
  /** Starts it again on the same port and data directory; resolves once it accepts connections. */
  start(): Promise<void>;
  /** SIGSTOPs (true) or SIGCONTs (false) the postmaster and every backend: a database that hangs without refusing. */
  freeze(frozen: boolean): void;
  /** Stops it and removes its files. */
  destroy(): Promise<void>;
  /**
   * Lets the test process exit while the postmaster runs (it is sent SIGQUIT at exit): a file
   * whose `after` hook never ran (node:test skips later `after` hooks once one throws) then ends
   * instead of hanging the whole run.
   */
  unref(): void;
}

/** Options of a throwaway cluster. */
export interface PgClusterOptions {
  /** Serve TLS with this PEM certificate and key (copied into the cluster, owned by its user, 0600). */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
}

/** Starts a throwaway cluster. */
export async function startPostgres(options: PgClusterOptions = {}): Promise<PgCluster> {
  const bin = postgresBinDir();
  const as = runAs();
  // Under root the `postgres` user must reach the directory: /tmp, whatever TMPDIR says.
  const root = mkdtempSync(join(as === undefined ? tmpdir() : '/tmp', 'keyhold-pg-'));
  const dataDir = join(root, 'data');
  const socketDir = join(root, 'sock');
  mkdirSync(socketDir);
  const password = randomBytes(18).toString('base64url');
  const pwfile = join(root, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  const tlsArgs: string[] = [];
  const owned = [root, socketDir, pwfile];
  if (options.tls !== undefined) {
    // PostgreSQL refuses a key file others can read; it must belong to the server's user.
    const cert = join(root, 'server.crt');
    const key = join(root, 'server.key');
    copyFileSync(options.tls.certFile, cert);
    copyFileSync(options.tls.keyFile, key);
    chmodSync(key, 0o600);
    owned.push(cert, key);
    tlsArgs.push('-c', 'ssl=on', '-c', `ssl_cert_file=${cert}`, '-c', `ssl_key_file=${key}`);
  }
  if (as !== undefined) {
    for (const p of owned) chownSync(p, as.uid, as.gid);
  }
  const user = as?.name ?? (spawnSync('id', ['-un'], { encoding: 'utf8' }).stdout.trim() || 'postgres');
  const initArgs = [
    join(bin, 'initdb'), '-D', dataDir, '-U', user, `--pwfile=${pwfile}`,
    '--auth-local=trust', '--auth-host=scram-sha-256', '--encoding=UTF8', '--locale=C', '--no-sync',
  ];
  const init = as === undefined ? spawnSync(initArgs[0] as string, initArgs.slice(1), { encoding: 'utf8' }) : spawnSync('runuser', ['-u', as.name, '--', ...initArgs], { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed (${init.status}): ${init.stderr || init.error?.message}`);
  rmSync(pwfile, { force: true });
  // The superuser's password for clients (--store-password-file), readable by the tests only.
  const clientPasswordFile = join(root, 'client-password');
  writeFileSync(clientPasswordFile, `${password}\n`, { mode: 0o600 });

  let port = 0;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let log = '';
  /** Set after the first start: later starts keep the port (tests restart the same cluster). */
  let portFixed = false;
  let unrefd = false;
  const refChild = (c: ChildProcess, ref: boolean): void => {
    type Handle = { ref?: () => void; unref?: () => void } | null;
    for (const h of [c, c.stdout as unknown as Handle, c.stderr as unknown as Handle]) (ref ? h?.ref : h?.unref)?.call(h);
  };
  const unrefChild = (c: ChildProcess): void => refChild(c, false);

  const spawnPostmaster = (): void => {
    log = '';
    // Durability settings stay at their defaults (fsync on, synchronous_commit on): the tests
    // check that acknowledged records survive an immediate shutdown.
    const args = ['-D', dataDir, '-p', String(port), '-k', socketDir, '-c', 'listen_addresses=127.0.0.1',
      '-c', 'max_connections=100', '-c', 'shared_buffers=16MB', '-c', 'log_min_messages=warning', ...tlsArgs];
    const c = spawn(join(bin, 'postgres'), args, { stdio: ['ignore', 'pipe', 'pipe'], ...(as === undefined ? {} : { uid: as.uid, gid: as.gid }) });
    c.stdout?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-8192)));
    c.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-8192)));
    child = c;
    if (unrefd) unrefChild(c);
    exited = new Promise((resolve) => c.once('exit', () => resolve()));
  };

  /** Waits until a connection succeeds (readiness), or the postmaster exits. */
  const ready = async (): Promise<void> => {
    const deadline = Date.now() + 60_000;
    const c = child;
    let gone = false;
    void exited.then(() => (gone = true));
    for (;;) {
      if (gone) throw new Error(`postgres exited during start-up: ${log}`);
      const client = new Client({ host: '127.0.0.1', port, user, password, database: 'postgres', connectionTimeoutMillis: 2000 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('SELECT 1');
        await client.end();
        return;
      } catch (e) {
        await client.end().catch(() => undefined);
        if (Date.now() > deadline) throw new Error(`postgres did not accept connections within 60 s (${(e as Error).message}): ${log}`);
        if (c !== child) throw new Error('postgres was stopped during start-up');
        await sleep(50);
      }
    }
  };

  const start = async (): Promise<void> => {
    if (child !== undefined) return;
    // A port taken between our pick and the bind fails the start: pick another (first start only).
    for (let attempt = 0; ; attempt++) {
      if (port === 0) port = await freePort();
      spawnPostmaster();
      try {
        await ready();
        return;
      } catch (e) {
        child = undefined;
        if (attempt < 3 && /could not bind|Address already in use/.test(log) && !portFixed) {
          port = 0;
          continue;
        }
        throw e;
      }
    }
  };
  const stop = async (mode: StopMode = 'fast'): Promise<void> => {
    const c = child;
    if (c === undefined) return;
    child = undefined;
    // Waiting for its exit must keep this process alive (see unref()).
    refChild(c, true);
    freezeAll(c.pid, false);
    c.kill(mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
    const timer = setTimeout(() => c.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
    if (mode === 'immediate') {
      // Backends of an immediately stopped postmaster exit on their own; wait so the port and
      // shared memory are free before the next start.
      const deadline = Date.now() + 30_000;
      while (existsSync(join(dataDir, 'postmaster.pid')) && Date.now() < deadline) await sleep(20);
    }
  };

  const onExit = (): void => {
    if (child?.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGCONT');
        process.kill(child.pid, 'SIGQUIT');
      } catch {
        /* gone */
      }
    }
  };
  process.once('exit', onExit);

  await start();
  portFixed = true;

  const admin = async <T>(database: string, work: (c: Client) => Promise<T>): Promise<T> => {
    const client = new Client({ host: '127.0.0.1', port, user, password, database, connectionTimeoutMillis: 10_000 });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  let dbCounter = 0;

  return {
    host: '127.0.0.1',
    get port() {
      return port;
    },
    user,
    password,
    passwordFile: clientPasswordFile,
    dataDir,
    get pid() {
      return child?.pid;
    },
    url: (database = 'postgres') => `postgres://${encodeURIComponent(user)}@127.0.0.1:${port}/${database}`,
    createDatabase: async (prefix = 'keyhold_test') => {
      dbCounter += 1;
      const name = `${prefix}_${process.pid}_${dbCounter}`;
      await admin('postgres', (c) => c.query(`CREATE DATABASE ${name}`));
      return name;
    },
    query: (sql, params = [], database = 'postgres') => admin(database, async (c) => (await c.query(sql, params)).rows as Record<string, unknown>[]),
    stop,
    start,
    freeze: (frozen) => freezeAll(child?.pid, frozen),
    destroy: async () => {
      await stop('fast');
      process.removeListener('exit', onExit);
      rmSync(root, { recursive: true, force: true });
    },
    unref: () => {
      unrefd = true;
      if (child !== undefined) unrefChild(child);
    },
  };
}

/** SIGSTOP/SIGCONT the postmaster and its children (processes this harness started). */
function freezeAll(pid: number | undefined, frozen: boolean): void {
  if (pid === undefined) return;
  const pids = frozen ? [pid, ...childrenOf(pid)] : [...childrenOf(pid), pid];
  for (const p of pids) {
    try {
      process.kill(p, frozen ? 'SIGSTOP' : 'SIGCONT');
    } catch {
      /* exited meanwhile */
    }
  }
}

/**
 * One cluster for the calling test file: started in a `before` hook, destroyed in an `after`
 * hook (and SIGQUIT on process exit). Call at the top level of the file; the getter throws
 * before the hook ran.
 */
export function usePostgres(options: PgClusterOptions | (() => PgClusterOptions) = {}): () => PgCluster {
  let cluster: PgCluster | undefined;
  before(async () => {
    cluster = await startPostgres(typeof options === 'function' ? options() : options);
  }, { timeout: 120_000 });
  after(async () => {
    await cluster?.destroy();
  }, { timeout: 60_000 });
  return () => {
    if (cluster === undefined) throw new Error('the PostgreSQL cluster is not running (usePostgres() must be called at the top level of the test file)');
    return cluster;
  };
}

/** Makes `path` readable only by its owner (libpq and connection.ts ignore a .pgpass others can read). */
export function ownerOnly(path: string): void {
  chmodSync(path, 0o600);
}

/**
 * A pool on `database` of `cluster`, authenticating with the cluster's password file. By default
 * its timeouts are patient (30 s), so a loaded CI machine never turns a slow answer into a
 * failure the test is not about; `realTimeouts` keeps the production bounds (outage tests).
 */
export function openTestPool(
  cluster: PgCluster,
  database: string,
  o: { realTimeouts?: boolean; max?: number; env?: NodeJS.ProcessEnv; onIdleError?: (e: Error) => void } = {},
): PostgresPool {
  const patient = o.realTimeouts === true ? {} : { connectTimeoutMs: 30_000, queryTimeoutMs: 30_000, deadlineMs: 60_000 };
  return new PostgresPool({
    url: cluster.url(database),
    passwordFile: cluster.passwordFile,
    env: o.env ?? {},
    max: o.max ?? 4,
    onIdleError: o.onIdleError ?? (() => undefined),
    ...patient,
  });
}
