/**
 * The PostgreSQL connection of a Keyhold node (issue 14): one `pg` pool per process, opened from
 * `--store postgres://USER@HOST:PORT/DB` (KEYHOLD_STORE).
 *
 * - The password never comes from the command line, where every local user can read it (ps,
 *   /proc/PID/cmdline): a URL holding one is refused. It comes from --store-password-file, else
 *   PGPASSWORD, else a .pgpass file (PGPASSFILE or ~/.pgpass, libpq's format and rules:
 *   PostgreSQL docs, "The Password File"), read when the server asks for it.
 * - TLS: the URL's libpq-style parameters (sslmode, sslrootcert, sslcert, sslkey) as `pg` reads
 *   them — `pg` 8 treats sslmode=require as verify-full, unlike libpq (README) — or explicit
 *   `tls.ConnectionOptions` from code.
 * - Bounded waits, so a request answers within 2 s while the database is down or hangs: a connect
 *   timeout (also bounds the wait for a free pool slot), a client-side query timeout (a database
 *   that stopped answering without closing the socket), a server-side statement timeout, and an
 *   idle-in-transaction timeout that frees row locks held by a client that vanished.
 * - A dropped connection never crashes the process: idle clients' errors are handled by the
 *   pool's listener and checked-out clients get one of their own; a client whose work failed is
 *   destroyed, not returned to the pool.
 */
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { parse as parseConnectionString } from 'pg-connection-string';
import { Pool, type PoolClient, type PoolConfig, type QueryResultRow } from 'pg';
import { parseStoreUrl, type StoreUrl } from '../../config';

/** Default bounds (ms): together well under the 2 s in which a request must answer (issue 14). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 1000;
export const DEFAULT_QUERY_TIMEOUT_MS = 1500;
/** The longest one query or transaction may take, connecting included, before it is answered as unavailable. */
export const DEFAULT_DEADLINE_MS = 1800;

/** The database cannot be reached or did not answer in time; the request may be retried (503). */
export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError';
  /** Read by src/errors.ts `toServiceError`: 503 DependencyTimeoutException (the layers above do not import adapters). */
  readonly dependencyUnavailable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export { parseStoreUrl, type StoreUrl } from '../../config';

/** One .pgpass line's fields (hostname:port:database:username:password; `\:` and `\\` escaped). */
function pgpassFields(line: string): string[] | undefined {
  if (line.startsWith('#') || line.trim() === '') return undefined;
  const fields: string[] = [];
  let cur = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
    } else if (c === ':' && fields.length < 4) {
      fields.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  fields.push(cur);
  return fields.length === 5 ? fields : undefined;
}

/**
 * The password a .pgpass file gives for a connection: the first line whose fields match (`*`
 * matches anything). Like libpq, a file that is not a regular file or that its group or others
 * can read is ignored (PostgreSQL docs, "The Password File").
 */
export function pgpassPassword(file: string, target: Pick<StoreUrl, 'host' | 'port' | 'database' | 'user'>): string | undefined {
  let text: string;
  try {
    const st = statSync(file);
    if (!st.isFile() || (st.mode & 0o077) !== 0) return undefined;
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const want = [target.host, String(target.port), target.database, target.user];
  for (const line of text.split(/\r?\n/)) {
    const f = pgpassFields(line);
    if (f === undefined) continue;
    if (want.every((w, i) => f[i] === '*' || f[i] === w || (i === 0 && f[i] === 'localhost' && (w === '127.0.0.1' || w === '::1')))) return f[4];
  }
  return undefined;
}

/** Where the password comes from, in order: the file named by --store-password-file, PGPASSWORD, .pgpass. */
export function resolvePassword(target: StoreUrl, passwordFile: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (passwordFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(passwordFile, 'utf8');
    } catch (e) {
      throw new Error(`--store-password-file ${passwordFile} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'unreadable'})`);
    }
    // One line; a trailing newline (echo > file) is not part of the password.
    return text.replace(/\r?\n$/, '');
  }
  if (env.PGPASSWORD !== undefined && env.PGPASSWORD !== '') return env.PGPASSWORD;
  const file = env.PGPASSFILE ?? join(env.HOME ?? homedir(), '.pgpass');
  return pgpassPassword(file, target);
}

