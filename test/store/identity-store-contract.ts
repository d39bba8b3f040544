/**
 * The IdentityStore port contract (src/store/identity-store.ts): every method, run unchanged on
 * every adapter (test/store/sqlite-identity-store.test.ts, test/store/postgres-identity-store.test.ts).
 *
 * `open()` returns a new handle on ONE shared database each time it is called (another
 * connection or pool, as another worker or node would hold), so the concurrency tests race
 * several handles: a uniqueness or quota rule must hold across connections, atomically, not just
 * within one (issue 14: "no COUNT-then-INSERT races"). Each test works in fresh random account
 * ids, so tests never see each other's rows.
 *
 * Orders are byte orders (SQLite's BINARY collation; PostgreSQL columns must say COLLATE "C"):
 * IAM names may hold + = , . @ _ - which a linguistic collation would sort differently.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { AccessKeyRecord, KeyRecord } from '../../src/store/records';
import type {
  AccountRecord,
  IamEntityKind,
  IamEntityRecord,
  IamManagedPolicyRecord,
  IdentityStore,
  OrganizationRecord,
  OrgPolicyRecord,
  PrincipalUnbinding,
  StsSessionRecord,
} from '../../src/store/identity-store';

/** One handle on the shared database. */
export interface IdentityHandle {
  readonly identity: IdentityStore;
  /** The same database's key rows (the Store's), for DeleteUser/DeleteRole's key-policy rewrite. */
  readonly keys: {
    create(key: KeyRecord): Promise<void>;
    policy(arn: string): Promise<string | undefined>;
  };
  close(): Promise<void>;
}

/** A key row whose policy is `policy` (only the policy matters here). */
export function keyNamedIn(account: string, policy: string): KeyRecord {
  const keyId = randomUUID();
  return {
    keyId, arn: `arn:aws:kms:us-east-1:${account}:key/${keyId}`, accountId: account, region: 'us-east-1', keySpec: 'SYMMETRIC_DEFAULT',
    keyUsage: 'ENCRYPT_DECRYPT', origin: 'AWS_KMS', keyManager: 'CUSTOMER', state: 'Enabled', description: '', policy, multiRegion: false,
    creationDate: 1, deletionDate: null, pendingWindowInDays: null, currentVersion: 1, rotationEnabled: false, rotationPeriodInDays: null,
    nextRotationDate: null, onDemandRotationStartDate: null, expirationModel: null, validTo: null, multiRegionKeyType: null, primaryRegion: null,
  };
}

/** How many handles the concurrency tests race, and how many calls they make at once. */
const HANDLES = 4;
const RACERS = 20;

let counter = 0;
function accountId(): string {
  counter += 1;
  return String(100_000_000_000 + (randomBytes(4).readUInt32BE(0) % 800_000_000) * 1000 + (counter % 1000)).slice(0, 12);
}

const hex = (n: number): string => randomBytes(n).toString('hex').toUpperCase();

