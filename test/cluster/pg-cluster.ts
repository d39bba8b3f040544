/**
 * What the multi-node tests of the shared audit trail (issue 14) share: starting a node of a
 * PostgreSQL deployment, and reading LookupEvents to the last page.
 */
import { CloudTrailClient, LookupEventsCommand, type LookupAttributeKey } from '@aws-sdk/client-cloudtrail';
import type { PgCluster } from '../helpers/postgres';
import { startServer, type Credentials, type TestServer } from '../helpers/server';

/** Every node of a deployment uses the same root of trust. */
export const PASSPHRASE = 'several nodes, one database, one passphrase';

/** Starts `keyhold serve --store URL` on `database` of `pg`, with `workers` workers. */
export function startNode(pg: PgCluster, database: string, workers: number, env: Record<string, string> = {}): Promise<TestServer> {
  return startServer({
    workers,
    args: ['--store', pg.url(database), '--store-password-file', pg.passwordFile],
    env: { KEYHOLD_MASTER_PASSPHRASE: PASSPHRASE, PGPASSWORD: '', PGPASSFILE: '/nonexistent', ...env },
  });
}

/** A CloudTrail client of `node` signing with `creds`. */
export function cloudTrail(node: TestServer, creds: Credentials): CloudTrailClient {
  return new CloudTrailClient({ endpoint: node.endpoint, region: node.region, credentials: creds, maxAttempts: 1 });
}

/** The requestID of every record LookupEvents returns for `key` = `value`, across every page. */
export async function lookupRequestIds(ct: CloudTrailClient, key: LookupAttributeKey, value: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let token: string | undefined;
  do {
    const page = await ct.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: key, AttributeValue: value }], MaxResults: 50, NextToken: token }));
    for (const e of page.Events ?? []) {
      const record = JSON.parse(e.CloudTrailEvent ?? '{}') as { requestID?: string; eventName?: string };
      if (record.requestID !== undefined) out.set(record.requestID, record.eventName ?? '');
    }
    token = page.NextToken;
  } while (token !== undefined);
  return out;
}
