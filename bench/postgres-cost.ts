/**
 * What one request costs PostgreSQL (issue 14): transactions, rows written and WAL bytes per
 * CreateKey, Encrypt and DisableKey, through the wire, on a throwaway cluster
 * (test/helpers/postgres.ts) with one `keyhold serve --store postgres://…` node. Each case runs N
 * requests one after another between two readings of pg_current_wal_lsn() and of
 * pg_stat_database (read 11 s later, once every backend flushed its statistics); the figures are
 * per request. Transactions include reads (each is one) and the change feed's and the lease's
 * heartbeats during the run. The node's audit trail is in the same database (issue 14): each
 * request's record is part of its cost (one request at a time, so one audit commit each).
 *
 * Usage: npx tsc -p tsconfig.json && node dist/bench/postgres-cost.js [--requests 200]
 */
import { parseArgs } from 'node:util';
import { CreateKeyCommand, DisableKeyCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { startPostgres } from '../test/helpers/postgres';
import { startServer, stopAndRemove } from '../test/helpers/server';

interface Reading {
  readonly lsn: string;
  readonly commits: number;
  readonly inserted: number;
  readonly updated: number;
  readonly deleted: number;
  readonly returned: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { requests: { type: 'string', default: '200' } } });
  const n = Number(values.requests);
  const pg = await startPostgres();
  const database = await pg.createDatabase('keyhold_bench');
  const server = await startServer({
    workers: 1,
    args: ['--store', pg.url(database), '--store-password-file', pg.passwordFile],
    env: { KEYHOLD_MASTER_PASSPHRASE: 'benchmark passphrase' },
  });
  const read = async (): Promise<Reading> => {
    // Idle backends flush their statistics within 10 s (PostgreSQL 15 PGSTAT_IDLE_INTERVAL).
    await new Promise((r) => setTimeout(r, 11_000));
    const [r] = await pg.query(
      `SELECT pg_current_wal_lsn()::text AS lsn, xact_commit AS commits, tup_inserted AS inserted, tup_updated AS updated,
              tup_deleted AS deleted, tup_returned + tup_fetched AS returned FROM pg_stat_database WHERE datname = $1`,
      [database],
    );
    const x = r as Record<string, string>;
    return { lsn: x.lsn as string, commits: Number(x.commits), inserted: Number(x.inserted), updated: Number(x.updated), deleted: Number(x.deleted), returned: Number(x.returned) };
  };
  const walBytes = async (from: string, to: string): Promise<number> =>
    Number((await pg.query('SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn) AS d', [to, from]))[0]?.d);
  try {
    const client = server.client();
    const keyIds: string[] = [];
    const cases: [string, (i: number) => Promise<unknown>][] = [
      ['CreateKey', async () => keyIds.push((await client.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId as string)],
      ['Encrypt', (i) => client.send(new EncryptCommand({ KeyId: keyIds[i % 10], Plaintext: Buffer.alloc(64) }))],
      ['DisableKey', (i) => client.send(new DisableKeyCommand({ KeyId: keyIds[i] }))],
    ];
    const rows: Record<string, string>[] = [];
    for (const [name, run] of cases) {
      const before = await read();
      const started = Date.now();
      for (let i = 0; i < n; i++) await run(i);
      const ms = Date.now() - started;
      const after = await read();
      const per = (x: number): string => (x / n).toFixed(2);
      rows.push({
        case: name,
        'ms/request': per(ms),
        'transactions/request': per(after.commits - before.commits),
        'rows written/request': per(after.inserted + after.updated + after.deleted - before.inserted - before.updated - before.deleted),
        'rows read/request': per(after.returned - before.returned),
        'WAL bytes/request': per(await walBytes(before.lsn, after.lsn)),
      });
    }
    console.table(rows);
  } finally {
    await stopAndRemove(server);
    await pg.destroy();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
