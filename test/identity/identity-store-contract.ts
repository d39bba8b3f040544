/**
 * How `Store.identity` fits its Store: run by test/store/store-contract.ts against every Store
 * implementation. The IdentityStore's own behaviour (every method, uniqueness and quotas under
 * concurrency) is the port contract in test/store/identity-store-contract.ts; this checks only
 * what joins the two: identity writes reach the Store's change feed by the time they return, and
 * the access keys the identity side writes are the ones the Store's request path reads.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { AccessKeyRecord, IamEntityRecord, Store } from '../../src/store/store';

function accountId(): string {
  return String(100_000_000_000 + Math.floor(Math.random() * 800_000_000_000)).slice(0, 12);
}

/** Registers the identity-in-the-Store checks for a store made by `open`. */
export function identityStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`Store.identity within the Store: ${name}`, () => {
    test('identity writes reach the change feed by the time they return; identity access keys are the Store\'s', async () => {
      const s = await open();
      const a = accountId();
      await s.ensureAccount(a, 1);
      const seen: string[] = [];
      s.changes.subscribe((c) => seen.push(...(c === 'everything' ? ['everything'] : c.map((x) => x.entity))));
      const user: IamEntityRecord = {
        id: `AIDA${randomUUID().replace(/-/g, '').slice(0, 17).toUpperCase()}`, accountId: a, kind: 'user', name: 'Alice', path: '/',
        arn: `arn:aws:iam::${a}:user/Alice`, createdAt: 5, assumeRolePolicy: null, description: null, maxSessionDuration: null, permissionsBoundary: null,
      };
      assert.equal(await s.identity.createIamEntity(user, []), true);
      assert.ok(seen.includes('identity') || seen.includes('everything'), 'the change feed reports identity writes by the time they return');
      const key: AccessKeyRecord = {
        accessKeyId: `AKIA${randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase()}`, accountId: a, principalArn: user.arn, principalId: user.id,
        principalType: 'IAMUser', userName: 'Alice', wrappedSecret: Buffer.from([1, 2, 3]), status: 'Active', createdAt: 1,
      };
      assert.equal(await s.identity.createAccessKeyWithinQuota(key, 2), 'created');
      assert.deepEqual(await s.getAccessKey(key.accessKeyId), key);
      seen.length = 0;
      assert.equal(await s.identity.setAccessKeyStatus(key.accessKeyId, 'Inactive'), true);
      assert.ok(seen.includes('identity') || seen.includes('everything'), 'a deactivated key is news to every cache');
      assert.equal((await s.getAccessKey(key.accessKeyId))?.status, 'Inactive');
      assert.ok((await s.listAccessKeys(a)).some((k) => k.accessKeyId === key.accessKeyId));
      assert.equal(await s.identity.deleteAccessKey(key.accessKeyId), true);
      assert.equal(await s.getAccessKey(key.accessKeyId), undefined);
      await s.close();
    });
  });
}
