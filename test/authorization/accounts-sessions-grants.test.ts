/**
 * Authorization, table-driven (issue 3): principals of other accounts (only by key ARN, and only
 * when both the key policy and their identity policies allow), service control policies of an
 * organization (explicit denies, allow-lists, the management account left alone,
 * aws:PrincipalOrgID), assumed-role sessions with session policies and session tags, and grants
 * with constraints, grant tokens, grants to roles and to account roots, and retiring grants.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateGrantCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateRandomCommand,
  GetKeyRotationStatusCommand,
  ListGrantsCommand,
  RetireGrantCommand,
  ScheduleKeyDeletionCommand,
  CreateAliasCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import {
  ALLOW,
  allow,
  deny,
  denied,
  doc,
  fails,
  kp,
  rootStatement,
  runCases,
  World,
  type AuthzCase,
  type Expect,
  type Json,
  type Key,
  type Principal,
  type Why,
} from './harness';

const B = '222233334444';

describe('authorization: other accounts, SCPs, sessions and grants', () => {
  let w: World;
  let M = '';
  let orgId = '';
  const P = new Map<string, Principal>();
  const keys = new Map<string, Key>();
  const grants = new Map<string, { id: string; token: string }>();
  const key = (name: string): Key => keys.get(name) as Key;
  const pt = Buffer.from('x');
  const cases: AuthzCase[] = [];
  const add = (name: string, principal: string, call: (kms: KMSClient) => Promise<unknown>, expect: () => Expect): void => {
    cases.push({ name, who: () => P.get(principal) as Principal, call, expect });
  };
  const on = (action: string, k: string, why: Why) => (): Expect => denied(action, key(k).arn, why);
  const encArn = (k: string, ctx?: Record<string, string>, tokens?: () => string[]) => (kms: KMSClient) =>
    kms.send(new EncryptCommand({ KeyId: key(k).arn, Plaintext: pt, EncryptionContext: ctx, GrantTokens: tokens?.() }));
  const decBlobOf = (k: string, ctx?: Record<string, string>) => async (kms: KMSClient) => {
    const owner = k.startsWith('m-') ? (P.get('mroot') as Principal) : w.root;
    const blob = (await owner.kms.send(new EncryptCommand({ KeyId: key(k).arn, Plaintext: pt, EncryptionContext: ctx }))).CiphertextBlob;
    return kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: ctx }));
  };
  const userArn = (account: string, name: string): string => `arn:aws:iam::${account}:user/${name}`;

  // ---------------------------------------------------------------------------------------------
  // Another account (B): only by ARN, key policy AND identity policy

  add('cross-account: a B user allowed by the key policy (B account) and its IAM', 'bx', encArn('shared'), () => ALLOW);
  add('cross-account: GenerateDataKey, also allowed', 'bx', (k) => k.send(new GenerateDataKeyCommand({ KeyId: key('shared').arn, KeySpec: 'AES_256' })), () => ALLOW);
  add('cross-account: DescribeKey, also allowed', 'bx', (k) => k.send(new DescribeKeyCommand({ KeyId: key('shared').arn })), () => ALLOW);
  add('cross-account: Decrypt without KeyId of a blob made in A', 'bx', decBlobOf('shared'), () => ALLOW);
  add('cross-account: the B root (no identity policies needed)', 'broot', encArn('shared'), () => ALLOW);
  add('cross-account: a B user without identity policies', 'by', encArn('shared'), on('kms:Encrypt', 'shared', 'no-identity'));
  add('cross-account: a B user whose IAM explicitly denies Decrypt', 'bd', decBlobOf('shared'), on('kms:Decrypt', 'shared', 'deny-identity'));
  add('cross-account: an action the key policy does not share', 'bx', (k) => k.send(new GetKeyRotationStatusCommand({ KeyId: key('shared').arn })), on('kms:GetKeyRotationStatus', 'shared', 'no-resource'));
  add('cross-account: an operation AWS does not offer across accounts, though the policy allows it', 'bx', (k) => k.send(new DisableKeyCommand({ KeyId: key('shared').arn })), on('kms:DisableKey', 'shared', 'no-resource'));
  add('cross-account: a key whose policy does not name B', 'bx', encArn('private'), on('kms:Encrypt', 'private', 'no-resource'));
  add('cross-account: by key id, the key is looked up in the caller\'s account', 'bx', (k) => k.send(new EncryptCommand({ KeyId: key('shared').id, Plaintext: pt })), () =>
    fails('NotFoundException', `Key 'arn:aws:kms:${w.region}:${B}:key/${key('shared').id}' does not exist`));
  add('cross-account: by alias ARN', 'bx', (k) => k.send(new EncryptCommand({ KeyId: w.aliasArn('alias/shared'), Plaintext: pt })), () => ALLOW);
  add('cross-account: a key policy naming one B user: that user', 'bx', encArn('shared-user'), () => ALLOW);
  add('cross-account: a key policy naming one B user: another B user allowed by IAM', 'bz', encArn('shared-user'), on('kms:Encrypt', 'shared-user', 'no-resource'));
  add('cross-account: a key policy naming a B user without identity policies', 'bn', encArn('shared-user'), on('kms:Encrypt', 'shared-user', 'no-identity'));
  add('cross-account: the A root on a key of B that does not share', 'root', encArn('b-key'), on('kms:Encrypt', 'b-key', 'no-resource'));
  add('cross-account: B\'s identity policy scoped to another key ARN', 'bs', encArn('shared'), on('kms:Encrypt', 'shared', 'no-identity'));
  add('cross-account: CreateKey happens in the caller\'s own account', 'bx', async (k) => {
    const m = (await k.send(new CreateKeyCommand({}))).KeyMetadata!;
    assert.equal(m.AWSAccountId, B);
  }, () => ALLOW);

  // ---------------------------------------------------------------------------------------------
  // Service control policies bound the member account M (its root included), not the management account

  add('SCP allow-list: an allowed action', 'mu', encArn('m-key', { tenant: 't1' }), () => ALLOW);
  add('SCP allow-list: an action no SCP at the account level allows', 'mu', decBlobOf('m-key', { tenant: 't1' }), on('kms:Decrypt', 'm-key', 'no-scp'));
  add('SCP allow-list: the member account root is bounded too', 'mroot', decBlobOf('m-key', { tenant: 't1' }), on('kms:Decrypt', 'm-key', 'no-scp'));
  add('SCP allow-list: an action without a key resource', 'mu', (k) => k.send(new GenerateRandomCommand({ NumberOfBytes: 4 })), () => denied('kms:GenerateRandom', '*', 'no-scp'));
  add('SCP explicit deny beats the allow-list', 'mu', (k) => k.send(new ScheduleKeyDeletionCommand({ KeyId: key('m-key').arn })), on('kms:ScheduleKeyDeletion', 'm-key', 'deny-scp'));
  add('SCP explicit deny binds the member root', 'mroot', (k) => k.send(new ScheduleKeyDeletionCommand({ KeyId: key('m-key').arn })), on('kms:ScheduleKeyDeletion', 'm-key', 'deny-scp'));
  add('SCP deny with a condition: the context key missing', 'mu', encArn('m-key'), on('kms:Encrypt', 'm-key', 'deny-scp'));
  add('SCP deny attached at the organization root: the management account is not bound', 'bob', (k) => k.send(new ScheduleKeyDeletionCommand({ KeyId: key('a-doomed').arn, PendingWindowInDays: 7 })), () => ALLOW);
  add('aws:PrincipalOrgID in a key policy: a member principal, by ARN', 'mu', encArn('org-key', { tenant: 't1' }), () => ALLOW);
  add('aws:PrincipalOrgID in a key policy: a principal outside the organization', 'bx', encArn('org-key'), on('kms:Encrypt', 'org-key', 'no-resource'));
  add('aws:PrincipalOrgID in a key policy: a management-account user without identity policies (same account, named by "*")', 'alice', encArn('org-key'), () => ALLOW);

  // ---------------------------------------------------------------------------------------------
  // Assumed roles: identity policies of the role, session policies, session tags

  add('session: the role\'s identity policy allows', 's-plain', encArn('a-key'), () => ALLOW);
  add('session: a session policy allowing Encrypt', 's-enc', encArn('a-key'), () => ALLOW);
  add('session: a session policy bounds what the role allows', 's-enc', decBlobOf('a-key'), on('kms:Decrypt', 'a-key', 'no-session'));
  add('session: an explicit deny in the session policy', 's-deny', encArn('a-key'), on('kms:Encrypt', 'a-key', 'deny-session'));
  add('session: the session policy alone allows nothing the role cannot', 's-wide', encArn('a-key'), on('kms:Encrypt', 'a-key', 'no-identity'));
  add('session: a key policy naming the role lets a session without identity policies in', 's-bare', decBlobOf('role-key'), () => ALLOW);
  add('session: a key policy naming the role is bounded by the session policy', 's-enc', decBlobOf('role-key'), on('kms:Decrypt', 'role-key', 'no-session'));
  add('session: a key policy naming the session itself is not bounded by its session policy', 's-enc', decBlobOf('session-key'), () => ALLOW);
  add('session: another session of the same role is not named (its own session policy bounds it)', 's-other', decBlobOf('session-key'), on('kms:Decrypt', 'session-key', 'no-session'));
  add('session: aws:PrincipalArn is the role ARN', 's-arn', encArn('a-key'), () => ALLOW);
  add('session: aws:PrincipalTag from a session tag', 's-blue', encArn('a-key'), () => ALLOW);
  add('session: another session tag value', 's-red', encArn('a-key'), on('kms:Encrypt', 'a-key', 'no-identity'));
  add('session: a role without identity policies on a default-policy key', 's-bare', encArn('a-key'), on('kms:Encrypt', 'a-key', 'no-identity'));

  // ---------------------------------------------------------------------------------------------
  // Grants: they only allow, for their grantee, their operations, within their constraints

  const token = (g: string) => (): string[] => [grants.get(g)!.token];
  add('grant: the grantee encrypts without any policy', 'gu', encArn('g-key'), () => ALLOW);
  add('grant: the grantee decrypts', 'gu', decBlobOf('g-key'), () => ALLOW);
  add('grant: an operation the grant does not include', 'gu', (k) => k.send(new DescribeKeyCommand({ KeyId: key('g-key').arn })), on('kms:DescribeKey', 'g-key', 'no-identity'));
  add('grant: another principal gets nothing from it', 'alice', encArn('g-key'), on('kms:Encrypt', 'g-key', 'no-identity'));
  add('grant: a grant on another key gives nothing here', 'gu', encArn('a-key'), on('kms:Encrypt', 'a-key', 'no-identity'));
  add('grant EncryptionContextEquals: the exact context', 'gc', encArn('g-key', { a: '1' }), () => ALLOW);
  add('grant EncryptionContextEquals: another value', 'gc', encArn('g-key', { a: '2' }), on('kms:Encrypt', 'g-key', 'no-identity'));
  add('grant EncryptionContextEquals: an extra pair', 'gc', encArn('g-key', { a: '1', b: '2' }), on('kms:Encrypt', 'g-key', 'no-identity'));
  add('grant EncryptionContextEquals: no context', 'gc', encArn('g-key'), on('kms:Encrypt', 'g-key', 'no-identity'));
  add('grant EncryptionContextSubset: a superset context', 'gs', encArn('g-key', { a: '1', b: '2' }), () => ALLOW);
  add('grant EncryptionContextSubset: the context key in another case', 'gs', encArn('g-key', { A: '1' }), () => ALLOW);
  add('grant EncryptionContextSubset: the pair missing', 'gs', encArn('g-key', { b: '2' }), on('kms:Encrypt', 'g-key', 'no-identity'));
  add('grant: the grant token may be passed', 'gu', encArn('g-key', undefined, token('gu')), () => ALLOW);
  add('grant: a token Keyhold did not make is InvalidGrantTokenException', 'gu', encArn('g-key', undefined, () => ['not-a-token']), () =>
    fails('InvalidGrantTokenException', 'The request was rejected because the specified grant token is not valid.'));
  add('grant: a retired grant gives nothing, its token neither', 'gr', async (k) => {
    await k.send(new EncryptCommand({ KeyId: key('g-key').arn, Plaintext: pt }));
    await k.send(new RetireGrantCommand({ GrantToken: grants.get('gr')!.token }));
    return k.send(new EncryptCommand({ KeyId: key('g-key').arn, Plaintext: pt, GrantTokens: [grants.get('gr')!.token] }));
  }, on('kms:Encrypt', 'g-key', 'no-identity'));
  add('grant to a role: its session uses it', 's-bare', encArn('g-key'), () => ALLOW);
  add('grant to a role: a session policy still bounds it', 's-enc-grant', decBlobOf('g-key'), on('kms:Decrypt', 'g-key', 'no-session'));
  add('grant to the account root: a user without an identity allow gets nothing', 'alice', (k) => k.send(new GenerateDataKeyCommand({ KeyId: key('g-root').arn, KeySpec: 'AES_128' })), on('kms:GenerateDataKey', 'g-root', 'no-resource'));
  add('grant to the account root: a user whose IAM allows', 'gi', (k) => k.send(new GenerateDataKeyCommand({ KeyId: key('g-root').arn, KeySpec: 'AES_128' })), () => ALLOW);
  add('grant to the account root: the root itself', 'root', (k) => k.send(new GenerateDataKeyCommand({ KeyId: key('g-root').arn, KeySpec: 'AES_128' })), () => ALLOW);
  add('grant: an explicit deny in IAM beats a grant', 'gdeny', encArn('g-key'), on('kms:Encrypt', 'g-key', 'deny-identity'));
  add('grant: an explicit deny in the key policy beats a grant', 'gu', encArn('g-denied'), on('kms:Encrypt', 'g-denied', 'deny-resource'));
  add('grant across accounts: a B user without identity policies', 'bg', encArn('g-key'), () => ALLOW);
  add('grant with CreateGrant: the grantee may create a narrower grant', 'gcg', (k) =>
    k.send(new CreateGrantCommand({ KeyId: key('g-key').arn, GranteePrincipal: userArn(w.account, 'alice'), Operations: ['Encrypt'], Constraints: { EncryptionContextSubset: { a: '1', b: '2' } } })), () => ALLOW);
  add('grant with CreateGrant: not a looser one', 'gcg', (k) =>
    k.send(new CreateGrantCommand({ KeyId: key('g-key').arn, GranteePrincipal: userArn(w.account, 'alice'), Operations: ['Encrypt'] })), on('kms:CreateGrant', 'g-key', 'no-identity'));
  add('grant with CreateGrant: not for more operations', 'gcg', (k) =>
    k.send(new CreateGrantCommand({ KeyId: key('g-key').arn, GranteePrincipal: userArn(w.account, 'alice'), Operations: ['Encrypt', 'Decrypt'], Constraints: { EncryptionContextSubset: { a: '1' } } })), on('kms:CreateGrant', 'g-key', 'no-identity'));
  add('RetireGrant by a principal of the issuing account with kms:RetireGrant in IAM', 'gk', (k) =>
    k.send(new RetireGrantCommand({ KeyId: key('g-key').arn, GrantId: grants.get('gk-target')!.id })), () => ALLOW);
  add('RetireGrant by a principal of the issuing account without it', 'alice', (k) =>
    k.send(new RetireGrantCommand({ KeyId: key('g-key').arn, GrantId: grants.get('gn-target')!.id })), on('kms:RetireGrant', 'g-key', 'no-identity'));
  add('ListGrants needs kms:ListGrants (a grant cannot give it)', 'gu', (k) => k.send(new ListGrantsCommand({ KeyId: key('g-key').arn })), on('kms:ListGrants', 'g-key', 'no-identity'));

  // ---------------------------------------------------------------------------------------------

  before(async () => {
    w = await World.start();
    const A = w.account;
    P.set('root', w.root);
    const user = async (name: string, statements: Json[] = [], owner?: Principal, tags?: Record<string, string>): Promise<Principal> => {
      const p = await w.user(name, { statements, ...(owner ? { owner } : {}), ...(tags ? { tags } : {}) });
      P.set(name, p);
      return p;
    };

    // Account A principals.
    await user('alice');
    await user('bob', [allow('kms:*')]);
    await user('gu');
    await user('gc');
    await user('gs');
    await user('gr');
    await user('gi', [allow('kms:GenerateDataKey')]);
    await user('gdeny', [deny('kms:Encrypt')]);
    await user('gcg');
    await user('gk', [allow('kms:RetireGrant')]);
    await user('gt');
    await user('assumer');

    // Account B and its users (made by B's root through IAM).
    const broot = await w.accountRoot(B);
    P.set('broot', broot);
    keys.set('b-key', await w.key({}, broot));

    // Keys in A.
    keys.set('a-key', await w.key());
    keys.set('a-doomed', await w.key());
    keys.set('private', await w.key());
    keys.set('g-key', await w.key());
    await w.root.kms.send(new CreateAliasCommand({ AliasName: 'alias/shared', TargetKeyId: (keys.set('shared', await w.keyWithPolicy([
      rootStatement(A),
      kp(`arn:aws:iam::${B}:root`, ['kms:Encrypt', 'kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKey*', 'kms:DisableKey']),
    ])), key('shared')).id }));

    await user('bx', [allow('kms:*', `arn:aws:kms:*:${A}:key/*`), allow('kms:CreateKey')], broot);
    await user('by', [], broot);
    await user('bd', [allow('kms:*'), deny('kms:Decrypt')], broot);
    await user('bz', [allow('kms:Encrypt')], broot);
    await user('bn', [], broot);
    await user('bs', [allow('kms:Encrypt', `arn:aws:kms:*:${A}:key/00000000-0000-0000-0000-000000000000`)], broot);
    await user('bg', [], broot);
    keys.set('shared-user', await w.keyWithPolicy([rootStatement(A), kp([userArn(B, 'bx'), userArn(B, 'bn')], 'kms:Encrypt')]));

    // Roles and sessions in A.
    const roleArn = await w.role('app', [userArn(A, 'assumer')], { statements: [allow('kms:*')], tagSession: true });
    const bareRole = await w.role('bare', [userArn(A, 'assumer')]);
    const tagRole = await w.role('tagged', [userArn(A, 'assumer')], { statements: [allow('kms:Encrypt', '*', { Condition: { StringEquals: { 'aws:PrincipalTag/team': 'blue' } } })], tagSession: true });
    const arnRole = await w.role('arn-role', [userArn(A, 'assumer')], { statements: [allow('kms:Encrypt', '*', { Condition: { ArnEquals: { 'aws:PrincipalArn': `arn:aws:iam::${A}:role/arn-role` } } })] });
    const narrowRole = await w.role('narrow', [userArn(A, 'assumer')], { statements: [allow('kms:DescribeKey')] });
    const assumer = P.get('assumer') as Principal;
    P.set('s-plain', await w.assume(roleArn, 's-plain', assumer));
    P.set('s-enc', await w.assume(roleArn, 's-enc', assumer, { policy: [allow('kms:Encrypt')] }));
    P.set('s-other', await w.assume(roleArn, 's-other', assumer, { policy: [allow('kms:Encrypt')] }));
    P.set('s-deny', await w.assume(roleArn, 's-deny', assumer, { policy: [allow('kms:*'), deny('kms:Encrypt')] }));
    P.set('s-wide', await w.assume(narrowRole, 's-wide', assumer, { policy: [allow('kms:*')] }));
    P.set('s-bare', await w.assume(bareRole, 's-bare', assumer));
    P.set('s-enc-grant', await w.assume(bareRole, 's-enc-grant', assumer, { policy: [allow('kms:Encrypt')] }));
    P.set('s-arn', await w.assume(arnRole, 's-arn', assumer));
    P.set('s-blue', await w.assume(tagRole, 's-blue', assumer, { tags: { team: 'blue' } }));
    P.set('s-red', await w.assume(tagRole, 's-red', assumer, { tags: { team: 'red' } }));
    keys.set('role-key', await w.keyWithPolicy([rootStatement(A), kp(bareRole, 'kms:Decrypt'), kp(roleArn, 'kms:Decrypt')]));
    keys.set('session-key', await w.keyWithPolicy([rootStatement(A), kp(`arn:aws:sts::${A}:assumed-role/app/s-enc`, 'kms:Decrypt')]));

    // Grants in A.
    const grant = async (name: string, input: Omit<ConstructorParameters<typeof CreateGrantCommand>[0], 'KeyId'>, k = 'g-key'): Promise<void> => {
      const g = await w.root.kms.send(new CreateGrantCommand({ KeyId: key(k).arn, ...input }));
      grants.set(name, { id: g.GrantId!, token: g.GrantToken! });
    };
    await grant('gu', { GranteePrincipal: userArn(A, 'gu'), Operations: ['Encrypt', 'Decrypt'] });
    await grant('gc', { GranteePrincipal: userArn(A, 'gc'), Operations: ['Encrypt'], Constraints: { EncryptionContextEquals: { a: '1' } } });
    await grant('gs', { GranteePrincipal: userArn(A, 'gs'), Operations: ['Encrypt'], Constraints: { EncryptionContextSubset: { a: '1' } } });
    await grant('gr', { GranteePrincipal: userArn(A, 'gr'), RetiringPrincipal: userArn(A, 'gr'), Operations: ['Encrypt'] });
    await grant('bare', { GranteePrincipal: bareRole, Operations: ['Encrypt', 'Decrypt'] });
    await grant('gdeny', { GranteePrincipal: userArn(A, 'gdeny'), Operations: ['Encrypt'] });
    await grant('bg', { GranteePrincipal: userArn(B, 'bg'), Operations: ['Encrypt'] });
    await grant('gcg', { GranteePrincipal: userArn(A, 'gcg'), Operations: ['CreateGrant', 'Encrypt'], Constraints: { EncryptionContextSubset: { a: '1' } } });
    await grant('gk-target', { GranteePrincipal: userArn(A, 'gt'), Operations: ['Encrypt'] });
    await grant('gn-target', { GranteePrincipal: userArn(A, 'bob'), Operations: ['Encrypt'] });
    keys.set('g-root', await w.keyWithPolicy([kp(`arn:aws:iam::${A}:root`, ['kms:CreateGrant', 'kms:DescribeKey'])]));
    await grant('root', { GranteePrincipal: `arn:aws:iam::${A}:root`, Operations: ['GenerateDataKey'] }, 'g-root');
    keys.set('g-denied', await w.keyWithPolicy([rootStatement(A), kp('*', 'kms:Encrypt', 'Deny')]));
    await grant('g-denied', { GranteePrincipal: userArn(A, 'gu'), Operations: ['Encrypt'] }, 'g-denied');

    // An organization: A manages it; M is a member bounded by SCPs.
    orgId = (await w.org('CreateOrganization', { FeatureSet: 'ALL' })).Organization.Id;
    const rootId = (await w.org('ListRoots')).Roots[0].Id;
    M = (await w.org('CreateAccount', { Email: 'm@example.com', AccountName: 'member' })).CreateAccountStatus.AccountId;
    const mroot = await w.accountRoot(M);
    P.set('mroot', mroot);
    await user('mu', [allow('kms:*')], mroot);
    keys.set('m-key', await w.key({}, mroot));
    keys.set('org-key', await w.keyWithPolicy([rootStatement(A), kp('*', 'kms:Encrypt', 'Allow', { Condition: { StringEquals: { 'aws:PrincipalOrgID': orgId } } })]));
    await w.org('EnablePolicyType', { RootId: rootId, PolicyType: 'SERVICE_CONTROL_POLICY' });
    const scp = async (name: string, statements: Json[], targets: string[]): Promise<void> => {
      const id = (await w.org('CreatePolicy', { Name: name, Description: name, Type: 'SERVICE_CONTROL_POLICY', Content: doc(...statements) })).Policy.PolicySummary.Id;
      for (const t of targets) await w.org('AttachPolicy', { PolicyId: id, TargetId: t });
    };
    await scp('kms-subset', [allow(['kms:Encrypt', 'kms:DescribeKey', 'kms:ScheduleKeyDeletion', 'kms:CreateKey'])], [M]);
    await scp('no-deletion', [deny('kms:ScheduleKeyDeletion')], [rootId]);
    await scp('tenant-required', [deny('kms:Encrypt', '*', { Condition: { Null: { 'kms:EncryptionContext:tenant': 'true' } } })], [M]);
    await w.org('DetachPolicy', { PolicyId: 'p-FullAWSAccess', TargetId: M });
  });
  after(async () => {
    for (const p of P.values()) p.kms.destroy();
    await w?.stop();
  });

  test('the suite\'s accounts are distinct', () => {
    assert.notEqual(w.account, B);
    assert.notEqual(M, w.account);
    assert.match(orgId, /^o-/);
  });

  runCases(cases);
});
