/**
 * One typed, frozen configuration: command-line flags over KEYHOLD_* environment variables over
 * defaults (docs/architecture.md §7).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';

/** Keyhold's default port: not LocalStack's 4566, moto's 5000 or local-kms's 8080. */
export const DEFAULT_PORT = 7711;

/** Open connections one worker accepts by default (issue 12 item 10). */
export const DEFAULT_MAX_CONNECTIONS = 10_000;

/** Server configuration. */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  /** The default Region: first start, and the Region of the credentials file. */
  readonly region: string;
  /** Every Region this deployment serves (the SigV4 credential scope picks one per request). */
  readonly regions: readonly string[];
  /** Account the first start provisions an administrator for; generated when unset. */
  readonly accountId: string | undefined;
  readonly workers: number;
  readonly logLevel: string;
  readonly masterPassphrase: string | undefined;
  readonly masterKeyFile: string | undefined;
  /** How often the scheduler looks for keys whose deletion window has ended. */
  readonly schedulerIntervalMs: number;
  readonly maxBodyBytes: number;
  /** KEYHOLD_AUDIT_DIGEST_INTERVAL_S (default 60): how often a signed digest is written (issue 11). */
  readonly auditDigestIntervalS: number;
  /** --audit-digest-copy DIR: every digest is also written here as it is made (meant for another volume or host). */
  readonly auditDigestCopy: string | undefined;
  /** KEYHOLD_AUDIT_RETENTION_DAYS (default 0 = keep forever): older digest periods are pruned. */
  readonly auditRetentionDays: number;
  /** --tls-cert / --tls-key (PEM files, both or neither): serve HTTPS instead of HTTP. */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
  /** --max-connections: open connections per worker; more are closed on arrival (issue 12 item 10). */
  readonly maxConnections: number;
  /** --metrics-host/--metrics-port: serve /metrics on its own listener instead of beside the API. */
  readonly metrics: { readonly host: string; readonly port: number } | undefined;
  /** --store (KEYHOLD_STORE): SQLite in the data directory (default) or a PostgreSQL database (issue 14). */
  readonly store: StoreConfig;
}

/** Where keys, identities and the trail live. */
export type StoreConfig =
  | { readonly kind: 'sqlite' }
  | {
      readonly kind: 'postgres';
      /** postgres://USER@HOST:PORT/DB[?sslmode=...], never with a password. */
      readonly url: string;
      /** --store-password-file (KEYHOLD_STORE_PASSWORD_FILE); else PGPASSWORD, else .pgpass. */
      readonly passwordFile: string | undefined;
    };

/** The pieces of a `--store` URL. */
export interface StoreUrl {
  readonly user: string;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  /** Query parameters (sslmode, sslrootcert, application_name, ...), passed to `pg`. */
  readonly params: Readonly<Record<string, string>>;
}

/** The URL schemes libpq accepts (PostgreSQL docs, "Connection URIs"). */
const STORE_SCHEMES = new Set(['postgres:', 'postgresql:']);

/**
 * Parses and checks a `--store` URL (issue 14). Throws a message naming what is wrong — never
 * echoing a password the URL might hold: one on the command line is readable by every local
 * user (ps, /proc/PID/cmdline), so it is refused.
 */
export function parseStoreUrl(url: string): StoreUrl {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error('--store must be a URL such as postgres://USER@HOST:PORT/DB');
  }
  if (!STORE_SCHEMES.has(u.protocol)) throw new Error(`--store must be a postgres:// URL (got a ${u.protocol.replace(/:$/, '')}: URL)`);
  if (u.password !== '') {
    throw new Error(
      '--store must not contain a password (the command line and environment of a process are visible to other local users): ' +
        'give it in PGPASSWORD, a .pgpass file or --store-password-file FILE',
    );
  }
  const user = decodeURIComponent(u.username);
  if (user === '') throw new Error('--store must name the database user: postgres://USER@HOST:PORT/DB');
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new Error('--store must name the database host: postgres://USER@HOST:PORT/DB');
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (database === '' || database.includes('/')) throw new Error('--store must name one database: postgres://USER@HOST:PORT/DB');
  const port = u.port === '' ? 5432 : Number(u.port);
  const params: Record<string, string> = {};
  for (const [k, v] of u.searchParams) params[k] = v;
  return { user, host, port, database, params };
}

/** The store of `--store`/KEYHOLD_STORE and `--store-password-file`/KEYHOLD_STORE_PASSWORD_FILE. */
export function storeConfig(store: string | undefined, passwordFile: string | undefined): StoreConfig {
  if (store === undefined || store === '' || store === 'sqlite') {
    if (passwordFile !== undefined && passwordFile !== '') throw new Error('--store-password-file needs --store postgres://...');
    return { kind: 'sqlite' };
  }
  parseStoreUrl(store);
  return Object.freeze({ kind: 'postgres', url: store, passwordFile: passwordFile === undefined || passwordFile === '' ? undefined : resolve(passwordFile) });
}

