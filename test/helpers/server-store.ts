/**
 * The store of a running test server, opened beside it by a test that must write what no request
 * can (an expired import token, a due deletion date) — on whichever adapter the server runs
 * (test/helpers/on-postgres.ts): the data directory's SQLite file, or the server's PostgreSQL
 * database. On PostgreSQL the store publishes its commits in a slot of the node's marks file
 * (src/store/postgres/node-marks.ts), as a sibling worker would, so the server honours them at
 * once, as it honours another connection's commit on SQLite.
 */
import { join } from 'node:path';
import { CHANGE_MARKS_FILE, SQLITE_FILE } from '../../src/adapters';
import { PostgresSealedDomainKey } from '../../src/store/postgres/domain-key';
import { PostgresIdentityStore } from '../../src/store/postgres/postgres-identity-store';
import { PostgresStore } from '../../src/store/postgres/postgres-store';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import type { Store } from '../../src/store/store';
import { openLocalRootOfTrust, openSharedRootOfTrust } from '../../src/trust/local';
import type { RootOfTrust } from '../../src/trust/root-of-trust';
import { postgresLocationOf } from './on-postgres';

/** A marks slot no server process uses (workers use their small slots, the primary 127). */
const TEST_MARKS_SLOT = 126;

/** Opens the store of the server on `dataDir` (close it when done). */
export function openServerStore(dataDir: string): Store {
  const pg = postgresLocationOf(dataDir);
  if (pg === undefined) return new SqliteStore({ path: join(dataDir, SQLITE_FILE) });
  return new PostgresStore({
    url: pg.cluster.url(pg.database),
    passwordFile: pg.cluster.passwordFile,
    env: {},
    identity: (pool) => new PostgresIdentityStore(pool),
    marks: { path: join(dataDir, CHANGE_MARKS_FILE), slot: TEST_MARKS_SLOT },
    // Patient: a loaded CI machine must not turn a slow answer into a failure the test is not about.
    connectTimeoutMs: 30_000,
    queryTimeoutMs: 30_000,
    deadlineMs: 60_000,
  });
}

/** Opens the root of trust of the server on `dataDir` with `store` (as opened by openServerStore). */
export async function openServerTrust(dataDir: string, store: Store): Promise<RootOfTrust> {
  const pg = postgresLocationOf(dataDir);
  if (pg === undefined) return openLocalRootOfTrust({ dataDir });
  return openSharedRootOfTrust({ passphrase: pg.passphrase }, new PostgresSealedDomainKey((store as PostgresStore).pool));
}

/** Runs one SQL statement in the server's PostgreSQL database; undefined when the server runs on SQLite. */
export async function serverSql(dataDir: string, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[] | undefined> {
  const pg = postgresLocationOf(dataDir);
  return pg === undefined ? undefined : pg.cluster.query(sql, params, pg.database);
}