/** Opening options of a pool. */
export interface PostgresOptions {
  /** postgres://USER@HOST:PORT/DB[?sslmode=...] — no password. */
  readonly url: string;
  /** --store-password-file */
  readonly passwordFile?: string;
  /** Where PGPASSWORD, PGPASSFILE and HOME are read (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** Connections at most (default 10). */
  readonly max?: number;
  readonly connectTimeoutMs?: number;
  readonly queryTimeoutMs?: number;
  /** TLS options for `pg` (override the URL's ssl parameters). */
  readonly tls?: ConnectionOptions;
  /** Bound on one query or transaction, connecting included (default DEFAULT_DEADLINE_MS). */
  readonly deadlineMs?: number;
  /** Told about errors of idle connections (a restart of the database, a dropped socket). */
  readonly onIdleError?: (err: Error) => void;
  readonly applicationName?: string;
}

/** SQLSTATEs that mean "the database is not available right now", not "the request was wrong". */
const UNAVAILABLE_SQLSTATE = /^(08|53|57P0[1-4])/;
/** Statement timeout / cancellation (57014) and lock timeout (55P03): the database did not answer in time. */
const TIMEOUT_SQLSTATE = new Set(['57014', '55P03']);

/** Whether `e` says the database could not be reached or did not answer in time. */
export function isUnavailable(e: unknown): boolean {
  if (e instanceof DatabaseUnavailableError) return true;
  const err = e as { code?: unknown; message?: unknown };
  const code = typeof err?.code === 'string' ? err.code : '';
  if (UNAVAILABLE_SQLSTATE.test(code) || TIMEOUT_SQLSTATE.has(code)) return true;
  if (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE|ENOTFOUND|EAI_AGAIN)$/.test(code)) return true;
  const msg = typeof err?.message === 'string' ? err.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|connection is closed|Connection ended unexpectedly/i.test(msg);
}

/** Wraps an availability failure in DatabaseUnavailableError (other errors pass unchanged). */
export function classify(e: unknown): unknown {
  if (e instanceof DatabaseUnavailableError || !isUnavailable(e)) return e;
  return new DatabaseUnavailableError(`the database is unavailable: ${(e as Error).message}`, { cause: e });
}

/** The `pg` pool configuration for `opts` (exported for tests; holds no password). */
export function poolConfig(opts: PostgresOptions): PoolConfig {
  const target = parseStoreUrl(opts.url);
  const env = opts.env ?? process.env;
  // pg's own parser reads the TLS parameters (and files they name) exactly as `pg` documents;
  // its user/host/port/database agree with ours, and its (empty) password is dropped so ours applies.
  const parsed = parseConnectionString(opts.url) as Record<string, unknown>;
  delete parsed.password;
  const queryTimeout = opts.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
  return {
    ...(parsed as PoolConfig),
    user: target.user,
    host: target.host,
    port: target.port,
    database: target.database,
    ...(opts.tls === undefined ? {} : { ssl: opts.tls }),
    // Read when the server asks for a password, so a rotated password file applies to new connections.
    password: () => resolvePassword(target, opts.passwordFile, env) as string,
    max: opts.max ?? 10,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    query_timeout: queryTimeout,
    // The server gives up a little after the client, so the client's timeout is the one that fires.
    statement_timeout: queryTimeout + 500,
    idle_in_transaction_session_timeout: 10_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    idleTimeoutMillis: 30_000,
    application_name: opts.applicationName ?? (parsed.application_name as string | undefined) ?? 'keyhold',
    // Every commit durable before it returns, whatever the server's default (a startup parameter:
    // no extra round trip per transaction).
    options: '-c synchronous_commit=on',
  };
}

