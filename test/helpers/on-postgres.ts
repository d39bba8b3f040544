/**
 * Runs a test file written for `startServer` a second time, on PostgreSQL (issue 14: "the KMS
 * conformance suite and the authorization matrix run against SQLite and PostgreSQL"). A file
 * under test/on-postgres/ is two lines: `runOnPostgres(() => require('../conformance/x.test'))`.
 * The suite is loaded unchanged and asserts exactly what it asserts on SQLite; only where its
 * servers keep their state differs:
 *
 * - one throwaway cluster per test file (test/helpers/postgres.ts), started by the first server
 *   (node 20 runs root-level `before` hooks concurrently, so a suite's own hook may come first)
 *   and destroyed after the suite's own `after` hooks (those run in registration order);
 * - a fresh database per data directory: a server restarted on the same directory finds its
 *   database again, as an operator's node does;
 * - every node of the file shares one passphrase (the root of trust of a PostgreSQL deployment,
 *   DESIGN §6); `keyhold` commands run on a server's data directory (test/helpers/keyhold-cli.ts)
 *   get the same --store, as an operator gives them.
 */
import { resolve } from 'node:path';
import { after, before } from 'node:test';
import { startPostgres, type PgCluster } from './postgres';
import { setServerStoreBackend } from './server';

/** The passphrase every node of a suite on PostgreSQL shares. */
export const SUITE_PASSPHRASE = 'the suites on PostgreSQL share one passphrase';

/** Where a data directory's state lives when the suite runs on PostgreSQL. */
export interface PostgresLocation {
  readonly cluster: PgCluster;
  readonly database: string;
  readonly passphrase: string;
}

let cluster: PgCluster | undefined;
/** The cluster's start, shared: node 20 runs root-level `before` hooks concurrently, so a suite's own may start a server first. */
let starting: Promise<PgCluster> | undefined;
const databases = new Map<string, string>();

/** The database of a data directory a server started on in this process (undefined on SQLite). */
export function postgresLocationOf(dataDir: string): PostgresLocation | undefined {
  const database = databases.get(resolve(dataDir));
  if (cluster === undefined || database === undefined) return undefined;
  return { cluster, database, passphrase: SUITE_PASSPHRASE };
}

function storeEnv(c: PgCluster, database: string): Record<string, string> {
  return {
    KEYHOLD_STORE: c.url(database),
    KEYHOLD_STORE_PASSWORD_FILE: c.passwordFile,
    KEYHOLD_MASTER_PASSPHRASE: SUITE_PASSPHRASE,
    // Only the password file authenticates: nothing of the machine's own PostgreSQL set-up.
    PGPASSWORD: '',
    PGPASSFILE: '/nonexistent',
  };
}

/** Registers a cluster around the suite `load` registers (call at the top level of a test file). */
export function runOnPostgres(load: () => unknown): void {
  const theCluster = (): Promise<PgCluster> => {
    starting ??= startPostgres().then((c) => {
      c.unref();
      return (cluster = c);
    });
    return starting;
  };
  before(async () => {
    await theCluster();
  }, { timeout: 120_000 });
  setServerStoreBackend({
    async serverEnv(dataDir) {
      const c = await theCluster();
      const key = resolve(dataDir);
      let database = databases.get(key);
      if (database === undefined) {
        database = await c.createDatabase('keyhold_suite');
        databases.set(key, database);
      }
      return storeEnv(c, database);
    },
    commandEnv(dataDir) {
      const database = databases.get(resolve(dataDir));
      return cluster === undefined || database === undefined ? undefined : storeEnv(cluster, database);
    },
  });
  load();
  after(async () => {
    setServerStoreBackend(undefined);
    await (starting === undefined ? undefined : starting.then((c) => c.destroy(), () => undefined));
    cluster = undefined;
    starting = undefined;
  }, { timeout: 60_000 });
}