function entity(account: string, kind: IamEntityKind, name: string, overrides: Partial<IamEntityRecord> = {}): IamEntityRecord {
  const prefix = { user: 'AIDA', role: 'AROA', group: 'AGPA' }[kind];
  return {
    id: `${prefix}${hex(8)}`,
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

function accessKey(account: string, principalId: string, createdAt = 1): AccessKeyRecord {
  return {
    accessKeyId: `AKIA${hex(8)}`,
    accountId: account,
    principalArn: `arn:aws:iam::${account}:user/u`,
    principalId,
    principalType: 'IAMUser',
    userName: 'u',
    wrappedSecret: randomBytes(48),
    status: 'Active',
    createdAt,
  };
}

function managed(account: string, name: string, overrides: Partial<IamManagedPolicyRecord> = {}): IamManagedPolicyRecord {
  return {
    arn: `arn:aws:iam::${account}:policy/${name}`,
    policyId: `ANPA${hex(8)}`,
    accountId: account,
    policyName: name,
    path: '/',
    document: '{"Version":"2012-10-17","Statement":[]}',
    description: null,
    createdAt: 1,
    updatedAt: 2,
    ...overrides,
  };
}

function session(account: string, roleId: string, overrides: Partial<StsSessionRecord> = {}): StsSessionRecord {
  return {
    accessKeyId: `ASIA${hex(8)}`,
    accountId: account,
    roleId,
    roleArn: `arn:aws:iam::${account}:role/r`,
    roleName: 'r',
    sessionName: 's',
    wrappedCredentials: randomBytes(64),
    createdAt: 10,
    expiresAt: 20,
    sessionPolicy: '{}',
    policyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
    sessionTags: [{ Key: 'k', Value: 'v' }],
    transitiveTagKeys: ['k'],
    sourceIdentity: 'me',
    sourcePrincipalArn: `arn:aws:iam::${account}:user/u`,
    ...overrides,
  };
}

function account(id: string, createdAt = 1): AccountRecord {
  return { accountId: id, createdAt, name: null, email: null, organizationId: null, joinedMethod: null, joinedAt: null };
}

function orgRecord(mgmt: string): OrganizationRecord {
  const id = `o-${randomBytes(5).toString('hex')}`;
  return {
    id, arn: `arn:aws:organizations::${mgmt}:organization/${id}`, managementAccountId: mgmt, featureSet: 'ALL',
    rootId: `r-${randomBytes(2).toString('hex')}`, createdAt: 3, enabledPolicyTypes: [],
  };
}

function fullAccess(orgId: string): OrgPolicyRecord {
  return {
    organizationId: orgId, id: 'p-FullAWSAccess', arn: 'arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess',
    name: 'FullAWSAccess', description: 'Allows access to every operation', type: 'SERVICE_CONTROL_POLICY', content: '{"Statement":[]}', awsManaged: true,
  };
}

/** What Keyhold attaches to a new member (src/identity/accounts.ts policiesForNewMember), restated. */
function scpFullAccess(org: OrganizationRecord): readonly string[] {
  return org.enabledPolicyTypes.includes('SERVICE_CONTROL_POLICY') ? ['p-FullAWSAccess'] : [];
}

/** How many of `results` are `want`. */
const count = <T>(results: readonly T[], want: T): number => results.filter((r) => r === want).length;

/** Registers the contract for the adapter `open` makes. */
export function identityStorePortContract(name: string, open: () => Promise<IdentityHandle>): void {
  /** Runs `fn` with one handle, closed afterwards. */
  const withOne = async (fn: (s: IdentityStore) => Promise<void>): Promise<void> => {
    const h = await open();
    try {
      await fn(h.identity);
    } finally {
      await h.close();
    }
  };
  /** Runs `fn` with one whole handle (its key rows too), closed afterwards. */
  const withHandle = async (fn: (h: IdentityHandle) => Promise<void>): Promise<void> => {
    const h = await open();
    try {
      await fn(h);
    } finally {
      await h.close();
    }
  };
  /** Runs `fn` with HANDLES handles on the same database, closed afterwards. */
  const withMany = async (fn: (handles: IdentityStore[]) => Promise<void>): Promise<void> => {
    const hs = await Promise.all(Array.from({ length: HANDLES }, () => open()));
    try {
      // Warm every handle's connections first, so the racers start together rather than
      // staggered by connection setup (which would serialise them and hide a race).
      await Promise.all(Array.from({ length: RACERS }, (_, i) => hs[i % HANDLES]!.identity.getAccount('000000000000')));
      await fn(hs.map((h) => h.identity));
    } finally {
      await Promise.all(hs.map((h) => h.close()));
    }
  };
  const newAccount = async (s: IdentityStore): Promise<string> => {
    const id = accountId();
    assert.equal(await s.createAccount(account(id)), true);
    return id;
  };

  describe(`IdentityStore port contract: ${name}`, () => {
    describe('accounts and aliases', () => {
      test('createAccount stores the account once; describeAccount fills only unset name and email', () =>
        withOne(async (s) => {
          const id = accountId();
          assert.equal(await s.getAccount(id), undefined);
          assert.equal(await s.createAccount(account(id, 77)), true);
          assert.equal(await s.createAccount(account(id, 88)), false, 'the id is taken');
          assert.deepEqual(await s.getAccount(id), account(id, 77));
          await s.describeAccount(id, 'Prod', null);
          await s.describeAccount(id, 'Other', 'ops@example.com');
          assert.deepEqual(await s.getAccount(id), { ...account(id, 77), name: 'Prod', email: 'ops@example.com' });
          await s.describeAccount(accountId(), 'nobody', null); // an unknown account: no effect, no error
        }));

      test('an account alias is set, replaced, taken by no other account, and deleted only by its value', () =>
        withOne(async (s) => {
          const a = await newAccount(s);
          const b = await newAccount(s);
          const alias = `alias-${hex(4).toLowerCase()}`;
          assert.equal(await s.getAccountAlias(a), undefined);
          assert.equal(await s.setAccountAlias(a, alias), 'set');
          assert.equal(await s.setAccountAlias(a, alias), 'set', 'setting the alias it has again is fine');
          assert.equal(await s.setAccountAlias(b, alias), 'taken');
          assert.equal(await s.getAccountAlias(b), undefined, 'a refused alias changes nothing');
          assert.equal(await s.setAccountAlias(a, `${alias}-2`), 'set');
          assert.equal(await s.getAccountAlias(a), `${alias}-2`, 'an account has one alias: the new one replaces the old');
          assert.equal(await s.setAccountAlias(b, alias), 'set', 'the old alias is free again');
          assert.equal(await s.deleteAccountAlias(a, alias), false, 'not its alias');
          assert.equal(await s.deleteAccountAlias(a, `${alias}-2`), true);
          assert.equal(await s.deleteAccountAlias(a, `${alias}-2`), false);
          assert.equal(await s.getAccountAlias(a), undefined);
        }));

      test(`${RACERS} accounts racing for one alias over ${HANDLES} connections: exactly one gets it`, () =>
        withMany(async (hs) => {
          const ids = await Promise.all(Array.from({ length: RACERS }, (_, i) => newAccount(hs[i % HANDLES]!)));
          const alias = `race-${hex(4).toLowerCase()}`;
          const results = await Promise.all(ids.map((id, i) => hs[i % HANDLES]!.setAccountAlias(id, alias)));
          assert.equal(count(results, 'set'), 1, JSON.stringify(results));
          assert.equal(count(results, 'taken'), RACERS - 1);
          const holders = (await Promise.all(ids.map((id) => hs[0]!.getAccountAlias(id)))).filter((x) => x !== undefined);
          assert.deepEqual(holders, [alias]);
        }));

      test(`${RACERS} concurrent createAccount of one id: exactly one succeeds`, () =>
        withMany(async (hs) => {
          const id = accountId();
          const results = await Promise.all(Array.from({ length: RACERS }, (_, i) => hs[i % HANDLES]!.createAccount(account(id, i))));
          assert.equal(count(results, true), 1);
          assert.equal((await hs[0]!.getAccount(id))?.createdAt, results.indexOf(true));
        }));
    });

    describe('Organizations', () => {
      test('one organization per management account; members join once; SCPs attach to root and accounts', () =>
        withOne(async (s) => {
          const mgmt = await newAccount(s);
          const other = await newAccount(s);
          const org = orgRecord(mgmt);
          assert.equal(await s.getOrganization(org.id), undefined);
          assert.equal(await s.createOrganization(org, 3), true);
          assert.equal(await s.createOrganization({ ...org, id: `${org.id}x` }, 3), false, 'already in an organization');
          assert.equal(await s.getOrganization(`${org.id}x`), undefined, 'the refused organization was not stored');
          assert.equal(await s.createOrganization(orgRecord(accountId()), 3), false, 'an unknown management account');
          assert.deepEqual(await s.getOrganization(org.id), org);
          assert.deepEqual(await s.getAccount(mgmt), { ...account(mgmt), organizationId: org.id, joinedMethod: 'CREATED', joinedAt: 3 });
          const full = fullAccess(org.id);
          assert.equal(await s.enablePolicyType(org.id, 'SERVICE_CONTROL_POLICY', full), true);
          assert.equal(await s.enablePolicyType(org.id, 'SERVICE_CONTROL_POLICY', full), false);
          assert.equal(await s.enablePolicyType(`${org.id}x`, 'SERVICE_CONTROL_POLICY', full), false, 'an unknown organization');
          assert.deepEqual((await s.getOrganization(org.id))?.enabledPolicyTypes, ['SERVICE_CONTROL_POLICY']);
          assert.deepEqual(await s.getOrgPolicy(org.id, full.id), full);
          assert.equal(await s.getOrgPolicy(org.id, 'p-nothere'), undefined);
          const seenByJoin: OrganizationRecord[] = [];
          const policiesFor = (o: OrganizationRecord): readonly string[] => {
            seenByJoin.push(o);
            return scpFullAccess(o);
          };
          assert.equal(await s.joinOrganization(other, org.id, 'INVITED', 4, policiesFor), true);
          assert.deepEqual(seenByJoin.at(-1), { ...org, enabledPolicyTypes: ['SERVICE_CONTROL_POLICY'] }, 'the join decides on the organization as stored');
          assert.equal(await s.joinOrganization(other, org.id, 'INVITED', 5, scpFullAccess), false, 'already a member');
          assert.equal(await s.joinOrganization(accountId(), org.id, 'INVITED', 5, scpFullAccess), false, 'an unknown account');
          const stray = await newAccount(s);
          assert.equal(await s.joinOrganization(stray, `${org.id}x`, 'INVITED', 5, scpFullAccess), false, 'an unknown organization');
          assert.equal((await s.getAccount(stray))?.organizationId, null, 'a refused join changes nothing');
          assert.deepEqual(await s.getAccount(other), { ...account(other), organizationId: org.id, joinedMethod: 'INVITED', joinedAt: 4 });
          assert.deepEqual((await s.listOrganizationAccounts(org.id, { limit: 10 })).map((x) => x.accountId), [mgmt, other].sort());
          assert.deepEqual(await s.listOrgPolicyTargets(org.id, full.id, { limit: 10 }), [mgmt, other, org.rootId].sort());
          const deny: OrgPolicyRecord = { ...full, id: 'p-deny0000', arn: 'arn:deny', name: 'deny', awsManaged: false };
          assert.equal(await s.createOrgPolicy(deny), true);
          assert.equal(await s.createOrgPolicy({ ...deny, id: 'p-deny0001' }), false, 'names are unique per type');
          assert.equal(await s.createOrgPolicy({ ...deny, id: 'p-deny0001', type: 'TAG_POLICY' }), true, 'another type may reuse the name');
          assert.equal(await s.createOrgPolicy({ ...deny, name: 'deny2' }), false, 'ids are unique');
          assert.equal(await s.attachOrgPolicy(org.id, deny.id, other), true);
          assert.equal(await s.attachOrgPolicy(org.id, deny.id, other), false);
          assert.deepEqual((await s.listOrgPoliciesForTarget(org.id, other, 'SERVICE_CONTROL_POLICY')).map((p) => p.id), ['p-FullAWSAccess', 'p-deny0000']);
          assert.deepEqual(await s.listOrgPoliciesForTarget(org.id, other, 'TAG_POLICY'), []);
          assert.deepEqual((await s.listOrgPoliciesForTarget(org.id, org.rootId, 'SERVICE_CONTROL_POLICY')).map((p) => p.id), ['p-FullAWSAccess']);
          assert.equal(await s.detachOrgPolicy(org.id, deny.id, other), true);
          assert.equal(await s.detachOrgPolicy(org.id, deny.id, other), false);
          assert.deepEqual((await s.listOrgPolicies(org.id, 'SERVICE_CONTROL_POLICY', { limit: 10 })).map((p) => p.id), ['p-FullAWSAccess', 'p-deny0000']);
          assert.deepEqual(await s.listOrgPolicies(org.id, 'TAG_POLICY', { limit: 10 }), [{ ...deny, id: 'p-deny0001', type: 'TAG_POLICY' }]);
        }));

      test('enablePolicyType without a full-access policy only records the type; lists page in id order', () =>
        withOne(async (s) => {
          const mgmt = await newAccount(s);
          const org = orgRecord(mgmt);
          await s.createOrganization(org, 3);
          assert.equal(await s.enablePolicyType(org.id, 'TAG_POLICY', null), true);
          assert.deepEqual((await s.getOrganization(org.id))?.enabledPolicyTypes, ['TAG_POLICY']);
          assert.equal(await s.enablePolicyType(org.id, 'SERVICE_CONTROL_POLICY', null), true);
          assert.deepEqual((await s.getOrganization(org.id))?.enabledPolicyTypes, ['TAG_POLICY', 'SERVICE_CONTROL_POLICY']);
          assert.deepEqual(await s.listOrgPolicies(org.id, 'SERVICE_CONTROL_POLICY', { limit: 10 }), []);
          const members = [mgmt];
          for (let i = 0; i < 4; i++) {
            const m = await newAccount(s);
            members.push(m);
            assert.equal(await s.joinOrganization(m, org.id, 'CREATED', 9, () => []), true);
          }
          members.sort();
          const first = await s.listOrganizationAccounts(org.id, { limit: 3 });
          assert.deepEqual(first.map((a) => a.accountId), members.slice(0, 3));
          assert.deepEqual((await s.listOrganizationAccounts(org.id, { after: first[2]!.accountId, limit: 3 })).map((a) => a.accountId), members.slice(3));
          const ids = ['p-b0000000', 'p-a0000000', 'p-c0000000'];
          for (const id of ids) {
            assert.equal(await s.createOrgPolicy({ ...fullAccess(org.id), id, arn: `arn:${id}`, name: id, awsManaged: false }), true);
            assert.equal(await s.attachOrgPolicy(org.id, id, members[0]!), true);
          }
          assert.deepEqual((await s.listOrgPolicies(org.id, 'SERVICE_CONTROL_POLICY', { limit: 2 })).map((p) => p.id), ['p-a0000000', 'p-b0000000']);
          assert.deepEqual((await s.listOrgPolicies(org.id, 'SERVICE_CONTROL_POLICY', { after: 'p-b0000000', limit: 2 })).map((p) => p.id), ['p-c0000000']);
          for (const m of members) await s.attachOrgPolicy(org.id, 'p-a0000000', m);
          assert.deepEqual(await s.listOrgPolicyTargets(org.id, 'p-a0000000', { limit: 2 }), members.slice(0, 2));
          assert.deepEqual(await s.listOrgPolicyTargets(org.id, 'p-a0000000', { after: members[1], limit: 10 }), members.slice(2));
        }));

      test(`racing over ${HANDLES} connections: one organization per account, one join per account, one enabling per type`, () =>
        withMany(async (hs) => {
          const mgmt = await newAccount(hs[0]!);
          const orgs = Array.from({ length: RACERS }, () => orgRecord(mgmt));
          const created = await Promise.all(orgs.map((o, i) => hs[i % HANDLES]!.createOrganization(o, 3)));
          assert.equal(count(created, true), 1, JSON.stringify(created));
          const winner = orgs[created.indexOf(true)]!;
          assert.equal((await hs[1]!.getAccount(mgmt))?.organizationId, winner.id);
          for (const [i, o] of orgs.entries()) if (o !== winner) assert.equal(await hs[i % HANDLES]!.getOrganization(o.id), undefined);

          const full = fullAccess(winner.id);
          const enabled = await Promise.all(Array.from({ length: RACERS }, (_, i) => hs[i % HANDLES]!.enablePolicyType(winner.id, 'SERVICE_CONTROL_POLICY', full)));
          assert.equal(count(enabled, true), 1, JSON.stringify(enabled));
          assert.deepEqual((await hs[2]!.getOrganization(winner.id))?.enabledPolicyTypes, ['SERVICE_CONTROL_POLICY']);

          const member = await newAccount(hs[0]!);
          const joined = await Promise.all(
            Array.from({ length: RACERS }, (_, i) => hs[i % HANDLES]!.joinOrganization(member, winner.id, 'INVITED', 100 + i, scpFullAccess)),
          );
          assert.equal(count(joined, true), 1, JSON.stringify(joined));
          assert.equal((await hs[3]!.getAccount(member))?.joinedAt, 100 + joined.indexOf(true));
          assert.deepEqual(await hs[0]!.listOrgPolicyTargets(winner.id, full.id, { limit: 10 }), [member, mgmt, winner.rootId].sort());
        }));

      test(`${RACERS} accounts joining over ${HANDLES} connections while SCPs are enabled: every member gets FullAWSAccess`, () =>
        withMany(async (hs) => {
          // The join decides which policies to attach inside its own transaction: an enabling
          // that commits while accounts join must reach each of them, whichever commits first.
          for (let round = 0; round < 3; round++) {
            const mgmt = await newAccount(hs[0]!);
            const org = orgRecord(mgmt);
            assert.equal(await hs[0]!.createOrganization(org, 3), true);
            const members = await Promise.all(Array.from({ length: RACERS }, (_, i) => newAccount(hs[i % HANDLES]!)));
            const joins = members.map((m, i) => hs[i % HANDLES]!.joinOrganization(m, org.id, 'INVITED', 10 + i, scpFullAccess));
            const enabled = hs[round % HANDLES]!.enablePolicyType(org.id, 'SERVICE_CONTROL_POLICY', fullAccess(org.id));
            assert.deepEqual(await Promise.all(joins), members.map(() => true));
            assert.equal(await enabled, true);
            const targets = await hs[1]!.listOrgPolicyTargets(org.id, 'p-FullAWSAccess', { limit: 100 });
            assert.deepEqual(targets, [mgmt, org.rootId, ...members].sort(), `round ${round}: a member missed FullAWSAccess`);
          }
        }));
    });

    describe('IAM users, groups and roles', () => {
      test('names are unique per account and kind, case-insensitively, and looked up in any case', () =>
        withOne(async (s) => {
          const a = await newAccount(s);
          const alice = entity(a, 'user', 'Alice', { path: '/team/', description: 'd', permissionsBoundary: 'arn:aws:iam::aws:policy/PowerUserAccess' });
          assert.equal(await s.createIamEntity(alice, [{ Key: 't', Value: 'v' }]), true);
          assert.equal(await s.createIamEntity(entity(a, 'user', 'ALICE'), [{ Key: 'x', Value: 'y' }]), false);
          assert.equal(await s.createIamEntity({ ...entity(a, 'group', 'g'), id: alice.id }, []), false, 'ids are unique');
          assert.equal(await s.getIamEntity(a, 'group', 'g'), undefined, 'a refused create stores nothing');
          assert.deepEqual(await s.listIamTags(alice.id), [{ Key: 't', Value: 'v' }], 'a refused create leaves the winner\'s tags alone');
          const role = entity(a, 'role', 'alice', { maxSessionDuration: 43_200 });
          assert.equal(await s.createIamEntity(role, []), true, 'another kind may use the name');
          assert.deepEqual(await s.getIamEntity(a, 'user', 'aLiCe'), alice);
          assert.deepEqual(await s.getIamEntity(a, 'role', 'ALICE'), role);
          assert.deepEqual(await s.getIamEntityById(alice.id), alice);
          assert.equal(await s.getIamEntityById('AIDANOTHERE'), undefined);
          const other = await newAccount(s);
          assert.equal(await s.getIamEntity(other, 'user', 'alice'), undefined);
          assert.equal(await s.createIamEntity(entity(other, 'user', 'alice'), []), true, 'another account may use the name');
        }));

      test(`${RACERS} concurrent creates of one user name (in different cases) over ${HANDLES} connections: exactly one`, () =>
        withMany(async (hs) => {
          const a = await newAccount(hs[0]!);
          const racers = Array.from({ length: RACERS }, (_, i) => entity(a, 'user', i % 2 === 0 ? 'Racer' : 'rACER', { createdAt: i }));
          const results = await Promise.all(racers.map((e, i) => hs[i % HANDLES]!.createIamEntity(e, [{ Key: 'who', Value: String(i) }])));
          assert.equal(count(results, true), 1, JSON.stringify(results));
          const winner = racers[results.indexOf(true)]!;
          assert.deepEqual(await hs[1]!.getIamEntity(a, 'user', 'racer'), winner);
          assert.deepEqual(await hs[2]!.listIamTags(winner.id), [{ Key: 'who', Value: String(results.indexOf(true)) }]);
          assert.deepEqual((await hs[3]!.listIamEntities(a, 'user', '/', { limit: 100 })).map((e) => e.id), [winner.id]);
        }));

      test('listIamEntities filters by path prefix (wildcards literal) and pages by lowercased name in byte order', () =>
        withOne(async (s) => {
          const a = await newAccount(s);
          const names = ['c', 'B', 'a', 'a-b', 'a_b', 'a.b', 'a+b', 'a@b', 'a=b', 'a,b', 'Z9'];
          for (const name of names) assert.equal(await s.createIamEntity(entity(a, 'user', name, { path: '/x/' }), []), true);
          await s.createIamEntity(entity(a, 'user', 'y1', { path: '/y_/' }), []);
          await s.createIamEntity(entity(a, 'user', 'y2', { path: '/y\\/' }), []);
          await s.createIamEntity(entity(a, 'role', 'r', { path: '/x/' }), []);
          const byteOrder = names.map((n) => n.toLowerCase()).sort((p, q) => (Buffer.compare(Buffer.from(p), Buffer.from(q))));
          const all = await s.listIamEntities(a, 'user', '/x/', { limit: 100 });
          assert.deepEqual(all.map((e) => e.name.toLowerCase()), byteOrder);
          const first = await s.listIamEntities(a, 'user', '/x/', { limit: 4 });
          assert.deepEqual(first.map((e) => e.name.toLowerCase()), byteOrder.slice(0, 4));
          const rest = await s.listIamEntities(a, 'user', '/x/', { after: first[3]!.name.toLowerCase(), limit: 100 });
          assert.deepEqual(rest.map((e) => e.name.toLowerCase()), byteOrder.slice(4));
          assert.deepEqual((await s.listIamEntities(a, 'user', '/y_', { limit: 5 })).map((e) => e.name), ['y1']);
          assert.deepEqual((await s.listIamEntities(a, 'user', '/y%', { limit: 5 })).map((e) => e.name), [], 'LIKE wildcards are literal');
          assert.deepEqual((await s.listIamEntities(a, 'user', '/y\\', { limit: 5 })).map((e) => e.name), ['y2'], 'so is the escape character');
          assert.equal((await s.listIamEntities(a, 'user', '/', { limit: 100 })).length, names.length + 2);
          assert.deepEqual((await s.listIamEntities(a, 'role', '/', { limit: 100 })).map((e) => e.name), ['r']);
          assert.deepEqual(await s.listIamEntities(await newAccount(s), 'user', '/', { limit: 100 }), []);
        }));

      test('deleteIamEntity refuses while access keys, policies or memberships remain, then deletes', () =>
        withOne(async (s) => {
          const a = await newAccount(s);
          const u = entity(a, 'user', 'u');
          const g = entity(a, 'group', 'g');
          await s.createIamEntity(u, [{ Key: 'k', Value: 'v' }]);
          await s.createIamEntity(g, []);
          assert.equal(await s.deleteIamEntity('AIDANOTHERE'), 'not-found');
          const key = accessKey(a, u.id);
          assert.equal(await s.createAccessKeyWithinQuota(key, 2), 'created');
          assert.equal(await s.deleteIamEntity(u.id), 'has-access-keys');
          assert.equal(await s.deleteAccessKey(key.accessKeyId), true);
          await s.putInlinePolicy(u.id, 'p', '{}');
          assert.equal(await s.deleteIamEntity(u.id), 'has-inline-policies');
          assert.equal(await s.deleteInlinePolicy(u.id, 'p'), true);
          await s.attachPolicy(u.id, 'arn:aws:iam::aws:policy/AdministratorAccess');
          assert.equal(await s.deleteIamEntity(u.id), 'has-attached-policies');
          assert.equal(await s.detachPolicy(u.id, 'arn:aws:iam::aws:policy/AdministratorAccess'), true);
          await s.addUserToGroup(g.id, u.id);
          assert.equal(await s.deleteIamEntity(u.id), 'has-group-memberships');
          assert.equal(await s.deleteIamEntity(g.id), 'has-members');
          assert.deepEqual(await s.getIamEntityById(u.id), u, 'refusals change nothing');
          // The port has no remove-member method (RemoveUserFromGroup is not modelled): an
          // entity with nothing left shows the plain delete.
          const empty = entity(a, 'group', 'empty');
          await s.createIamEntity(empty, [{ Key: 'k', Value: 'v' }]);
          assert.equal(await s.deleteIamEntity(empty.id), 'deleted');
          assert.equal(await s.getIamEntityById(empty.id), undefined);
          assert.equal(await s.getIamEntity(a, 'group', 'empty'), undefined);
          assert.deepEqual(await s.listIamTags(empty.id), [], 'its tags go with it');
          assert.equal(await s.deleteIamEntity(empty.id), 'not-found');
          assert.equal(await s.createIamEntity(entity(a, 'group', 'EMPTY'), []), true, 'the name is free again');
        }));

      test(`a delete racing ${RACERS} policy writes over ${HANDLES} connections never drops an acknowledged write`, () =>
        withMany(async (hs) => {
          const later = <T>(ms: number, fn: () => Promise<T>): Promise<T> => new Promise((resolve) => setTimeout(resolve, ms)).then(fn);
          for (let round = 0; round < 6; round++) {
            const a = await newAccount(hs[0]!);
            const u = entity(a, 'user', `victim${round}`);
            await hs[0]!.createIamEntity(u, []);
            // The writes trickle in over ~10 ms on three handles while the fourth deletes, so some
            // land while the delete is checking: either order must be coherent.
            const writes = Array.from({ length: RACERS }, (_, i) => {
              const h = hs[1 + (i % (HANDLES - 1))]!;
              return later(round % 4 + Math.floor(i / 2), () => (i % 2 === 0 ? h.putInlinePolicy(u.id, `p${i}`, '{}') : h.attachPolicy(u.id, `arn:aws:iam::aws:policy/P${i}`)));
            });
            const deletion = hs[0]!.deleteIamEntity(u.id);
            const settled = await Promise.allSettled(writes);
            const result = await deletion;
            const acknowledged = settled.filter((r) => r.status === 'fulfilled').length;
            const left = (await hs[2]!.listInlinePolicies(u.id)).length + (await hs[2]!.listAttachedPolicyArns(u.id)).length;
            if (result === 'deleted') {
              assert.equal(acknowledged, 0, 'a write acknowledged before the delete would have blocked it; one after it must fail');
              assert.equal(await hs[3]!.getIamEntityById(u.id), undefined);
              assert.equal(left, 0);
            } else {
              assert.ok(result === 'has-inline-policies' || result === 'has-attached-policies', result);
              assert.ok(acknowledged > 0);
              assert.equal(left, acknowledged, 'every acknowledged write is there');
            }
          }
        }));

      test('deleting a role ends its STS sessions in the same transaction; a user is deleted with its tags', () =>
        withOne(async (s) => {
          const a = await newAccount(s);
          const r = entity(a, 'role', 'r');
          await s.createIamEntity(r, [{ Key: 'a', Value: '1' }]);
          const mine = session(a, r.id, { expiresAt: Number.MAX_SAFE_INTEGER });
          const other = session(a, 'AROAOTHERROLE', { expiresAt: Number.MAX_SAFE_INTEGER });
          await s.putStsSession(mine);
          await s.putStsSession(other);
          assert.equal(await s.deleteIamEntity(r.id), 'deleted');
          assert.equal(await s.getStsSession(mine.accessKeyId), undefined);
          assert.deepEqual(await s.getStsSession(other.accessKeyId), other);
          assert.deepEqual(await s.listIamTags(r.id), []);
          const u = entity(a, 'user', 'plain');
          await s.createIamEntity(u, []);
          assert.equal(await s.deleteIamEntity(u.id), 'deleted');
        }));

      test('deleteIamEntity with an unbinding rewrites key and trust policies naming the entity in the delete\'s transaction', () =>
        withHandle(async (h) => {
          const s = h.identity;
          const a = await newAccount(s);
          const u = entity(a, 'user', 'Leaving');
          await s.createIamEntity(u, []);
          const named = `{"Statement":[{"Principal":{"AWS":"${u.arn}"}}]}`;
          const key = keyNamedIn(a, named);
          const other = keyNamedIn(a, '{"Statement":[{"Principal":{"AWS":"arn:aws:iam::111122223333:root"}}]}');
          await h.keys.create(key);
          await h.keys.create(other);
          const trusting = entity(a, 'role', 'trusting', { assumeRolePolicy: named });
          await s.createIamEntity(trusting, []);
          const unbind = (rewrite: (policy: string) => string | undefined): PrincipalUnbinding => ({ needle: u.arn, rewrite });
          const byId = (policy: string): string => policy.replace(u.arn, u.id);

          // Refused: nothing depends on the rewrite, and it does not run.
          await s.putInlinePolicy(u.id, 'p', '{}');
          let calls = 0;
          assert.equal(await s.deleteIamEntity(u.id, unbind((p) => ((calls += 1), byId(p)))), 'has-inline-policies');
          assert.equal(calls, 0, 'a refused delete rewrites nothing');
          assert.equal(await h.keys.policy(key.arn), named);
          await s.deleteInlinePolicy(u.id, 'p');

          // A rewrite that fails rolls the delete back with it: never one without the other.
          await assert.rejects(s.deleteIamEntity(u.id, unbind(() => { throw new Error('rewrite failed'); })), /rewrite failed/);
          assert.deepEqual(await s.getIamEntityById(u.id), u, 'the delete was rolled back with the failed rewrite');
          assert.equal(await h.keys.policy(key.arn), named);
          assert.equal((await s.getIamEntityById(trusting.id))?.assumeRolePolicy, named);

          assert.equal(await s.deleteIamEntity(u.id, unbind(byId)), 'deleted');
          assert.equal(await s.getIamEntityById(u.id), undefined);
          assert.equal(await h.keys.policy(key.arn), byId(named), 'the key policy names the unique id');
          assert.equal(await h.keys.policy(other.arn), other.policy, 'a key not naming it is untouched');
          assert.equal((await s.getIamEntityById(trusting.id))?.assumeRolePolicy, byId(named), 'the trust policy names the unique id');
        }));

      test('rewriteTrustPolicies rewrites matching roles only (case-insensitively, JSON-escaped slashes too) in one call', () =>
        withOne(async (s) => {
          const a = await newAccount(s);
          const needle = `arn:aws:iam::${a}:user/Gone`;
          const plain = entity(a, 'role', 'plain', { assumeRolePolicy: `{"Principal":{"AWS":"${needle.toUpperCase()}"}}` });
          const escaped = entity(a, 'role', 'escaped', { assumeRolePolicy: `{"Principal":{"AWS":"${needle.replace(/\//g, '\\/')}"}}` });
          const unrelated = entity(a, 'role', 'unrelated', { assumeRolePolicy: '{"Principal":{"Service":"ec2.amazonaws.com"}}' });
          const kept = entity(a, 'role', 'kept', { assumeRolePolicy: `{"Principal":{"AWS":"${needle}"},"keep":true}` });
          const user = entity(a, 'user', 'user', { description: needle });
          for (const e of [plain, escaped, unrelated, kept, user]) await s.createIamEntity(e, []);
          const seen: string[] = [];
          const n = await s.rewriteTrustPolicies(needle, (policy) => {
            seen.push(policy);
            return policy.includes('"keep"') ? undefined : '{"rewritten":true}';
          });
          assert.equal(n, 2);
          assert.equal(seen.length, 3, 'the callback sees the three matching roles only');
          assert.equal((await s.getIamEntityById(plain.id))?.assumeRolePolicy, '{"rewritten":true}');
          assert.equal((await s.getIamEntityById(escaped.id))?.assumeRolePolicy, '{"rewritten":true}');
          assert.equal((await s.getIamEntityById(unrelated.id))?.assumeRolePolicy, unrelated.assumeRolePolicy);
          assert.equal((await s.getIamEntityById(kept.id))?.assumeRolePolicy, kept.assumeRolePolicy);
          assert.equal(await s.rewriteTrustPolicies(`arn:aws:iam::${a}:user/nobody`, () => '{}'), 0);
        }));
    });

    describe('tags', () => {
      test('putIamTags adds and overwrites, enforcing the quota all-or-nothing; removeIamTags matches keys case-insensitively', () =>
        withOne(async (s) => {
          const a = await newAccount(s);
          const r = entity(a, 'role', 'r');
          await s.createIamEntity(r, [{ Key: 'a', Value: '1' }]);
          assert.equal(await s.putIamTags(r.id, [{ Key: 'a', Value: '2' }, { Key: 'b', Value: '3' }], 2), true);
          assert.equal(await s.putIamTags(r.id, [{ Key: 'a', Value: 'changed' }, { Key: 'c', Value: '4' }], 2), false);
          assert.deepEqual(await s.listIamTags(r.id), [{ Key: 'a', Value: '2' }, { Key: 'b', Value: '3' }], 'a refused put changes nothing, not even the overwrite');
          assert.equal(await s.putIamTags(r.id, [{ Key: 'b', Value: '' }], 2), true, 'overwriting at the quota is fine');
          for (const k of ['Z', '_', 'a-b', 'B']) assert.equal(await s.putIamTags(r.id, [{ Key: k, Value: k }], 50), true);
          assert.deepEqual((await s.listIamTags(r.id)).map((t) => t.Key), ['B', 'Z', '_', 'a', 'a-b', 'b'], 'byte order');
          assert.equal(await s.removeIamTags(r.id, ['A', 'z', 'missing']), 2);
          assert.deepEqual((await s.listIamTags(r.id)).map((t) => t.Key), ['B', '_', 'a-b', 'b']);
          assert.equal(await s.removeIamTags(r.id, []), 0);
        }));

      test(`${RACERS} concurrent putIamTags of distinct keys with a quota of 5 over ${HANDLES} connections: exactly 5 succeed`, () =>
        withMany(async (hs) => {
          const a = await newAccount(hs[0]!);
          const u = entity(a, 'user', 'tagged');
          await hs[0]!.createIamEntity(u, []);
          const results = await Promise.all(Array.from({ length: RACERS }, (_, i) => hs[i % HANDLES]!.putIamTags(u.id, [{ Key: `k${i}`, Value: 'v' }], 5)));
          assert.equal(count(results, true), 5, JSON.stringify(results));
          const keys = (await hs[1]!.listIamTags(u.id)).map((t) => t.Key).sort();
          assert.deepEqual(keys, results.flatMap((ok, i) => (ok ? [`k${i}`] : [])).sort());
        }));
    });

    describe('policies and groups', () => {
      test('inline policies are upserted, read, listed by name and deleted', () =>
        withOne(async (s) => {
          const a = await newAccount(s);
          const u = entity(a, 'user', 'u');
          await s.createIamEntity(u, []);
          assert.equal(await s.getInlinePolicy(u.id, 'p'), undefined);
          await s.putInlinePolicy(u.id, 'p', '{}');
          await s.putInlinePolicy(u.id, 'p', '{"v":2}');
          await s.putInlinePolicy(u.id, 'B', '{"b":1}');
          assert.equal(await s.getInlinePolicy(u.id, 'p'), '{"v":2}');
          assert.deepEqual(await s.listInlinePolicies(u.id), [{ policyName: 'B', document: '{"b":1}' }, { policyName: 'p', document: '{"v":2}' }]);
          assert.equal(await s.deleteInlinePolicy(u.id, 'p'), true);
          assert.equal(await s.deleteInlinePolicy(u.id, 'p'), false);
          assert.deepEqual(await s.listInlinePolicies(u.id), [{ policyName: 'B', document: '{"b":1}' }]);
        }));

      test('managed policies: unique by name per account case-insensitively; attachments are idempotent and counted', () =>
        withOne(async (s) => {
          const a = await newAccount(s);
          const p = managed(a, 'P', { description: 'mine' });
          assert.equal(await s.createManagedPolicy(p), true);
          assert.equal(await s.createManagedPolicy(managed(a, 'p', { arn: `arn:aws:iam::${a}:policy/x/p` })), false);
          assert.equal(await s.createManagedPolicy(managed(a, 'Q', { policyId: p.policyId })), false, 'policy ids are unique');
          assert.equal(await s.getManagedPolicy(`arn:aws:iam::${a}:policy/Q`), undefined);
          assert.equal(await s.createManagedPolicy(managed(await newAccount(s), 'P')), true, 'another account may use the name');
          assert.deepEqual(await s.getManagedPolicy(p.arn), p);
          const u = entity(a, 'user', 'u');
          const r = entity(a, 'role', 'r');
          await s.createIamEntity(u, []);
          await s.createIamEntity(r, []);
          assert.equal(await s.countPolicyAttachments(p.arn), 0);
          await s.attachPolicy(u.id, p.arn);
          await s.attachPolicy(u.id, p.arn);
          await s.attachPolicy(r.id, p.arn);
          await s.attachPolicy(u.id, 'arn:aws:iam::aws:policy/AdministratorAccess');
          assert.equal(await s.countPolicyAttachments(p.arn), 2);
          assert.deepEqual(await s.listAttachedPolicyArns(u.id), ['arn:aws:iam::aws:policy/AdministratorAccess', p.arn].sort());
          assert.equal(await s.detachPolicy(u.id, p.arn), true);
          assert.equal(await s.detachPolicy(u.id, p.arn), false);
          assert.equal(await s.countPolicyAttachments(p.arn), 1);
        }));

      test(`${RACERS} concurrent creates of one managed policy name over ${HANDLES} connections: exactly one`, () =>
        withMany(async (hs) => {
          const a = await newAccount(hs[0]!);
          const racers = Array.from({ length: RACERS }, (_, i) => managed(a, i % 2 === 0 ? 'Shared' : 'SHARED', { arn: `arn:aws:iam::${a}:policy/p${i}/Shared` }));
          const results = await Promise.all(racers.map((p, i) => hs[i % HANDLES]!.createManagedPolicy(p)));
          assert.equal(count(results, true), 1, JSON.stringify(results));
          for (const [i, p] of racers.entries()) assert.equal((await hs[1]!.getManagedPolicy(p.arn)) !== undefined, results[i]);
        }));

      test('group membership is idempotent and a user\'s groups list by name', () =>
        withOne(async (s) => {
          const a = await newAccount(s);
          const u = entity(a, 'user', 'u');
          const groups = ['beta', 'Alpha', 'gamma'].map((n) => entity(a, 'group', n));
          await s.createIamEntity(u, []);
          for (const g of groups) await s.createIamEntity(g, []);
          assert.deepEqual(await s.listGroupsForUser(u.id), []);
          for (const g of groups) await s.addUserToGroup(g.id, u.id);
          await s.addUserToGroup(groups[0]!.id, u.id);
          assert.deepEqual(await s.listGroupsForUser(u.id), [groups[1], groups[0], groups[2]]);
        }));
    });

    describe('access keys', () => {
      test('a principal\'s access keys: quota, order of creation, status and deletion', () =>
        withOne(async (s) => {
          const a = await newAccount(s);
          const u = entity(a, 'user', 'u');
          await s.createIamEntity(u, []);
          const k2 = accessKey(a, u.id, 20);
          const k1 = accessKey(a, u.id, 10);
          assert.equal(await s.createAccessKeyWithinQuota(k2, 2), 'created');
          assert.equal(await s.createAccessKeyWithinQuota(k1, 2), 'created');
          assert.equal(await s.createAccessKeyWithinQuota(accessKey(a, u.id), 2), 'quota-exceeded');
          assert.deepEqual(await s.listAccessKeysForPrincipal(u.id), [k1, k2]);
          assert.deepEqual(await s.listAccessKeysForPrincipal('AIDANOBODY'), []);
          assert.equal(await s.setAccessKeyStatus(k1.accessKeyId, 'Inactive'), true);
          assert.equal(await s.setAccessKeyStatus('AKIANOTHERE', 'Inactive'), false);
          assert.equal((await s.listAccessKeysForPrincipal(u.id))[0]?.status, 'Inactive');
          assert.equal(await s.createAccessKeyWithinQuota(accessKey(a, u.id), 2), 'quota-exceeded', 'inactive keys count toward the quota');
          assert.equal(await s.deleteAccessKey(k1.accessKeyId), true);
          assert.equal(await s.deleteAccessKey(k1.accessKeyId), false);
          assert.equal(await s.createAccessKeyWithinQuota(accessKey(a, u.id), 2), 'created');
        }));

      test('no access key for a user that does not exist (deleted since it was looked up); a root key needs no entity', () =>
        withOne(async (s) => {
          const a = await newAccount(s);
          const u = entity(a, 'user', 'gone');
          assert.equal(await s.createAccessKeyWithinQuota(accessKey(a, u.id), 2), 'no-such-user', 'never created');
          await s.createIamEntity(u, []);
          assert.equal(await s.deleteIamEntity(u.id), 'deleted');
          assert.equal(await s.createAccessKeyWithinQuota(accessKey(a, u.id), 2), 'no-such-user', 'deleted');
          assert.deepEqual(await s.listAccessKeysForPrincipal(u.id), []);
          const g = entity(a, 'group', 'not-a-user');
          await s.createIamEntity(g, []);
          assert.equal(await s.createAccessKeyWithinQuota(accessKey(a, g.id), 2), 'no-such-user', 'a group id is not a user');
          const root: AccessKeyRecord = { ...accessKey(a, a), principalArn: `arn:aws:iam::${a}:root`, principalType: 'Root', userName: null };
          assert.equal(await s.createAccessKeyWithinQuota(root, 2), 'created');
        }));

      test(`${RACERS} users each deleted while an access key is created for them, over ${HANDLES} connections: never a key without its user`, () =>
        withMany(async (hs) => {
          const a = await newAccount(hs[0]!);
          const users = Array.from({ length: RACERS }, (_, i) => entity(a, 'user', `racer-${i}`));
          for (const u of users) assert.equal(await hs[0]!.createIamEntity(u, []), true);
          const keys = users.map((u) => accessKey(a, u.id));
          // Each pair starts together on two different connections; which commits first varies.
          const outcomes = await Promise.all(
            users.map(async (u, i) => {
              const [created, deleted] = await Promise.all([
                hs[i % HANDLES]!.createAccessKeyWithinQuota(keys[i]!, 2),
                hs[(i + 1) % HANDLES]!.deleteIamEntity(u.id),
              ]);
              return `${created}/${deleted}`;
            }),
          );
          for (const [i, u] of users.entries()) {
            const stored = (await hs[2]!.listAccessKeysForPrincipal(u.id)).map((k) => k.accessKeyId);
            const exists = (await hs[3]!.getIamEntityById(u.id)) !== undefined;
            if (outcomes[i] === 'created/has-access-keys') {
              assert.ok(exists, `user ${i}: the key won, so the delete was refused`);
              assert.deepEqual(stored, [keys[i]!.accessKeyId]);
            } else {
              assert.equal(outcomes[i], 'no-such-user/deleted', `user ${i}: ${outcomes[i]}`);
              assert.ok(!exists);
              assert.deepEqual(stored, [], `user ${i}: deleted, yet it holds an access key`);
            }
          }
        }));

      test(`${RACERS} concurrent access keys for one user with a quota of 2 over ${HANDLES} connections: exactly 2`, () =>
        withMany(async (hs) => {
          const a = await newAccount(hs[0]!);
          const u = entity(a, 'user', 'busy');
          await hs[0]!.createIamEntity(u, []);
          const keys = Array.from({ length: RACERS }, (_, i) => accessKey(a, u.id, i));
          const results = await Promise.all(keys.map((k, i) => hs[i % HANDLES]!.createAccessKeyWithinQuota(k, 2)));
          assert.equal(count(results, 'created'), 2, JSON.stringify(results));
          assert.equal(count(results, 'quota-exceeded'), RACERS - 2, JSON.stringify(results));
          const stored = (await hs[1]!.listAccessKeysForPrincipal(u.id)).map((k) => k.accessKeyId).sort();
          assert.deepEqual(stored, keys.filter((_, i) => results[i] === 'created').map((k) => k.accessKeyId).sort());
        }));
    });

    describe('STS sessions', () => {
      test('sessions round-trip byte for byte, and only those expired before the cut are pruned', () =>
        withOne(async (s) => {
          const a = await newAccount(s);
          const full = session(a, 'AROAX', { expiresAt: 1_000 });
          const bare = session(a, 'AROAX', { expiresAt: 2_000, sessionPolicy: null, policyArns: [], sessionTags: [], transitiveTagKeys: [], sourceIdentity: null });
          await s.putStsSession(full);
          await s.putStsSession(bare);
          assert.deepEqual(await s.getStsSession(full.accessKeyId), full);
          assert.deepEqual(await s.getStsSession(bare.accessKeyId), bare);
          assert.equal(await s.getStsSession('ASIANOTHERE'), undefined);
          assert.ok((await s.pruneStsSessions(1_000)) >= 0);
          assert.deepEqual(await s.getStsSession(full.accessKeyId), full, 'expiring exactly at the cut: kept');
          assert.ok((await s.pruneStsSessions(1_001)) >= 1);
          assert.equal(await s.getStsSession(full.accessKeyId), undefined);
          assert.deepEqual(await s.getStsSession(bare.accessKeyId), bare);
        }));
    });
  });
}
