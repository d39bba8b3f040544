/**
 * Wiring (DESIGN §2): reads the configuration, chooses the store and root of trust, and runs the
 * server. The primary process owns the data-directory lock, migrations, first-start
 * provisioning and the lifecycle scheduler; workers (node:cluster, one per core by default)
 * serve HTTP on the shared port. With one worker everything runs in one process.
 */
import cluster from 'node:cluster';
import { existsSync, mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';
import pino, { type Logger } from 'pino';
import { systemClock, type Clock } from './clock';
import type { Config } from './config';
import { CredentialCache, newAccessKeyId, newSecretAccessKey, provisionRootAccessKey } from './identity/credentials';
import { Keyring } from './keys/keyring';
import { deletionJob } from './lifecycle/deletion-job';
import { Scheduler } from './lifecycle/scheduler';
import { KMS_OPERATIONS } from './operations/registry';
import { SigV4Verifier } from './protocol/sigv4';
import { lockDataDir } from './server/data-dir-lock';
import { createApiServer } from './server/http-server';
import { Metrics } from './server/metrics';
import { SqliteStore } from './store/sqlite/sqlite-store';
import type { Store } from './store/store';
import { openLocalRootOfTrust } from './trust/local';
import type { RootOfTrust } from './trust/root-of-trust';

/** Opens the configured root of trust and store (the only place concrete adapters are chosen). */
export function openBackends(config: Config, logger: Logger): { trust: RootOfTrust; store: Store } {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const trust = openLocalRootOfTrust({
    dataDir: config.dataDir,
    passphrase: config.masterPassphrase,
    keyFile: config.masterKeyFile,
    onGenerated: (path) =>
      logger.warn({ keyFile: path }, 'no KEYHOLD_MASTER_PASSPHRASE or key file was given: generated a master key file; back it up, without it the data cannot be decrypted'),
  });
  const store = new SqliteStore({ path: join(config.dataDir, 'keyhold.db') });
  return { trust, store };
}

/** First start: an account and an administrator key, written as an AWS shared-credentials file. */
async function provisionFirstStart(config: Config, store: Store, trust: RootOfTrust, clock: Clock, logger: Logger): Promise<void> {
  const credentialsPath = join(config.dataDir, 'credentials');
  if (existsSync(credentialsPath)) return;
  const accountId = config.accountId ?? String(randomInt(100_000_000_000, 999_999_999_999));
  if ((await store.listAccessKeys(accountId)).length > 0) return;
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

/** Starts one HTTP server in this process; resolves once it listens. */
async function startWorker(config: Config, logger: Logger, clock: Clock): Promise<{ port: number; stop: () => Promise<void> }> {
  const { trust, store } = openBackends(config, logger);
  const credentials = new CredentialCache(store, trust, clock);
  const keyring = new Keyring(store, trust, clock, () => credentials.clear());
  const verifier = new SigV4Verifier(credentials, { services: new Set(['kms']), regions: new Set(config.regions), clock });
  const server = createApiServer({
    services: { store, keyring, trust, clock },
    jsonServices: { TrentService: { signingName: 'kms', operations: KMS_OPERATIONS } },
    verifier,
    credentials,
    logger,
    metrics: new Metrics({ worker: String(cluster.worker?.id ?? 0) }),
    maxBodyBytes: config.maxBodyBytes,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  logger.info({ host: config.host, port }, 'listening');
  const stop = async (): Promise<void> => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    keyring.clear();
    await store.close();
    await trust.close();
  };
  return { port, stop };
}

/** `keyhold serve`. Returns when the server has stopped. */
export async function serve(config: Config): Promise<void> {
  process.umask(0o077); // the database, key files and credentials are for the server's user only
  const logger = pino({ level: config.logLevel, base: { pid: process.pid } });
  const clock = systemClock;
  if (cluster.isWorker) {
    const { stop } = await startWorker(config, logger, clock);
    process.on('message', (m) => {
      if (m === 'shutdown') void stop().then(() => process.exit(0));
    });
    process.on('SIGTERM', () => undefined); // the primary decides when workers stop
    return;
  }

  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const release = await lockDataDir(config.dataDir);
  const { trust, store } = openBackends(config, logger);
  await store.migrate();
  await provisionFirstStart(config, store, trust, clock, logger);
  const scheduler = new Scheduler([deletionJob(store, logger)], clock, logger, config.schedulerIntervalMs);
  scheduler.start();

  let stopping = false;
  let stopLocal: (() => Promise<void>) | undefined;
  const workers = new Set<import('node:cluster').Worker>();
  if (config.workers === 1) {
    const local = await startWorker(config, logger, clock);
    stopLocal = local.stop;
    logger.info({ port: local.port, workers: 1 }, 'keyhold ready');
  } else {
    let listening = 0;
    await new Promise<void>((resolve) => {
      const fork = (): void => {
        // Workers re-run this command line, so they read the same flags and environment.
        const w = cluster.fork();
        workers.add(w);
        w.on('listening', (addr) => {
          listening += 1;
          if (listening === config.workers) {
            logger.info({ port: addr.port, workers: config.workers }, 'keyhold ready');
            resolve();
          }
        });
        w.on('exit', (code, signal) => {
          workers.delete(w);
          if (!stopping) {
            logger.error({ code, signal }, 'worker exited; starting a new one');
            setTimeout(fork, 200);
          }
        });
      };
      for (let i = 0; i < config.workers; i++) fork();
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
      void Promise.all([...exits, stopLocal?.()])
        .then(() => scheduler.stop())
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
