/**
 * The identity resolver (src/identity/identity-policies.ts) over a real SQLite store: what a
 * caller's identity policies, session policies, principal tags, groups and SCP levels are, and
 * that a write in this process is seen by the next resolution.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ManualClock } from '../../src/clock';
import { FULL_AWS_ACCESS_ID, fullAwsAccessPolicy } from '../../src/identity/accounts';
import type { Caller } from '../../src/identity/caller';
import {
  IdentityResolver, compiledPolicySet, principalConditionKeys, requestPrincipal, resolveCallerIdentity,
} from '../../src/identity/identity-policies';
import { sessionCaller } from '../../src/identity/sessions';
import { authorize } from '../../src/policy';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import type { IamEntityRecord, StsSessionRecord } from '../../src/store/store';
import { removeDir, tempDir } from '../helpers/server';

const dir = tempDir();
let store: SqliteStore;
const MGMT = '111111111111';
const MEMBER = '222222222222';
const doc = (action: string, effect = 'Allow'): string => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: effect, Action: action, Resource: '*' }] });

function entity(account: string, kind: IamEntityRecord['kind'], name: string, id: string): IamEntityRecord {
  return {
    id, accountId: account, kind, name, path: '/', arn: `arn:aws:iam::${account}:${kind}/${name}`, createdAt: 1,
    assumeRolePolicy: kind === 'role' ? '{}' : null, description: null, maxSessionDuration: kind === 'role' ? 3600 : null, permissionsBoundary: null,
  };
}

const userCaller = (account: string, name: string, id: string): Caller => ({
  accountId: account, principalArn: `arn:aws:iam::${account}:user/${name}`, principalId: id, principalType: 'IAMUser', userName: name,
  accessKeyId: `AKIA${id}`, uniqueId: id,
});

function session(overrides: Partial<StsSessionRecord> = {}): StsSessionRecord {
  return {
    accessKeyId: 'ASIATESTTESTTESTTEST', accountId: MEMBER, roleId: 'AROAROLE', roleArn: `arn:aws:iam::${MEMBER}:role/app`, roleName: 'app',
    sessionName: 'sess', wrappedCredentials: Buffer.alloc(1), createdAt: Date.UTC(2026, 0, 1), expiresAt: Date.UTC(2026, 0, 2),
    sessionPolicy: doc('kms:Encrypt'), policyArns: ['arn:aws:iam::aws:policy/IAMReadOnlyAccess'],
    sessionTags: [{ Key: 'Team', Value: 'red' }], transitiveTagKeys: ['Team'], sourceIdentity: 'alice', sourcePrincipalArn: 'arn:src',
    ...overrides,
  };
}

before(async () => {
  store = new SqliteStore({ path: join(dir, 'resolver.db') });
  await store.migrate();
  for (const a of [MGMT, MEMBER]) await store.ensureAccount(a, 1);
  // A user in a group; the group and the user each have an inline and a managed policy.
  await store.identity.createIamEntity(entity(MEMBER, 'user', 'bob', 'AIDABOB'), [{ Key: 'team', Value: 'blue' }]);
  await store.identity.createIamEntity(entity(MEMBER, 'group', 'devs', 'AGPADEVS'), []);
  await store.identity.addUserToGroup('AGPADEVS', 'AIDABOB');
  await store.identity.putInlinePolicy('AIDABOB', 'own', doc('kms:Decrypt'));
  await store.identity.attachPolicy('AIDABOB', 'arn:aws:iam::aws:policy/IAMReadOnlyAccess');
  await store.identity.putInlinePolicy('AGPADEVS', 'group', doc('kms:Encrypt'));
  await store.identity.createManagedPolicy({
    arn: `arn:aws:iam::${MEMBER}:policy/deny-delete`, policyId: 'ANPADENY', accountId: MEMBER, policyName: 'deny-delete', path: '/',
    document: doc('kms:ScheduleKeyDeletion', 'Deny'), description: null, createdAt: 1, updatedAt: 1,
  });
  await store.identity.attachPolicy('AGPADEVS', `arn:aws:iam::${MEMBER}:policy/deny-delete`);
  // A role with tags that session tags override.
  await store.identity.createIamEntity(entity(MEMBER, 'role', 'app', 'AROAROLE'), [{ Key: 'team', Value: 'green' }, { Key: 'env', Value: 'prod' }]);
  await store.identity.putInlinePolicy('AROAROLE', 'role', doc('kms:*'));
  // An organization with SCPs enabled; the member has a deny SCP too.
  await store.identity.createOrganization(
    { id: 'o-aaaaaaaaaa', arn: 'arn:org', managementAccountId: MGMT, featureSet: 'ALL', rootId: 'r-root', createdAt: 1, enabledPolicyTypes: [] }, 1,
  );
  await store.identity.joinOrganization(MEMBER, 'o-aaaaaaaaaa', 'INVITED', 2, () => []);
  await store.identity.enablePolicyType('o-aaaaaaaaaa', 'SERVICE_CONTROL_POLICY', fullAwsAccessPolicy('o-aaaaaaaaaa'));
  await store.identity.createOrgPolicy({
    organizationId: 'o-aaaaaaaaaa', id: 'p-denyiam0', arn: 'arn:scp', name: 'no-iam', description: '', type: 'SERVICE_CONTROL_POLICY',
    content: doc('iam:*', 'Deny'), awsManaged: false,
  });
  await store.identity.attachOrgPolicy('o-aaaaaaaaaa', 'p-denyiam0', MEMBER);
});
after(async () => {
  await store.close();
  removeDir(dir);
});

test('a user resolves to its own and its groups\' inline and managed policies, its tags and groups', async () => {
  const id = await resolveCallerIdentity(store, userCaller(MEMBER, 'bob', 'AIDABOB'));
  assert.equal(id.isAccountRoot, false);
  assert.equal(id.entity?.name, 'bob');
  assert.deepEqual(
    id.identityPolicies.map((p) => [p.origin, p.name, p.attachedTo]),
    [
      ['inline', 'own', `arn:aws:iam::${MEMBER}:user/bob`],
      ['managed', 'IAMReadOnlyAccess', `arn:aws:iam::${MEMBER}:user/bob`],
      ['inline', 'group', `arn:aws:iam::${MEMBER}:group/devs`],
      ['managed', 'deny-delete', `arn:aws:iam::${MEMBER}:group/devs`],
    ],
  );
  assert.deepEqual(id.groups, [{ id: 'AGPADEVS', name: 'devs', arn: `arn:aws:iam::${MEMBER}:group/devs` }]);
  assert.deepEqual(id.principalTags, { team: 'blue' });
  assert.deepEqual(id.sessionPolicies, []);
  assert.equal(id.organizationId, 'o-aaaaaaaaaa');
  assert.deepEqual(id.organizationPaths, ['o-aaaaaaaaaa/r-root/']);
});

test('a member account has an SCP level for the root and one for the account; the management account has none', async () => {
  const member = await resolveCallerIdentity(store, userCaller(MEMBER, 'bob', 'AIDABOB'));
  assert.deepEqual(
    member.scpLevels.map((l) => ({ target: l.targetId, names: l.policies.map((p) => p.name) })),
    [{ target: 'r-root', names: ['FullAWSAccess'] }, { target: MEMBER, names: ['FullAWSAccess', 'no-iam'] }],
  );
  const mgmtRoot: Caller = { accountId: MGMT, principalArn: `arn:aws:iam::${MGMT}:root`, principalId: MGMT, principalType: 'Root', userName: null, accessKeyId: 'AKIAMGMT' };
  const mgmt = await resolveCallerIdentity(store, mgmtRoot);
  assert.equal(mgmt.isAccountRoot, true);
  assert.deepEqual(mgmt.scpLevels, []);
  assert.deepEqual(mgmt.identityPolicies, []);
  assert.equal(FULL_AWS_ACCESS_ID, 'p-FullAWSAccess');
});

test('a role session resolves to the role\'s policies, its session policies, and role tags overridden by session tags', async () => {
  const caller = sessionCaller(session());
  assert.equal(caller.principalArn, `arn:aws:sts::${MEMBER}:assumed-role/app/sess`);
  assert.equal(caller.principalId, 'AROAROLE:sess');
  const id = await resolveCallerIdentity(store, caller);
  assert.deepEqual(id.identityPolicies.map((p) => p.name), ['role']);
  assert.deepEqual(id.sessionPolicies.map((p) => [p.origin, p.name]), [['session-inline', 'session-policy'], ['session-managed', 'IAMReadOnlyAccess']]);
  assert.deepEqual(id.principalTags, { env: 'prod', Team: 'red' });
  const keys = principalConditionKeys(caller, id, { sourceIp: '::ffff:10.0.0.1', userAgent: 'ua', secureTransport: false }, 'us-east-1', new ManualClock());
  assert.equal(keys.get('aws:principalarn'), `arn:aws:iam::${MEMBER}:role/app`);
  assert.equal(keys.get('aws:userid'), 'AROAROLE:sess');
  assert.equal(keys.get('aws:principaltag/team'), 'red');
  assert.equal(keys.get('aws:sourceidentity'), 'alice');
  assert.equal(keys.get('aws:sourceip'), '10.0.0.1');
  assert.equal(keys.get('aws:principalorgid'), 'o-aaaaaaaaaa');
  assert.equal(keys.has('aws:username'), false);
  assert.deepEqual(requestPrincipal(caller), { arn: caller.principalArn, accountId: MEMBER, type: 'AssumedRole', sessionIssuerArn: `arn:aws:iam::${MEMBER}:role/app` });
});

test('the compiled policy set decides as AWS does: session policies bound the role, SCPs bound the account', async () => {
  const caller = sessionCaller(session());
  const set = compiledPolicySet(await resolveCallerIdentity(store, caller));
  const req = (action: string) => ({ action, resource: '*', principal: requestPrincipal(caller), conditions: new Map<string, string>() });
  assert.equal(authorize(req('kms:Encrypt'), set).allowed, true);
  assert.equal(authorize(req('kms:Decrypt'), set).reason, 'no-allow-session');
  assert.equal(authorize(req('iam:GetUser'), set).reason, 'explicit-deny-scp');
});

test('the resolver caches per access key and sees this process\'s writes at once', async () => {
  const resolver = new IdentityResolver(store);
  const bob = userCaller(MEMBER, 'bob', 'AIDABOB');
  const first = await resolver.resolve(bob);
  assert.equal(await resolver.resolve(bob), first, 'cached');
  await store.identity.putInlinePolicy('AIDABOB', 'more', doc('kms:Sign'));
  const second = await resolver.resolve(bob);
  assert.notEqual(second, first);
  assert.ok(second.identityPolicies.some((p) => p.name === 'more'));
  await store.identity.deleteInlinePolicy('AIDABOB', 'more');
});

test('a caller whose user or role is gone is refused like unknown credentials (issue 12 item 8)', async () => {
  await assert.rejects(resolveCallerIdentity(store, userCaller(MEMBER, 'ghost', 'AIDAGHOST')), {
    name: 'UnrecognizedClientException',
    message: 'The security token included in the request is invalid.',
  });
});
