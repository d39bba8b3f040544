/**
 * The IdentityStore contract (Store.identity): run by test/store/store-contract.ts against every
 * Store implementation.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { AccessKeyRecord, IamEntityKind, IamEntityRecord, OrganizationRecord, OrgPolicyRecord, StsSessionRecord, Store } from '../../src/store/store';

let n = 0;
function accountId(): string {
  n += 1;
  return String(100_000_000_000 + Math.floor(Math.random() * 800_000_000_000) + n).slice(0, 12);
}

function entity(account: string, kind: IamEntityKind, name: string, overrides: Partial<IamEntityRecord> = {}): IamEntityRecord {
  return {
    id: `${kind === 'user' ? 'AIDA' : kind === 'role' ? 'AROA' : 'AGPA'}${randomUUID().replace(/-/g, '').slice(0, 17).toUpperCase()}`,
    accountId: account,
    kind,
    name,
    path: '/',
    arn: `arn:aws:iam::${account}:${kind}/${name}`,
    createdAt: 5,
    assumeRolePolicy: kind === 'role' ? '{"Statement":[]}' : null,
    description: null,
    maxSessionDuration: kind === 'role' ? 3600 : null,
    permissionsBoundary: null,
    ...overrides,
  };
}

function accessKey(account: string, principalId: string): AccessKeyRecord {
  return {
    accessKeyId: `AKIA${randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase()}`,
    accountId: account,
    principalArn: `arn:aws:iam::${account}:user/u`,
    principalId,
    principalType: 'IAMUser',
    userName: 'u',
    wrappedSecret: Buffer.from([1]),
    status: 'Active',
    createdAt: 1,
  };
}

async function newAccount(s: Store): Promise<string> {
  const id = accountId();
  await s.ensureAccount(id, 1);
  return id;
}

/** Registers the identity contract for a store made by `open`. */
export function identityStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`IdentityStore contract: ${name}`, () => {
    test('IAM names are unique per account and kind, case-insensitively, and looked up in any case', async () => {
      const s = await open();
      const a = await newAccount(s);
      const seen: string[] = [];
      s.changes.subscribe((c) => seen.push(...(c === 'everything' ? ['everything'] : c.map((x) => x.entity))));
      const alice = entity(a, 'user', 'Alice');
      assert.equal(await s.identity.createIamEntity(alice, [{ Key: 't', Value: 'v' }]), true);
      assert.ok(seen.includes('identity'), 'the change feed reports identity writes by the time they return');
      assert.equal(await s.identity.createIamEntity(entity(a, 'user', 'ALICE'), []), false);
      assert.equal(await s.identity.createIamEntity(entity(a, 'role', 'alice'), []), true);
      assert.deepEqual(await s.identity.getIamEntity(a, 'user', 'alice'), alice);
      assert.deepEqual(await s.identity.getIamEntityById(alice.id), alice);
      assert.deepEqual(await s.identity.listIamTags(alice.id), [{ Key: 't', Value: 'v' }]);
      const other = await newAccount(s);
      assert.equal(await s.identity.getIamEntity(other, 'user', 'alice'), undefined);
      await s.close();
    });

    test('listIamEntities filters by path prefix and pages by lowercased name', async () => {
      const s = await open();
      const a = await newAccount(s);
      for (const name of ['c', 'B', 'a']) await s.identity.createIamEntity(entity(a, 'user', name, { path: '/x/' }), []);
      await s.identity.createIamEntity(entity(a, 'user', 'z', { path: '/y_/' }), []);
      const page = await s.identity.listIamEntities(a, 'user', '/x/', { limit: 2 });
      assert.deepEqual(page.map((e) => e.name), ['a', 'B']);
      assert.deepEqual((await s.identity.listIamEntities(a, 'user', '/x/', { after: 'b', limit: 5 })).map((e) => e.name), ['c']);
      assert.deepEqual((await s.identity.listIamEntities(a, 'user', '/y_', { limit: 5 })).map((e) => e.name), ['z']);
      assert.deepEqual((await s.identity.listIamEntities(a, 'user', '/y%', { limit: 5 })).map((e) => e.name), [], 'LIKE wildcards are literal');
      await s.close();
    });

    test('deleteIamEntity refuses while keys, policies or memberships remain', async () => {
      const s = await open();
      const a = await newAccount(s);
      const u = entity(a, 'user', 'u');
      const g = entity(a, 'group', 'g');
      await s.identity.createIamEntity(u, []);
      await s.identity.createIamEntity(g, []);
      const key = accessKey(a, u.id);
      assert.equal(await s.identity.createAccessKeyWithinQuota(key, 1), true);
      assert.equal(await s.identity.createAccessKeyWithinQuota(accessKey(a, u.id), 1), false);
      assert.equal(await s.identity.deleteIamEntity(u.id), 'has-access-keys');
      assert.equal(await s.identity.setAccessKeyStatus(key.accessKeyId, 'Inactive'), true);
      assert.equal((await s.getAccessKey(key.accessKeyId))?.status, 'Inactive');
      assert.deepEqual((await s.identity.listAccessKeysForPrincipal(u.id)).map((k) => k.accessKeyId), [key.accessKeyId]);
      assert.equal(await s.identity.deleteAccessKey(key.accessKeyId), true);
      await s.identity.putInlinePolicy(u.id, 'p', '{}');
      await s.identity.putInlinePolicy(u.id, 'p', '{"v":2}');
      assert.deepEqual(await s.identity.listInlinePolicies(u.id), [{ policyName: 'p', document: '{"v":2}' }]);
      assert.equal(await s.identity.deleteIamEntity(u.id), 'has-inline-policies');
      assert.equal(await s.identity.deleteInlinePolicy(u.id, 'p'), true);
      assert.equal(await s.identity.deleteInlinePolicy(u.id, 'p'), false);
      await s.identity.attachPolicy(u.id, 'arn:aws:iam::aws:policy/AdministratorAccess');
      await s.identity.attachPolicy(u.id, 'arn:aws:iam::aws:policy/AdministratorAccess');
      assert.equal(await s.identity.countPolicyAttachments('arn:aws:iam::aws:policy/AdministratorAccess') >= 1, true);
      assert.equal(await s.identity.deleteIamEntity(u.id), 'has-attached-policies');
      assert.equal(await s.identity.detachPolicy(u.id, 'arn:aws:iam::aws:policy/AdministratorAccess'), true);
      await s.identity.addUserToGroup(g.id, u.id);
      assert.deepEqual((await s.identity.listGroupsForUser(u.id)).map((e) => e.name), ['g']);
      assert.equal(await s.identity.deleteIamEntity(u.id), 'has-group-memberships');
      assert.equal(await s.identity.deleteIamEntity(g.id), 'has-members');
      await s.close();
    });

    test('putIamTags overwrites and enforces the quota all-or-nothing', async () => {
      const s = await open();
      const a = await newAccount(s);
      const r = entity(a, 'role', 'r');
      await s.identity.createIamEntity(r, [{ Key: 'a', Value: '1' }]);
      assert.equal(await s.identity.putIamTags(r.id, [{ Key: 'a', Value: '2' }, { Key: 'b', Value: '3' }], 2), true);
      assert.equal(await s.identity.putIamTags(r.id, [{ Key: 'c', Value: '4' }], 2), false);
      assert.deepEqual(await s.identity.listIamTags(r.id), [{ Key: 'a', Value: '2' }, { Key: 'b', Value: '3' }]);
      await s.close();
    });

    test('managed policies are unique by name per account', async () => {
      const s = await open();
      const a = await newAccount(s);
      const p = {
        arn: `arn:aws:iam::${a}:policy/P`, policyId: `ANPA${randomUUID().slice(0, 8)}`, accountId: a, policyName: 'P', path: '/', document: '{}',
        description: null, createdAt: 1, updatedAt: 1,
      };
      assert.equal(await s.identity.createManagedPolicy(p), true);
      assert.equal(await s.identity.createManagedPolicy({ ...p, arn: `arn:aws:iam::${a}:policy/x/p`, policyId: `ANPA${randomUUID().slice(0, 8)}`, policyName: 'p' }), false);
      assert.deepEqual(await s.identity.getManagedPolicy(p.arn), p);
      await s.close();
    });

    test('STS sessions round-trip and expired ones are pruned', async () => {
      const s = await open();
      const a = await newAccount(s);
      const session: StsSessionRecord = {
        accessKeyId: `ASIA${randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase()}`,
        accountId: a, roleId: 'AROAX', roleArn: `arn:aws:iam::${a}:role/r`, roleName: 'r', sessionName: 's',
        wrappedCredentials: Buffer.from([7, 7]), createdAt: 10, expiresAt: 20, sessionPolicy: '{}', policyArns: ['arn:x'],
        sessionTags: [{ Key: 'k', Value: 'v' }], transitiveTagKeys: ['k'], sourceIdentity: 'me', sourcePrincipalArn: 'arn:src',
      };
      await s.identity.putStsSession(session);
      assert.deepEqual(await s.identity.getStsSession(session.accessKeyId), session);
      assert.ok((await s.identity.pruneStsSessions(21)) >= 1);
      assert.equal(await s.identity.getStsSession(session.accessKeyId), undefined);
      await s.close();
    });

    test('organizations: one per management account, members join once, SCPs attach to root and accounts', async () => {
      const s = await open();
      const mgmt = await newAccount(s);
      const other = await newAccount(s);
      const orgId = `o-${randomUUID().replace(/-/g, '').slice(0, 10)}`;
      const org: OrganizationRecord = {
        id: orgId, arn: `arn:aws:organizations::${mgmt}:organization/${orgId}`, managementAccountId: mgmt, featureSet: 'ALL', rootId: 'r-ab12',
        createdAt: 3, enabledPolicyTypes: [],
      };
      assert.equal(await s.identity.createOrganization(org, 3), true);
      assert.equal(await s.identity.createOrganization({ ...org, id: `${orgId}x` }, 3), false);
      assert.deepEqual(await s.identity.getOrganization(orgId), org);
      assert.equal((await s.identity.getAccount(mgmt))?.organizationId, orgId);
      const full: OrgPolicyRecord = {
        organizationId: orgId, id: 'p-FullAWSAccess', arn: 'arn:full', name: 'FullAWSAccess', description: '', type: 'SERVICE_CONTROL_POLICY', content: '{}', awsManaged: true,
      };
      assert.equal(await s.identity.enablePolicyType(orgId, 'SERVICE_CONTROL_POLICY', full), true);
      assert.equal(await s.identity.enablePolicyType(orgId, 'SERVICE_CONTROL_POLICY', full), false);
      assert.equal(await s.identity.joinOrganization(other, orgId, 'INVITED', 4, ['p-FullAWSAccess']), true);
      assert.equal(await s.identity.joinOrganization(other, orgId, 'INVITED', 4, []), false);
      assert.deepEqual((await s.identity.listOrganizationAccounts(orgId, { limit: 10 })).map((x) => x.accountId), [mgmt, other].sort());
      assert.deepEqual((await s.identity.listOrgPolicyTargets(orgId, 'p-FullAWSAccess', { limit: 10 })).sort(), [mgmt, other, 'r-ab12'].sort());
      const deny: OrgPolicyRecord = { ...full, id: 'p-deny0000', arn: 'arn:deny', name: 'deny', awsManaged: false };
      assert.equal(await s.identity.createOrgPolicy(deny), true);
      assert.equal(await s.identity.createOrgPolicy({ ...deny, id: 'p-deny0001' }), false, 'names are unique per type');
      assert.equal(await s.identity.attachOrgPolicy(orgId, deny.id, other), true);
      assert.equal(await s.identity.attachOrgPolicy(orgId, deny.id, other), false);
      assert.deepEqual((await s.identity.listOrgPoliciesForTarget(orgId, other, 'SERVICE_CONTROL_POLICY')).map((p) => p.id), ['p-FullAWSAccess', 'p-deny0000']);
      assert.equal(await s.identity.detachOrgPolicy(orgId, deny.id, other), true);
      assert.equal(await s.identity.detachOrgPolicy(orgId, deny.id, other), false);
      assert.deepEqual((await s.identity.listOrgPolicies(orgId, 'SERVICE_CONTROL_POLICY', { limit: 10 })).map((p) => p.id), ['p-FullAWSAccess', 'p-deny0000']);
      await s.close();
    });
  });
}
