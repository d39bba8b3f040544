/**
 * The Store contract: one suite every Store implementation must pass (SQLite now; PostgreSQL
 * runs the same suite when it lands).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { grantPosition, type GrantRecord, type KeyRecord, type KeyVersionRecord, type Store } from '../../src/store/store';
import { identityStoreContract } from '../identity/identity-store-contract';
import { addGrant } from '../../src/keys/guarded-writes';

function key(overrides: Partial<KeyRecord> = {}): KeyRecord {
  const keyId = overrides.keyId ?? randomUUID();
  return {
    keyId,
    arn: `arn:aws:kms:${overrides.region ?? 'us-east-1'}:${overrides.accountId ?? '111122223333'}:key/${keyId}`,
    accountId: '111122223333',
    region: 'us-east-1',
    keySpec: 'SYMMETRIC_DEFAULT',
    keyUsage: 'ENCRYPT_DECRYPT',
    origin: 'AWS_KMS',
    keyManager: 'CUSTOMER',
    state: 'Enabled',
    description: '',
    policy: '{}',
    multiRegion: false,
    creationDate: 1_000,
    deletionDate: null,
    pendingWindowInDays: null,
    currentVersion: 1,
    rotationEnabled: false,
    rotationPeriodInDays: null,
    nextRotationDate: null,
    onDemandRotationStartDate: null,
    expirationModel: null,
    validTo: null,
    multiRegionKeyType: null,
    primaryRegion: null,
    ...overrides,
  };
}

function grantOn(k: KeyRecord, overrides: Partial<GrantRecord> = {}): GrantRecord {
  return {
    grantId: (randomUUID() + randomUUID()).replace(/-/g, ''),
    keyArn: k.arn,
    region: k.region,
    issuingAccount: k.accountId,
    name: null,
    idempotencyKey: null,
    granteePrincipal: `arn:aws:iam::${k.accountId}:user/alice`,
    granteeServicePrincipal: null,
    granteePrincipalId: 'AIDAALICEALICEALICE23',
    retiringPrincipal: null,
    retiringServicePrincipal: null,
    operations: ['Decrypt', 'Encrypt'],
    constraints: null,
    creationDate: 1_000,
    ...overrides,
  };
}

function version(keyArn: string, v = 1): KeyVersionRecord {
  return { keyArn, version: v, materialId: 'ab'.repeat(32), wrappedMaterial: Buffer.from([1, 2, 3, v]), createdAt: 5, origin: 'CREATE' };
}

/** Registers the contract suite for a store made by `open`. */
export function storeContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    test('migrate is idempotent', async () => {
      const s = await open();
      await s.migrate();
      await s.migrate();
      await s.close();
    });

    test('createKey stores the key, its first version and tags atomically', async () => {
      const s = await open();
      const k = key();
      await s.createKey(k, version(k.arn), [{ TagKey: 'a', TagValue: '1' }]);
      assert.deepEqual(await s.getKey(k.arn), k);
      assert.deepEqual(await s.getKeyVersion(k.arn, 1), version(k.arn));
      assert.deepEqual(await s.listTags(k.arn), [{ TagKey: 'a', TagValue: '1' }]);
      // A duplicate key id fails and leaves nothing half-written.
      const dup = key({ keyId: k.keyId, description: 'dup' });
      await assert.rejects(s.createKey(dup, version(k.arn), [{ TagKey: 'b', TagValue: '2' }]));
      assert.equal((await s.getKey(k.arn))?.description, '');
      assert.deepEqual(await s.listTags(k.arn), [{ TagKey: 'a', TagValue: '1' }]);
      await s.close();
    });

    test('updateKey honours the state guard', async () => {
      const s = await open();
      const k = key();
      await s.createKey(k, version(k.arn), []);
      assert.equal(await s.updateKey(k.arn, { state: 'Disabled' }, ['PendingDeletion']), false);
      assert.equal((await s.getKey(k.arn))?.state, 'Enabled');
      assert.equal(await s.updateKey(k.arn, { state: 'Disabled', description: 'x' }, ['Enabled']), true);
      const got = await s.getKey(k.arn);
      assert.equal(got?.state, 'Disabled');
      assert.equal(got?.description, 'x');
      await s.close();
    });

    test('applyKeyWrites: a moved current version aborts the whole batch (no double rotation)', async () => {
      const s = await open();
      const k = key();
      await s.createKey(k, version(k.arn), []);
      const rotate = (from: number) => s.applyKeyWrites([
        { kind: 'update-key', arn: k.arn, patch: { currentVersion: from + 1 }, ifStates: ['Enabled'], ifCurrentVersion: from },
        { kind: 'put-version', version: version(k.arn, from + 1) },
      ]);
      assert.equal(await rotate(1), true);
      assert.equal(await rotate(1), false, 'the loser of a race sees its guard fail');
      assert.equal((await s.getKey(k.arn))?.currentVersion, 2);
      assert.deepEqual((await s.listKeyVersions(k.arn)).map((v) => v.version), [1, 2]);
      await s.close();
    });

    test('listKeysDueForRotation lists only Enabled keys with rotation on whose date has come', async () => {
      const s = await open();
      const due = key({ rotationEnabled: true, rotationPeriodInDays: 90, nextRotationDate: 500 });
      const later = key({ rotationEnabled: true, rotationPeriodInDays: 90, nextRotationDate: 5_000 });
      const disabled = key({ state: 'Disabled', rotationEnabled: true, rotationPeriodInDays: 90, nextRotationDate: 400 });
      const off = key({ rotationEnabled: false, nextRotationDate: 300 });
      for (const k of [due, later, disabled, off]) await s.createKey(k, version(k.arn), []);
      const arns = (await s.listKeysDueForRotation(1_000, 1000)).map((k) => k.arn);
      assert.ok(arns.includes(due.arn));
      for (const k of [later, disabled, off]) assert.ok(!arns.includes(k.arn), `${k.arn} is not due`);
      await s.close();
    });

    test('listKeys pages in key-id order within one account and region', async () => {
      const s = await open();
      const account = String(Math.floor(Math.random() * 1e12)).padStart(12, '0');
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        const k = key({ accountId: account });
        ids.push(k.keyId);
        await s.createKey(k, null, []);
      }
      await s.createKey(key({ accountId: account, region: 'eu-west-1' }), null, []);
      ids.sort();
      const first = await s.listKeys(account, 'us-east-1', { limit: 3 });
      assert.deepEqual(first.map((k) => k.keyId), ids.slice(0, 3));
      const rest = await s.listKeys(account, 'us-east-1', { after: ids[2], limit: 10 });
      assert.deepEqual(rest.map((k) => k.keyId), ids.slice(3));
      await s.close();
    });

    test('aliases: unique per account and region, re-pointable, deleted with their key', async () => {
      const s = await open();
      const k1 = key();
      const k2 = key();
      await s.createKey(k1, null, []);
      await s.createKey(k2, null, []);
      const name = `alias/${randomUUID()}`;
      const a = {
        accountId: k1.accountId, region: 'us-east-1', aliasName: name, targetKeyId: k1.keyId, targetKeyArn: k1.arn,
        creationDate: 1, lastUpdatedDate: 1,
      };
      assert.equal(await s.createAlias(a), true);
      assert.equal(await s.createAlias({ ...a, targetKeyId: k2.keyId, targetKeyArn: k2.arn }), false);
      // Compare-and-swap: only from the target the caller expects.
      assert.equal(await s.updateAlias(k1.accountId, 'us-east-1', name, k2.arn, k2.keyId, k2.arn, 9), false);
      assert.equal((await s.getAlias(k1.accountId, 'us-east-1', name))?.targetKeyId, k1.keyId);
      assert.equal(await s.updateAlias(k1.accountId, 'us-east-1', name, k1.arn, k2.keyId, k2.arn, 9), true);
      assert.equal((await s.getAlias(k1.accountId, 'us-east-1', name))?.targetKeyId, k2.keyId);
      assert.equal((await s.listAliases(k1.accountId, 'us-east-1', k2.arn, { limit: 10 })).length, 1);
      await s.updateKey(k2.arn, { state: 'PendingDeletion', deletionDate: 10 });
      assert.equal(await s.deleteKeyIfDue(k2.arn, 10), true);
      assert.equal(await s.getAlias(k1.accountId, 'us-east-1', name), undefined);
      assert.equal(await s.getKeyVersion(k2.arn, 1), undefined);
      await s.close();
    });

    test('deleteKeyIfDue deletes only keys pending deletion whose date has come', async () => {
      const s = await open();
      const early = key({ state: 'PendingDeletion', deletionDate: 100 });
      const late = key({ state: 'PendingDeletion', deletionDate: 200 });
      const live = key();
      for (const k of [early, late, live]) await s.createKey(k, version(k.arn), [{ TagKey: 't', TagValue: 'v' }]);
      const due = await s.listKeysDueForDeletion(150, 100);
      assert.ok(due.some((k) => k.keyId === early.keyId));
      assert.ok(!due.some((k) => k.keyId === late.keyId || k.keyId === live.keyId));
      assert.equal(await s.deleteKeyIfDue(late.arn, 150), false);
      assert.equal(await s.deleteKeyIfDue(live.arn, 150), false);
      assert.equal(await s.deleteKeyIfDue(early.arn, 150), true);
      assert.equal(await s.getKey(early.arn), undefined);
      assert.deepEqual(await s.listTags(early.arn), []);
      assert.ok(await s.getKey(late.arn));
      await s.close();
    });

    test('expireImportedMaterialIfDue deletes expired imported material once; pending deletion keeps its state', async () => {
      const s = await open();
      const ext = (o: Partial<KeyRecord>): KeyRecord => key({ origin: 'EXTERNAL', expirationModel: 'KEY_MATERIAL_EXPIRES', ...o });
      const due = ext({ validTo: 500 });
      const doomed = ext({ state: 'PendingDeletion', deletionDate: 9_000, pendingWindowInDays: 7, validTo: 600 });
      const later = ext({ validTo: 5_000 });
      const never = ext({ expirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' });
      const generated = key({ validTo: 400 });
      for (const k of [due, doomed, later, never, generated]) await s.createKey(k, version(k.arn), []);
      const listed = async (): Promise<string[]> => (await s.listKeysWithExpiringMaterial(1_000, 1000)).map((k) => k.arn);
      const before = await listed();
      assert.ok(before.includes(due.arn) && before.includes(doomed.arn));
      for (const k of [later, never, generated]) assert.ok(!before.includes(k.arn), `${k.arn} is not expiring`);

      assert.equal(await s.expireImportedMaterialIfDue(later.arn, 1_000), false);
      assert.equal(await s.expireImportedMaterialIfDue(generated.arn, 1_000), false);
      assert.equal(await s.expireImportedMaterialIfDue(due.arn, 1_000), true);
      assert.equal(await s.expireImportedMaterialIfDue(due.arn, 1_000), false, 'only once');
      assert.equal(await s.expireImportedMaterialIfDue(doomed.arn, 1_000), true);
      assert.deepEqual(await s.getKey(due.arn), { ...due, state: 'PendingImport', validTo: null });
      assert.deepEqual(await s.getKey(doomed.arn), { ...doomed, validTo: null });
      assert.equal((await s.getKeyVersion(due.arn, 1))?.wrappedMaterial, null);
      assert.equal((await s.getKeyVersion(doomed.arn, 1))?.wrappedMaterial, null);
      assert.deepEqual(await s.getKeyVersion(later.arn, 1), version(later.arn));
      const after = await listed();
      assert.ok(!after.includes(due.arn) && !after.includes(doomed.arn));
      await s.close();
    });

    test('import tokens are stored, read back and pruned once expired', async () => {
      const s = await open();
      const k = key({ origin: 'EXTERNAL', state: 'PendingImport', currentVersion: 0 });
      await s.createKey(k, null, []);
      const token = (tokenId: string, expiresAt: number) => ({
        tokenId, keyArn: k.arn, wrappingKeySpec: 'RSA_2048', wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappedPrivateKey: Buffer.from([9, 9]), expiresAt,
      });
      const old = token(randomUUID(), 1_000);
      const fresh = token(randomUUID(), 3_000);
      await s.putImportToken(old);
      await s.putImportToken(fresh);
      assert.deepEqual(await s.getImportToken(old.tokenId), old);
      assert.equal(await s.getImportToken(randomUUID()), undefined);
      assert.ok((await s.pruneImportTokens(2_000)) >= 1);
      assert.equal(await s.getImportToken(old.tokenId), undefined);
      assert.deepEqual(await s.getImportToken(fresh.tokenId), fresh);
      await s.close();
    });

    test('tags: put overwrites, remove deletes, list pages by key', async () => {
      const s = await open();
      const k = key();
      await s.createKey(k, null, []);
      await s.putTags(k.arn, [{ TagKey: 'b', TagValue: '1' }, { TagKey: 'a', TagValue: '1' }]);
      await s.putTags(k.arn, [{ TagKey: 'b', TagValue: '2' }]);
      assert.deepEqual(await s.listTags(k.arn), [{ TagKey: 'a', TagValue: '1' }, { TagKey: 'b', TagValue: '2' }]);
      assert.deepEqual(await s.listTags(k.arn, { after: 'a', limit: 5 }), [{ TagKey: 'b', TagValue: '2' }]);
      await s.removeTags(k.arn, ['a', 'zz']);
      assert.deepEqual(await s.listTags(k.arn), [{ TagKey: 'b', TagValue: '2' }]);
      await s.close();
    });

    test('access keys are upserted and listed per account', async () => {
      const s = await open();
      await s.ensureAccount('999988887777', 1);
      const rec = {
        accessKeyId: `AKIA${randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase()}`,
        accountId: '999988887777',
        principalArn: 'arn:aws:iam::999988887777:root',
        principalId: '999988887777',
        principalType: 'Root' as const,
        userName: null,
        wrappedSecret: Buffer.from([9, 9]),
        status: 'Active' as const,
        createdAt: 3,
      };
      assert.ok((await s.listAccounts()).includes('999988887777'));
      await s.putAccessKey(rec);
      await s.putAccessKey({ ...rec, wrappedSecret: Buffer.from([8]) });
      assert.deepEqual((await s.getAccessKey(rec.accessKeyId))?.wrappedSecret, Buffer.from([8]));
      assert.ok((await s.listAccessKeys('999988887777')).some((r) => r.accessKeyId === rec.accessKeyId));
      await s.close();
    });

    test('grants: created and read back whole, listed by (creation date, grant id) with filters, deleted per key', async () => {
      const s = await open();
      const k = key();
      const other = key();
      await s.createKey(k, version(k.arn), []);
      await s.createKey(other, version(other.arn), []);
      const full = grantOn(k, {
        name: 'n', idempotencyKey: 'f'.repeat(64), retiringPrincipal: 'arn:aws:iam::111122223333:role/r', creationDate: 2_000,
        constraints: { EncryptionContextEquals: { a: '1' }, EncryptionContextSubset: { b: '2' }, SourceArn: 'arn:aws:s3:::bucket' },
      });
      assert.deepEqual(await addGrant(s, full, 10, () => undefined), full);
      assert.deepEqual(await s.getGrant(full.grantId), full);
      const svc = grantOn(k, { granteePrincipal: null, granteeServicePrincipal: 'logs.us-east-1.amazonaws.com', retiringServicePrincipal: 'logs.us-east-1.amazonaws.com', creationDate: 500 });
      await addGrant(s, svc, 10, () => undefined);
      const sameTime = [grantOn(k, { creationDate: 2_000 }), grantOn(k, { creationDate: 2_000 })];
      for (const g of sameTime) await addGrant(s, g, 10, () => undefined);
      await addGrant(s, grantOn(other), 10, () => undefined);
      const order = [svc, ...[full, ...sameTime].sort((x, y) => (x.grantId < y.grantId ? -1 : 1))].map((g) => g.grantId);
      assert.deepEqual((await s.listGrants(k.arn, {}, { limit: 10 })).map((g) => g.grantId), order);
      const first = await s.listGrants(k.arn, {}, { limit: 2 });
      assert.deepEqual(first.map((g) => g.grantId), order.slice(0, 2));
      const rest = await s.listGrants(k.arn, {}, { after: grantPosition(first[1] as GrantRecord), limit: 10 });
      assert.deepEqual(rest.map((g) => g.grantId), order.slice(2));
      assert.deepEqual((await s.listGrants(k.arn, { grantId: full.grantId }, { limit: 10 })).map((g) => g.grantId), [full.grantId]);
      assert.deepEqual((await s.listGrants(other.arn, { grantId: full.grantId }, { limit: 10 })), []);
      assert.equal((await s.listGrants(k.arn, { granteePrincipal: 'arn:aws:iam::111122223333:user/alice' }, { limit: 10 })).length, 3);
      assert.equal(await s.deleteGrant(other.arn, full.grantId), false);
      assert.equal(await s.deleteGrant(k.arn, full.grantId), true);
      assert.equal(await s.getGrant(full.grantId), undefined);
      await s.close();
    });

    test('createGrant: a same idempotency key on the same key returns the first grant; the per-key limit holds', async () => {
      const s = await open();
      const k = key();
      const other = key();
      await s.createKey(k, version(k.arn), []);
      await s.createKey(other, version(other.arn), []);
      const named = grantOn(k, { name: 'n', idempotencyKey: 'a'.repeat(64) });
      assert.equal((await addGrant(s, named, 3, () => undefined)) as GrantRecord, named);
      assert.deepEqual(await addGrant(s, grantOn(k, { name: 'n', idempotencyKey: 'a'.repeat(64) }), 3, () => undefined), named);
      const elsewhere = grantOn(other, { name: 'n', idempotencyKey: 'a'.repeat(64) });
      assert.deepEqual(await addGrant(s, elsewhere, 3, () => undefined), elsewhere);
      await addGrant(s, grantOn(k), 3, () => undefined);
      await addGrant(s, grantOn(k), 3, () => undefined);
      assert.equal(await addGrant(s, grantOn(k), 3, () => undefined), 'limit-exceeded');
      assert.deepEqual(await addGrant(s, grantOn(k, { name: 'n', idempotencyKey: 'a'.repeat(64) }), 3, () => undefined), named, 'a retry at the limit');
      assert.equal((await s.listGrants(k.arn, {}, { limit: 10 })).length, 3);
      await s.close();
    });

    test('grants: by grantee for authorization, retirable by principal across accounts of a region, gone with their key', async () => {
      const s = await open();
      const k = key();
      const foreign = key({ accountId: '444455556666' });
      const west = key({ region: 'us-west-2' });
      for (const x of [k, foreign, west]) await s.createKey(x, version(x.arn), []);
      const retirer = `arn:aws:iam::111122223333:role/retirer-${randomUUID()}`;
      const bob = 'arn:aws:iam::111122223333:user/bob';
      const a = grantOn(k, { retiringPrincipal: retirer, creationDate: 1 });
      const b = grantOn(foreign, { retiringPrincipal: retirer, granteePrincipal: bob, creationDate: 2 });
      const c = grantOn(west, { retiringPrincipal: retirer, creationDate: 3 });
      for (const g of [a, b, c]) await addGrant(s, g, 10, () => undefined);
      assert.deepEqual((await s.listRetirableGrants('us-east-1', retirer, { limit: 10 })).map((g) => g.grantId), [a.grantId, b.grantId]);
      const page1 = await s.listRetirableGrants('us-east-1', retirer, { limit: 1 });
      assert.deepEqual(
        (await s.listRetirableGrants('us-east-1', retirer, { after: grantPosition(page1[0] as GrantRecord), limit: 10 })).map((g) => g.grantId),
        [b.grantId],
      );
      assert.deepEqual((await s.listGrantsForGrantee(foreign.arn, [bob, 'arn:aws:iam::444455556666:root'])).map((g) => g.grantId), [b.grantId]);
      assert.deepEqual(await s.listGrantsForGrantee(foreign.arn, []), []);
      assert.deepEqual(await s.listGrantsForGrantee(k.arn, [bob]), []);
      // Deleting a key deletes its grants.
      await s.updateKey(k.arn, { state: 'PendingDeletion', deletionDate: 10 });
      assert.equal(await s.deleteKeyIfDue(k.arn, 10), true);
      assert.equal(await s.getGrant(a.grantId), undefined);
      assert.deepEqual((await s.listRetirableGrants('us-east-1', retirer, { limit: 10 })).map((g) => g.grantId), [b.grantId]);
      await s.close();
    });

    test('ensureGrantTokenKey keeps the first key stored', async () => {
      const s = await open();
      const first = await s.ensureGrantTokenKey(Buffer.from([1, 2, 3]));
      assert.deepEqual(await s.ensureGrantTokenKey(Buffer.from([4, 5, 6])), first);
      await s.close();
    });
  });
  identityStoreContract(name, open);
}
