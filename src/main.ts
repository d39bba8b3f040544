/**
 * Wiring (docs/architecture.md §2): reads the configuration, chooses the store and root of trust, and runs the
 * server. The primary process owns the data-directory lock, migrations, first-start
 * provisioning and the lifecycle scheduler; workers (node:cluster, one per core by default)
 * serve HTTP (HTTPS with --tls-cert/--tls-key) on the shared port. With one worker everything
 * runs in one process.
 */
import cluster from 'node:cluster';
import { existsSync, mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { randomInt } from 'node:crypto';
import type { Server } from 'node:http';
import pino, { type Logger } from 'pino';
import { MASTER_KEY_FILE, openAdapters, openAuditStore, PRIMARY_MARKS_SLOT } from './adapters';
import { AuditRecorder } from './audit/recorder';
import { DIGEST_LEASE, SharedAuditTrail } from './audit/shared-trail';
import type { AuditSink } from './audit/sink';
import { PUBLIC_KEY_FILE } from './audit/signing-key';
import { AuditTrail } from './audit/trail';
import type { AuditTestHooks } from './audit/thread-protocol';
import { AuditWriter } from './audit/writer';
import { systemClock, type Clock } from './clock';
import { readTlsFiles, type Config, type TlsFiles } from './config';
import { CredentialCache, credentialExpiryClock, newAccessKeyId, newSecretAccessKey, provisionRootAccessKey } from './identity/credentials';
import { KeyPairGenerator } from './keys/key-pair-generator';
import { Keyring } from './keys/keyring';
import { SoftwareBackend } from './keys/software-backend';
import { deletionJob } from './lifecycle/deletion-job';
import { importExpiryJob } from './lifecycle/import-expiry-job';
import { leasedJob } from './lifecycle/leased-job';
import { rotationJob } from './lifecycle/rotation-job';
import { Scheduler } from './lifecycle/scheduler';
import { MODELLED_OPERATIONS } from './model/operations';
import { CLOUDTRAIL_SHORT_TARGET_PREFIX, CLOUDTRAIL_TARGET_PREFIX, cloudTrailOperations } from './operations/cloudtrail-registry';
import { IAM_SERVICE } from './operations/iam/registry';
import { ORGANIZATIONS_OPERATIONS, ORGANIZATIONS_TARGET_PREFIX } from './operations/organizations/registry';
import { STS_SERVICE } from './operations/sts/registry';
import { KMS_OPERATIONS } from './operations/registry';
import { findOperation, type JsonService, type JsonServices } from './protocol/json-protocol';
import { SigV4Verifier } from './protocol/sigv4';
import { lockDataDir } from './server/data-dir-lock';
import { checkTlsFiles, createApiServer } from './server/http-server';
import { serveClusterMetrics } from './server/cluster-metrics';
import { Metrics } from './server/metrics';
import { createMetricsServer, listenMetrics, type MetricsSource } from './server/metrics-server';
import { CacheLayer } from './store/cache';
import type { KeyRecord, Store } from './store/store';
import type { RootOfTrust } from './trust/root-of-trust';

/** The audit trail's directory in the data directory, and the compiled writer-thread entry that opens it. */
export const AUDIT_DIR = 'audit';
const AUDIT_THREAD = join(__dirname, 'cli', 'audit-writer-thread.js');
/** The AWS shared-credentials file the first start writes into the data directory. */
export const CREDENTIALS_FILE = 'credentials';


/**
 * The account an administrator is provisioned in when none is named: --account-id, else the
 * data directory's only account, else a new random one.
 */
export async function defaultAccount(config: Config, store: Store): Promise<string> {
  if (config.accountId !== undefined) return config.accountId;
  const accounts = await store.listAccounts();
  if (accounts.length === 1) return accounts[0] as string;
  if (accounts.length > 1) throw new Error(`the data directory holds ${accounts.length} accounts; name one with --account-id`);
  return String(randomInt(100_000_000_000, 999_999_999_999));
}

/** Whether the master key file is in the data directory, so that a copy of the directory decrypts everything. */
export function masterKeyInsideDataDir(config: Config): string | undefined {
  if (config.masterPassphrase !== undefined && config.masterPassphrase !== '') return undefined;
  const keyFile = resolve(config.masterKeyFile ?? join(config.dataDir, MASTER_KEY_FILE));
  const rel = relative(config.dataDir, keyFile);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? keyFile : undefined;
}

/**
 * Says, on every start, what in the data directory an operator must not leave as it is in
 * production (issue 12 item 6): the master key file beside the sealed domain key, and the
 * administrator secret in plain text in DIR/credentials.
 */
function warnAboutDataDir(config: Config, logger: Logger): void {
  const keyFile = masterKeyInsideDataDir(config);
  if (keyFile !== undefined) {
    logger.warn(
      { keyFile },
      'the master key file is inside the data directory: a copy of the directory decrypts every key. For production keep it on another volume ' +
        '(--master-key-file) or use KEYHOLD_MASTER_PASSPHRASE (README, docs/security.md)',
    );
  }
  const credentialsPath = join(config.dataDir, CREDENTIALS_FILE);
  if (existsSync(credentialsPath)) {
    logger.warn(
      { credentialsFile: credentialsPath },
      'the credentials file holds an administrator secret in plain text (mode 0600): move it to where your clients read credentials, then delete it',
    );
  }
}

/**
 * First start: an account and an administrator key, written as an AWS shared-credentials file.
 * Only into a store with no account at all: a deleted credentials file never mints a new
 * administrator (issue 12 item 6); the log names the command that restores access.
 */
async function provisionFirstStart(config: Config, store: Store, trust: RootOfTrust, clock: Clock, logger: Logger): Promise<void> {
  const credentialsPath = join(config.dataDir, CREDENTIALS_FILE);
  const accounts = await store.listAccounts();
  if (accounts.length > 0 || existsSync(credentialsPath)) {
    if (!existsSync(credentialsPath) || accounts.length === 0) {
      logger.warn(
        { credentialsFile: credentialsPath, accounts: accounts.length },
        `no administrator was created (${accounts.length > 0 ? 'the store already holds accounts' : 'a credentials file exists'}). To restore access run: ` +
          `keyhold credentials create --data-dir ${config.dataDir} --account-id ${accounts[0] ?? 'ACCOUNT'} --access-key-id ID --secret-access-key-file -`,
      );
    }
    return;
  }
  const accountId = await defaultAccount(config, store);
  const accessKeyId = newAccessKeyId();
  const secret = newSecretAccessKey();
  await provisionRootAccessKey(store, trust, clock, accountId, accessKeyId, secret);
  writeFileSync(
    credentialsPath,
    `# Keyhold administrator for account ${accountId}\n[default]\naws_access_key_id = ${accessKeyId}\naws_secret_access_key = ${secret}\nregion = ${config.region}\n`,
    { mode: 0o600 },
  );
  chmodSync(credentialsPath, 0o600);
  logger.info({ accountId, accessKeyId, credentialsFile: credentialsPath }, 'first start: created account and administrator access key');
}

/**
 * How `serve` runs beyond its configuration. Not reachable from a flag or an environment
 * variable: a server without its trail breaks the promise (issue 11), so only benchmarks that
 * construct the server in-process (bench/keyhold-without-trail.ts) measure the trail's cost with it.
 */
export interface ServeOptions {
  /** false: no audit trail at all (benchmarks only). */
  readonly auditTrail: boolean;
  /** Tests only: the audit writer's injected failures and limits (test/helpers/keyhold-audit-hooks.ts). */
  readonly auditTestHooks?: AuditTestHooks;
}

/** Starts one HTTP(S) server in this process; resolves once it listens. */
async function startWorker(
  config: Config,
  logger: Logger,
  clock: Clock,
  tls: TlsFiles | undefined,
  sharedAudit: (AuditSink & { close(): Promise<void> }) | undefined,
  options: ServeOptions,
): Promise<{ port: number; stop: () => Promise<void> }> {
  const { trust, store, sharedAudit: shared } = await openAdapters(config, logger, { marksSlot: Number(process.env.KEYHOLD_AUDIT_STREAM ?? 0) });
  const expiry = credentialExpiryClock(clock, process.env);
  if (options.auditTestHooks !== undefined) logger.warn({ hooks: options.auditTestHooks }, 'audit test hooks are set: a test build, never a deployment');
  if (expiry.offsetMs !== 0) logger.warn({ offsetMs: expiry.offsetMs }, 'KEYHOLD_TEST_CLOCK_OFFSET_MS is set: temporary credentials expire early (tests only)');
  // One cache layer per process, refreshed from the store's change feed (src/store/cache.ts).
  const caches = new CacheLayer(store.changes);
  const credentials = new CredentialCache(store, trust, expiry.clock, caches);
  const keyring = new Keyring(store, trust, clock, caches);
  // One generation thread per process: a burst of RSA-4096 CreateKey calls leaves the other
  // core to request handling (issue 9).
  const backend = new SoftwareBackend(keyring, new KeyPairGenerator(1));
  // IAM, STS and Organizations are global: their clients may sign for us-east-1 whatever Regions are served.
  const verifier = new SigV4Verifier(credentials, {
    services: new Set(['kms', 'cloudtrail', 'iam', 'sts', 'organizations']),
    regions: new Set(config.regions),
    globalServices: new Set(['iam', 'sts', 'organizations']),
    clock,
  });
  // Audit (issue 4): each process appends to its own stream (SQLite: worker slot k is stream k,
  // through a writer thread; PostgreSQL: a stream claimed from the database, issue 14);
  // LookupEvents reads every stream (PostgreSQL: of every node).
  const auditDir = join(config.dataDir, AUDIT_DIR);
  const auditLog = !options.auditTrail ? undefined : shared !== undefined ? shared.reader : openAuditStore(auditDir, { readonly: true });
  const stream = Number(process.env.KEYHOLD_AUDIT_STREAM ?? 0);
  const writerHooks = options.auditTestHooks === undefined ? {} : { testHooks: options.auditTestHooks };
  const auditWriter = !options.auditTrail
    ? undefined
    : (sharedAudit ?? (shared !== undefined ? await shared.openSink(logger) : new AuditWriter({ threadScript: AUDIT_THREAD, dir: auditDir, stream, logger, ...writerHooks })));
  // Every X-Amz-Target prefix AWS accepts for a service routes to it (issue 8); modelled
  // operations Keyhold lacks answer UnsupportedOperationException (src/model/operations.ts).
  const cloudTrail: JsonService = { signingName: 'cloudtrail', operations: cloudTrailOperations(auditLog), modelled: new Set(MODELLED_OPERATIONS.cloudtrail) };
  const jsonServices: JsonServices = {
    TrentService: { signingName: 'kms', operations: KMS_OPERATIONS, modelled: new Set(MODELLED_OPERATIONS.kms) },
    [CLOUDTRAIL_TARGET_PREFIX]: cloudTrail,
    [CLOUDTRAIL_SHORT_TARGET_PREFIX]: cloudTrail,
    [ORGANIZATIONS_TARGET_PREFIX]: { signingName: 'organizations', operations: ORGANIZATIONS_OPERATIONS, modelled: new Set(MODELLED_OPERATIONS.organizations) },
  };
  const audit =
    auditWriter &&
    new AuditRecorder({
      sink: auditWriter,
      clock,
      defaultRegion: config.region,
      identify: (target) => {
        try {
          const { service, op } = findOperation(target, jsonServices);
          return { signingName: service.signingName, op };
        } catch {
          return undefined;
        }
      },
    });
  const metrics = new Metrics({ worker: String(cluster.worker?.id ?? 0) }, auditWriter === undefined ? undefined : () => auditWriter.stats());
  const server = createApiServer({
    services: { store, keyring, backend, trust, clock, regions: config.regions },
    jsonServices,
    queryServices: {
      iam: { ...IAM_SERVICE, modelled: new Set(MODELLED_OPERATIONS.iam) },
      sts: { ...STS_SERVICE, modelled: new Set(MODELLED_OPERATIONS.sts) },
    },
    audit,
    verifier,
    credentials,
    logger,
    metrics,
    maxBodyBytes: config.maxBodyBytes,
    tls,
    maxConnections: config.maxConnections,
    serveMetrics: config.metrics === undefined,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  logger.info({ host: config.host, port, scheme: scheme(config) }, 'listening');
  // One process: it serves the moved /metrics itself (in a cluster the primary does).
  const metricsServer = config.metrics !== undefined && !cluster.isWorker ? await startMetricsServer(config, metrics, logger) : undefined;
  const stop = async (): Promise<void> => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    await audit?.close();
    await closeMetricsServer(metricsServer);
    if (auditWriter !== sharedAudit) await auditWriter?.close();
    await auditLog?.close();
    await backend.close();
    keyring.clear();
    await store.close();
    await trust.close();
  };
  return { port, stop };
}

/** Serves /metrics on --metrics-host:--metrics-port. */
async function startMetricsServer(config: Config, source: MetricsSource, logger: Logger): Promise<Server | undefined> {
  if (config.metrics === undefined) return undefined;
  const server = createMetricsServer(source);
  const port = await listenMetrics(server, config.metrics.host, config.metrics.port);
  logger.info({ host: config.metrics.host, port }, 'metrics listening');
  return server;
}

async function closeMetricsServer(server: Server | undefined): Promise<void> {
  if (server === undefined) return;
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Whether `host` is a loopback address (plain HTTP there never leaves the machine). */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || /^::ffff:127\./i.test(host);
}

/** The URL scheme the API is served on. */
function scheme(config: Config): 'http' | 'https' {
  return config.tls === undefined ? 'http' : 'https';
}

/** `keyhold serve`. Returns when the server has stopped. */
export async function serve(config: Config, options: ServeOptions = { auditTrail: true }): Promise<void> {
  process.umask(0o077); // the database, key files and credentials are for the server's user only
  const logger = pino({ level: config.logLevel, base: { pid: process.pid } });
  const clock = systemClock;
  // Read and checked before anything else starts, so a bad pair is a plain startup error.
  const tls = readTlsFiles(config);
  if (tls !== undefined) checkTlsFiles(tls);
  if (cluster.isWorker) {
    const { stop } = await startWorker(config, logger, clock, tls, undefined, options);
    process.on('message', (m) => {
      if (m === 'shutdown') void stop().then(() => process.exit(0));
    });
    process.on('SIGTERM', () => undefined); // the primary decides when workers stop
    return;
  }

  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const release = await lockDataDir(config.dataDir);
  const { trust, store, lease, exclusive, sharedAudit } = await openAdapters(config, logger, { marksSlot: PRIMARY_MARKS_SLOT });
  await store.migrate();
  // Nodes starting at once on an empty database: one creates the administrator, the others find it.
  await exclusive('provisioning', () => provisionFirstStart(config, store, trust, clock, logger));
  warnAboutDataDir(config, logger);
  if (config.tls === undefined && !isLoopbackHost(config.host)) {
    logger.warn(
      { host: config.host },
      'serving plain HTTP beyond loopback: signed requests and responses (data keys, plaintext) cross the network unencrypted; give --tls-cert and --tls-key',
    );
  }
  if (!options.auditTrail) logger.warn({}, 'running WITHOUT an audit trail: a benchmark build, never a deployment');
  const trail = !options.auditTrail
    ? undefined
    : sharedAudit !== undefined
      ? await SharedAuditTrail.open({
          sink: await sharedAudit.openSink(logger),
          log: sharedAudit.log,
          digestLease: lease(DIGEST_LEASE),
          trust,
          publicKeyPath: join(config.dataDir, PUBLIC_KEY_FILE),
          clock,
          logger,
          digestIntervalMs: config.auditDigestIntervalS * 1000,
          digestCopyDir: config.auditDigestCopy,
          retentionMs: config.auditRetentionDays * 86_400_000,
        })
      : await AuditTrail.open({
        store: openAuditStore(join(config.dataDir, AUDIT_DIR)),
        dir: join(config.dataDir, AUDIT_DIR),
        streams: Array.from({ length: config.workers === 1 ? 1 : config.workers + 1 }, (_, i) => i),
        threadScript: AUDIT_THREAD,
        trust,
        publicKeyPath: join(config.dataDir, PUBLIC_KEY_FILE),
        clock,
        logger,
        digestIntervalMs: config.auditDigestIntervalS * 1000,
        digestCopyDir: config.auditDigestCopy,
        retentionMs: config.auditRetentionDays * 86_400_000,
        ...(options.auditTestHooks === undefined ? {} : { testHooks: options.auditTestHooks }),
      });
  const serviceEvent = trail && ((name: string, key: KeyRecord, at: number): Promise<void> => trail.serviceEvent(name, key, at));
  // With several nodes on one database, one node at a time runs the jobs (issue 14).
  const jobsLease = lease('lifecycle');
  const scheduler = new Scheduler(
    [
      deletionJob(store, logger, serviceEvent),
      importExpiryJob(store, logger, serviceEvent),
      rotationJob(store, new Keyring(store, trust, clock), logger, serviceEvent),
    ].map((job) => leasedJob(job, jobsLease)),
    clock,
    logger,
    config.schedulerIntervalMs,
  );
  scheduler.start();

  let stopping = false;
  let stopLocal: (() => Promise<void>) | undefined;
  let clusterMetricsServer: Server | undefined;
  const workers = new Set<import('node:cluster').Worker>();
  if (config.workers === 1) {
    const local = await startWorker(config, logger, clock, tls, trail?.writer, options);
    stopLocal = local.stop;
    logger.info({ port: local.port, workers: 1, scheme: scheme(config) }, 'keyhold ready');
  } else {
    const clusterMetrics = serveClusterMetrics();
    clusterMetricsServer = await startMetricsServer(config, clusterMetrics, logger);
    let listening = 0;
    await new Promise<void>((resolve) => {
      // Each worker slot keeps its audit stream across restarts (KEYHOLD_AUDIT_STREAM).
      const fork = (slot: number): void => {
        // Workers re-run this command line, so they read the same flags and environment.
        const w = cluster.fork({ KEYHOLD_AUDIT_STREAM: String(slot) });
        workers.add(w);
        w.on('listening', (addr) => {
          listening += 1;
          if (listening === config.workers) {
            logger.info({ port: addr.port, workers: config.workers, scheme: scheme(config) }, 'keyhold ready');
            resolve();
          }
        });
        w.on('exit', (code, signal) => {
          workers.delete(w);
          if (trail !== undefined && w.process.pid !== undefined) void trail.workerExited(w.process.pid);
          if (!stopping) {
            logger.error({ code, signal }, 'worker exited; starting a new one');
            setTimeout(() => fork(slot), 200);
          }
        });
      };
      for (let i = 1; i <= config.workers; i++) fork(i);
    });
  }

  await new Promise<void>((resolve) => {
    const shutdown = (): void => {
      if (stopping) return;
      stopping = true;
      logger.info('shutting down: draining requests');
      const force = setTimeout(() => {
        for (const w of workers) w.process.kill('SIGKILL');
      }, 15_000).unref();
      const exits = [...workers].map((w) => new Promise<void>((r) => (w.isDead() ? r() : w.once('exit', () => r()))));
      for (const w of workers) w.send('shutdown');
      void Promise.all([...exits, stopLocal?.(), closeMetricsServer(clusterMetricsServer)])
        .then(() => scheduler.stop())
        .then(() => jobsLease.release())
        .then(() => trail?.close())
        .then(() => store.close())
        .then(() => trust.close())
        .then(() => release())
        .then(() => {
          clearTimeout(force);
          logger.info('stopped');
          resolve();
        });
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
  });
}
