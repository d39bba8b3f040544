/**
 * The IdentityStore port contract (test/store/identity-store-contract.ts) on PostgreSQL (issue
 * 14), against a throwaway cluster: every handle is its own pool, as another node's would be, so
 * the contract's races run over separate connections. The database's default collation is ICU
 * en-US, whose order differs from bytes ("B" sorts after "ab"): listings must still page in
 * byte order, as on SQLite. Also: migration 3 applies once, and identity writes notify the
 * change feed's channel.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client } from 'pg';
import type { PostgresPool } from '../../src/store/postgres/connection';
import { migrate } from '../../src/store/postgres/migrate';
import { PostgresIdentityStore } from '../../src/store/postgres/postgres-identity-store';
import { KEY_INSERT, keyParams } from '../../src/store/postgres/postgres-rows';
import { openTestPool, usePostgres } from '../helpers/postgres';
import { identityStorePortContract } from './identity-store-contract';

const pg = usePostgres();
let prepared: Promise<string> | undefined;

/** The test database, created and migrated once, on first use (the cluster starts in a `before` hook). */
function database(): Promise<string> {
  prepared ??= (async () => {
    const name = `keyhold_identity_${process.pid}`;
    // template0: the only template a database may take another collation from.
    await pg().query(`CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C' LOCALE_PROVIDER icu ICU_LOCALE 'en-US'`);
    const [order] = await pg().query(`SELECT array_agg(x ORDER BY x) AS o FROM unnest(ARRAY['ab', 'a-c', 'B']) AS x`, [], name);
    assert.notDeepEqual(order?.o, ['B', 'a-c', 'ab'], 'the database does not sort by bytes, so byte order must come from the schema');
    const pool = openTestPool(pg(), name);
    try {
      const first = await migrate(pool);
      assert.ok(first.applied.includes(3), `migration 3 applied: ${JSON.stringify(first)}`);
      assert.deepEqual((await migrate(pool)).applied, [], 'a second start applies nothing');
    } finally {
      await pool.close();
    }
    return name;
  })();
  return prepared;
}

async function open(): Promise<{ pool: PostgresPool; identity: PostgresIdentityStore }> {
  const pool = openTestPool(pg(), await database(), { max: 4 });
  return { pool, identity: new PostgresIdentityStore(pool) };
}

identityStorePortContract('postgres', async () => {
  const { pool, identity } = await open();
  return {
    identity,
    keys: {
      create: async (k) => void (await pool.query(KEY_INSERT, keyParams(k))),
      policy: async (arn) => (await pool.query<{ policy: string }>('SELECT policy FROM keys WHERE arn = $1', [arn]))[0]?.policy,
    },
    close: () => pool.close(),
  };
});

test('identity writes notify the change feed\'s channel at commit; STS sessions and refused writes do not', { timeout: 60_000 }, async () => {
  const { pool, identity } = await open();
  const listener = new Client({
    host: pg().host, port: pg().port, user: pg().user, database: await database(), password: pg().password,
  });
  await listener.connect();
  const heard: string[] = [];
  listener.on('notification', (n) => heard.push(`${n.channel}:${n.payload ?? ''}`));
  await listener.query('LISTEN keyhold_changes');
  /** Waits until the listener has caught up: a notification of our own marks the end. */
  const drain = async (): Promise<string[]> => {
    const mark = `mark-${Math.random()}`;
    await pool.query('SELECT pg_notify($1, $2)', ['keyhold_changes', mark]);
    for (let i = 0; i < 500 && !heard.includes(`keyhold_changes:${mark}`); i++) await new Promise((r) => setTimeout(r, 10));
    const out = heard.splice(0).filter((h) => h !== `keyhold_changes:${mark}`);
    return out;
  };
  try {
    const account = '909090909090';
    await identity.createAccount({ accountId: account, createdAt: 1, name: null, email: null, organizationId: null, joinedMethod: null, joinedAt: null });
    await drain();
    const user = { id: 'AIDANOTIFYNOTIFY0001', accountId: account, kind: 'user' as const, name: 'n', path: '/', arn: `arn:aws:iam::${account}:user/n`,
      createdAt: 1, assumeRolePolicy: null, description: null, maxSessionDuration: null, permissionsBoundary: null };
    assert.equal(await identity.createIamEntity(user, [{ Key: 'a', Value: 'b' }, { Key: 'c', Value: 'd' }]), true);
    assert.deepEqual(await drain(), ['keyhold_changes:identity '], 'one notification per transaction');
    assert.equal(await identity.createIamEntity({ ...user, id: 'AIDANOTIFYNOTIFY0002' }, []), false);
    assert.deepEqual(await drain(), [], 'nothing changed, nothing said');
    await identity.putStsSession({
      accessKeyId: 'ASIANOTIFYNOTIFY0001', accountId: account, roleId: 'AROAX', roleArn: 'arn:r', roleName: 'r', sessionName: 's',
      wrappedCredentials: Buffer.from([1]), createdAt: 1, expiresAt: 2, sessionPolicy: null, policyArns: [], sessionTags: [], transitiveTagKeys: [],
      sourceIdentity: null, sourcePrincipalArn: 'arn:p',
    });
    assert.deepEqual(await drain(), [], 'sessions are not cached by id');
    assert.equal(await identity.putIamTags(user.id, [{ Key: 'e', Value: 'f' }], 2), false);
    assert.deepEqual(await drain(), [], 'a refused tag put writes nothing');
    await identity.putInlinePolicy(user.id, 'p', '{}');
    assert.deepEqual(await drain(), ['keyhold_changes:identity ']);
  } finally {
    await listener.end();
    await pool.close();
  }
});
