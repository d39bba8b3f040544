/**
 * The Store's invariants under concurrency (issue 13): many callers race, through two Store
 * instances on one database (two connections: two worker processes on SQLite, two nodes on
 * PostgreSQL), to exceed a per-key limit, to create the same idempotent thing, to move the same
 * alias and to change the same key. Every invariant lives in src/keys/guarded-writes.ts over
 * `Store.transaction`, so a second adapter runs this suite unchanged by passing its own `open`.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { addAlias, addGrant, addTags, changeKeyRecord, retargetAlias } from '../../src/keys/guarded-writes';
import type { AliasRecord, GrantRecord, KeyRecord, Store } from '../../src/store/store';

const ACCOUNT = '111122223333';
const REGION = 'us-east-1';

function key(): KeyRecord {
  const keyId = randomUUID();
  return {
    keyId, arn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${keyId}`, accountId: ACCOUNT, region: REGION, keySpec: 'SYMMETRIC_DEFAULT',
    keyUsage: 'ENCRYPT_DECRYPT', origin: 'AWS_KMS', keyManager: 'CUSTOMER', state: 'Enabled', description: '', policy: '{}',
    multiRegion: false, creationDate: 1_000, deletionDate: null, pendingWindowInDays: null, currentVersion: 1, rotationEnabled: false,
    rotationPeriodInDays: null, nextRotationDate: null, onDemandRotationStartDate: null, expirationModel: null, validTo: null,
    multiRegionKeyType: null, primaryRegion: null,
  };
}

function alias(k: KeyRecord, name: string): AliasRecord {
  return { accountId: ACCOUNT, region: REGION, aliasName: name, targetKeyId: k.keyId, targetKeyArn: k.arn, creationDate: 1, lastUpdatedDate: 1 };
}

function grant(k: KeyRecord, overrides: Partial<GrantRecord> = {}): GrantRecord {
  return {
    grantId: (randomUUID() + randomUUID()).replace(/-/g, ''), keyArn: k.arn, region: REGION, issuingAccount: ACCOUNT, name: null,
    idempotencyKey: null, granteePrincipal: `arn:aws:iam::${ACCOUNT}:user/alice`, granteeServicePrincipal: null, granteePrincipalId: null,
    retiringPrincipal: null, retiringServicePrincipal: null, operations: ['Encrypt'], constraints: null, creationDate: 1_000, ...overrides,
  };
}

function count<T>(xs: readonly T[], x: T): number {
  return xs.filter((y) => y === x).length;
}

const allowAny = (): void => undefined;

/** Registers the invariant suite for stores made by `open` (each call a new connection to one database). */
export function storeInvariantsContract(name: string, open: () => Promise<Store>): void {
  describe(`Store invariants under concurrency: ${name}`, () => {
    /** Runs `fn` with two stores on one database; the racing calls alternate between them. */
    async function withTwo(fn: (pick: (i: number) => Store) => Promise<void>): Promise<void> {
      const a = await open();
      const b = await open();
      try {
        await fn((i) => (i % 2 === 0 ? a : b));
      } finally {
        await a.close();
        await b.close();
      }
    }

    test('100 concurrent alias creations on one key leave exactly 50 aliases', async () => {
      await withTwo(async (pick) => {
        const k = key();
        await pick(0).createKey(k, null, []);
        const out = await Promise.all(Array.from({ length: 100 }, (_, i) => addAlias(pick(i), alias(k, `alias/race-${i}`), 50, allowAny)));
        assert.equal(count(out, 'created'), 50);
        assert.equal(count(out, 'limit-exceeded'), 50);
        assert.equal((await pick(1).listAliases(ACCOUNT, REGION, k.arn, { limit: 100 })).length, 50);
      });
    });

    test('concurrent creations of one alias name: exactly one wins, the others find it taken', async () => {
      await withTwo(async (pick) => {
        const keys = Array.from({ length: 6 }, key);
        for (const k of keys) await pick(0).createKey(k, null, []);
        const name = `alias/one-${randomUUID()}`;
        const out = await Promise.all(Array.from({ length: 30 }, (_, i) => addAlias(pick(i), alias(keys[i % keys.length] as KeyRecord, name), 50, allowAny)));
        assert.equal(count(out, 'created'), 1);
        assert.equal(count(out, 'exists'), 29);
      });
    });

    test('80 concurrent tag additions of one distinct tag each leave exactly 50 tags', async () => {
      await withTwo(async (pick) => {
        const k = key();
        await pick(0).createKey(k, null, []);
        const out = await Promise.all(
          Array.from({ length: 80 }, (_, i) => addTags(pick(i), k.arn, [{ TagKey: `t${i}`, TagValue: 'v' }], 50, allowAny)),
        );
        assert.equal(count(out, 'tagged'), 50);
        assert.equal(count(out, 'limit-exceeded'), 30);
        assert.equal((await pick(1).listTags(k.arn)).length, 50);
      });
    });

    test('concurrent grant creations stop at the per-key limit', async () => {
      await withTwo(async (pick) => {
        const k = key();
        await pick(0).createKey(k, null, []);
        const out = await Promise.all(Array.from({ length: 40 }, (_, i) => addGrant(pick(i), grant(k), 25, allowAny)));
        assert.equal(out.filter((g) => typeof g !== 'string').length, 25);
        assert.equal(count(out, 'limit-exceeded'), 15);
        assert.equal((await pick(1).listGrants(k.arn, {}, { limit: 100 })).length, 25);
      });
    });

    test('concurrent retries of one named grant create it once and all return it', async () => {
      await withTwo(async (pick) => {
        const k = key();
        await pick(0).createKey(k, null, []);
        const idem = 'c'.repeat(64);
        const out = await Promise.all(Array.from({ length: 30 }, (_, i) => addGrant(pick(i), grant(k, { name: 'n', idempotencyKey: idem }), 50, allowAny)));
        const ids = new Set(out.map((g) => (typeof g === 'string' ? g : g.grantId)));
        assert.equal(ids.size, 1, 'every caller got the same grant');
        assert.equal((await pick(1).listGrants(k.arn, {}, { limit: 100 })).length, 1);
      });
    });

    test('concurrent compare-and-swaps of one alias: exactly one moves it from the expected key', async () => {
      await withTwo(async (pick) => {
        const from = key();
        const targets = Array.from({ length: 5 }, key);
        for (const k of [from, ...targets]) await pick(0).createKey(k, null, []);
        const a = alias(from, `alias/cas-${randomUUID()}`);
        assert.equal(await addAlias(pick(0), a, 50, allowAny), 'created');
        const out = await Promise.all(
          Array.from({ length: 20 }, (_, i) => retargetAlias(pick(i), a, from.arn, targets[i % targets.length] as KeyRecord, 2, allowAny)),
        );
        const won = out.filter((o) => o.kind === 'updated');
        assert.equal(won.length, 1);
        const moved = out.filter((o) => o.kind === 'moved');
        assert.equal(moved.length, 19);
        const now = await pick(1).getAlias(ACCOUNT, REGION, a.aliasName);
        for (const o of moved) if (o.kind === 'moved') assert.equal(o.alias.targetKeyArn, now?.targetKeyArn, 'the losers see where the winner put it');
      });
    });

    test('concurrent read-modify-writes of one key lose no update, and a refused check changes nothing', async () => {
      await withTwo(async (pick) => {
        const k = key();
        await pick(0).createKey(k, null, []);
        await Promise.all(
          Array.from({ length: 40 }, (_, i) => changeKeyRecord(pick(i), k.arn, (cur) => ({ description: String(Number(cur.description || '0') + 1) }))),
        );
        assert.equal((await pick(1).getKey(k.arn))?.description, '40');
        // A transition refused on the locked row (here: only from Disabled) leaves the key as it was.
        const refused = Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            changeKeyRecord(pick(i), k.arn, (cur) => {
              if (cur.state !== 'Disabled') throw new Error('not disabled');
              return { state: 'Enabled', description: 'x' };
            }),
          ),
        );
        await assert.rejects(refused, /not disabled/);
        assert.equal((await pick(0).getKey(k.arn))?.description, '40');
      });
    });

    test('a transaction that throws writes nothing', async () => {
      await withTwo(async (pick) => {
        const k = key();
        await pick(0).createKey(k, null, []);
        await assert.rejects(
          pick(1).transaction(async (tx) => {
            await tx.tags.put(k.arn, [{ TagKey: 'half', TagValue: 'way' }]);
            await tx.keys.update(k.arn, { description: 'half-way' });
            throw new Error('refused');
          }),
          /refused/,
        );
        assert.deepEqual(await pick(0).listTags(k.arn), []);
        assert.equal((await pick(0).getKey(k.arn))?.description, '');
      });
    });
  });
}