/** A transaction's handle: queries on the transaction's connection. */
export interface Tx {
  query<R extends QueryResultRow = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
}

/** A process's pool. Availability failures reject with DatabaseUnavailableError. */
export class PostgresPool {
  readonly pool: Pool;
  readonly #deadlineMs: number;
  #closed = false;

  constructor(opts: PostgresOptions) {
    this.pool = new Pool(poolConfig(opts));
    this.#deadlineMs = opts.deadlineMs ?? DEFAULT_DEADLINE_MS;
    // Without this listener an idle connection's error (the database restarted) would be an
    // unhandled 'error' event and end the process.
    this.pool.on('error', (err) => opts.onIdleError?.(err));
  }

  /**
   * One statement on any connection. A `name` prepares it once per connection (pg keeps the
   * prepared statement with the connection): for hot statements whose text never changes.
   */
  async query<R extends QueryResultRow = Record<string, unknown>>(sql: string, params: readonly unknown[] = [], name?: string): Promise<R[]> {
    return this.withClient(async (client) => (await client.query<R>(name === undefined ? { text: sql, values: params as unknown[] } : { name, text: sql, values: params as unknown[] })).rows);
  }

  /**
   * A connection for `work`, destroyed rather than reused if `work` fails. Answers within the
   * deadline whatever the database does: connect timeout plus query timeout could add up to
   * more, so past the deadline the caller is told the database is unavailable while the work
   * runs out in the background, bounded by the query timeout, and its connection is discarded
   * if it fails. (Work that succeeds after its deadline has happened: like a reply lost on the
   * network, the caller cannot tell.)
   */
  async withClient<T>(work: (client: PoolClient) => Promise<T>, deadlineMs: number = this.#deadlineMs): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DatabaseUnavailableError(`the database did not answer within ${deadlineMs} ms`)), deadlineMs);
    });
    const run = this.#run(work);
    run.catch(() => undefined); // after the deadline nobody awaits it
    try {
      return await Promise.race([run, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #run<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw classify(e);
    }
    // A checked-out client has no error listener of the pool's: a socket error would crash the process.
    const onError = (): void => undefined;
    client.on('error', onError);
    try {
      const out = await work(client);
      client.removeListener('error', onError);
      client.release();
      return out;
    } catch (e) {
      client.removeListener('error', onError);
      // Its state is unknown (a timed-out query may still run): never hand it to another caller.
      client.release(e instanceof Error ? e : true);
      throw classify(e);
    }
  }

  /**
   * Runs `work` in one transaction (READ COMMITTED; `work` takes row locks it needs with
   * SELECT ... FOR UPDATE) and commits it. The commit is synchronous (synchronous_commit=on is
   * a startup parameter of every connection), so a resolved promise means the commit is durable
   * (flushed to WAL, or to a synchronous standby if the server has one).
   */
  async transaction<T>(work: (tx: Tx) => Promise<T>, options: { timeoutMs?: number } = {}): Promise<T> {
    return this.withClient(async (client) => {
      // A longer bound for work that may wait (migrations queued behind another node's lock).
      const t = options.timeoutMs;
      const tx: Tx = {
        query: async (sql, params = []) =>
          (await client.query(t === undefined ? { text: sql, values: params as unknown[] } : { text: sql, values: params as unknown[], query_timeout: t } as never)).rows,
      };
      // On failure withClient destroys the connection, which ends the transaction: a ROLLBACK
      // sent to a database that stopped answering would only wait.
      await tx.query('BEGIN');
      if (t !== undefined) await tx.query(`SET LOCAL statement_timeout = ${Math.floor(t) + 500}`);
      const out = await work(tx);
      await tx.query('COMMIT');
      return out;
    }, options.timeoutMs === undefined ? undefined : options.timeoutMs + 1000);
  }

  get closed(): boolean {
    return this.#closed;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.pool.end();
  }
}