/** The PEM certificate chain and private key the HTTPS listener presents. */
export interface TlsFiles {
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** Flag values as parsed from the command line (strings, unvalidated). */
export type Flags = Readonly<Partial<Record<'port' | 'host' | 'data-dir' | 'region' | 'regions' | 'account-id' | 'workers' | 'master-key-file' | 'tls-cert' | 'tls-key' | 'max-connections' | 'metrics-host' | 'metrics-port' | 'audit-digest-copy' | 'store' | 'store-password-file', string>>>;

function int(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer between ${min} and ${max}`);
  return n;
}

/** Builds the configuration from flags and an environment. */
export function loadConfig(flags: Flags, env: NodeJS.ProcessEnv = process.env): Config {
  const pick = (flag: keyof Flags, envName: string): string | undefined => flags[flag] ?? env[envName] ?? undefined;
  const regionList = pick('regions', 'KEYHOLD_REGIONS')
    ?.split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '');
  const region = pick('region', 'KEYHOLD_REGION') ?? regionList?.[0] ?? 'us-east-1';
  const regions = [...new Set([region, ...(regionList ?? [])])];
  for (const r of regions) {
    if (!/^([a-z]+-){2,3}\d+$/.test(r)) throw new Error(`region ${r} is not a region name such as us-east-1`);
  }
  const accountId = pick('account-id', 'KEYHOLD_ACCOUNT_ID');
  if (accountId !== undefined && !/^\d{12}$/.test(accountId)) throw new Error('--account-id must be 12 digits');
  const workers = pick('workers', 'KEYHOLD_WORKERS');
  const auditDigestCopy = pick('audit-digest-copy', 'KEYHOLD_AUDIT_DIGEST_COPY');
  const tlsCert = pick('tls-cert', 'KEYHOLD_TLS_CERT');
  const tlsKey = pick('tls-key', 'KEYHOLD_TLS_KEY');
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    throw new Error('--tls-cert (KEYHOLD_TLS_CERT) and --tls-key (KEYHOLD_TLS_KEY) must be given together');
  }
  const store = storeConfig(pick('store', 'KEYHOLD_STORE'), pick('store-password-file', 'KEYHOLD_STORE_PASSWORD_FILE'));
  const metricsHost = pick('metrics-host', 'KEYHOLD_METRICS_HOST');
  const metricsPort = pick('metrics-port', 'KEYHOLD_METRICS_PORT');
  if (metricsHost !== undefined && metricsPort === undefined) throw new Error('--metrics-host (KEYHOLD_METRICS_HOST) needs --metrics-port (KEYHOLD_METRICS_PORT)');
  return Object.freeze({
    port: int('--port', pick('port', 'KEYHOLD_PORT') ?? String(DEFAULT_PORT), 0, 65535),
    host: pick('host', 'KEYHOLD_HOST') ?? '127.0.0.1',
    dataDir: resolve(pick('data-dir', 'KEYHOLD_DATA_DIR') ?? './keyhold-data'),
    region,
    regions: Object.freeze(regions),
    accountId,
    workers: workers === undefined ? Math.max(1, availableParallelism()) : int('--workers', workers, 1, 64),
    logLevel: env.KEYHOLD_LOG_LEVEL ?? 'info',
    masterPassphrase: env.KEYHOLD_MASTER_PASSPHRASE,
    masterKeyFile: pick('master-key-file', 'KEYHOLD_MASTER_KEY_FILE'),
    schedulerIntervalMs: int('KEYHOLD_SCHEDULER_INTERVAL_MS', env.KEYHOLD_SCHEDULER_INTERVAL_MS ?? '60000', 10, 86_400_000),
    maxBodyBytes: int('KEYHOLD_MAX_BODY_BYTES', env.KEYHOLD_MAX_BODY_BYTES ?? String(1024 * 1024), 1024, 64 * 1024 * 1024),
    auditDigestIntervalS: int('KEYHOLD_AUDIT_DIGEST_INTERVAL_S', env.KEYHOLD_AUDIT_DIGEST_INTERVAL_S ?? '60', 1, 86_400),
    auditDigestCopy: auditDigestCopy === undefined || auditDigestCopy === '' ? undefined : resolve(auditDigestCopy),
    auditRetentionDays: int('KEYHOLD_AUDIT_RETENTION_DAYS', env.KEYHOLD_AUDIT_RETENTION_DAYS ?? '0', 0, 36_500),
    tls: tlsCert === undefined || tlsKey === undefined ? undefined : Object.freeze({ certFile: resolve(tlsCert), keyFile: resolve(tlsKey) }),
    maxConnections: int('--max-connections', pick('max-connections', 'KEYHOLD_MAX_CONNECTIONS') ?? String(DEFAULT_MAX_CONNECTIONS), 1, 1_000_000),
    metrics:
      metricsPort === undefined
        ? undefined
        : Object.freeze({ host: metricsHost ?? '127.0.0.1', port: int('--metrics-port', metricsPort, 0, 65535) }),
    store,
  });
}

/**
 * Reads the configured certificate and key (undefined: plain HTTP). Throws an error that names
 * the flag and the file, never the file's contents.
 */
export function readTlsFiles(config: Config): TlsFiles | undefined {
  if (config.tls === undefined) return undefined;
  const read = (flag: string, file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new Error(`${flag} ${file} cannot be read (${code})`);
    }
  };
  return { cert: read('--tls-cert', config.tls.certFile), key: read('--tls-key', config.tls.keyFile) };
}
