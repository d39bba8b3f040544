/**
 * AWS's cross-policy decision as KMS applies it: explicit deny precedence, SCPs, the mandatory
 * key policy and its delegation to IAM through the account root, cross-account access, session
 * policies, grants, and the AccessDeniedException texts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { accessDeniedMessage, authorize, decide, type DenyReason, type PolicySet } from '../../src/policy/decide';
import { compilePolicy, type CompiledPolicy } from '../../src/policy/evaluate';
import { compileKeyPolicy, defaultKeyPolicy } from '../../src/policy/key-policy';
import type { RequestPrincipal } from '../../src/policy/principal';
import { ACCOUNT, alice, allow, bob, carol, denyStatement, ec2, KEY_ARN, OTHER, OTHER_KEY_ARN, otherRoot, policy, request, root, session } from './fixtures';

const keyPolicy = (...statements: object[]): CompiledPolicy => compileKeyPolicy(policy(statements));
const identity = (...statements: object[]): CompiledPolicy => compilePolicy(policy(statements), 'identity');
const scp = (...statements: object[]): CompiledPolicy => compilePolicy(policy(statements), 'scp');
const sessionPolicy = (...statements: object[]): CompiledPolicy => compilePolicy(policy(statements), 'session');
const kp = (principal: unknown, action: string | string[] = 'kms:*', effect = 'Allow', extra: object = {}): object => ({
  Effect: effect,
  Principal: principal,
  Action: action,
  Resource: '*',
  ...extra,
});

const DEFAULT_KP = compileKeyPolicy(defaultKeyPolicy(ACCOUNT));
const KP_ALICE = keyPolicy(kp({ AWS: ACCOUNT }), kp({ AWS: alice.arn }, ['kms:Encrypt', 'kms:Decrypt']));
const KP_NO_ROOT = keyPolicy(kp({ AWS: alice.arn }));
const KP_ROLE = keyPolicy(kp({ AWS: session.sessionIssuerArn }));
const KP_SESSION = keyPolicy(kp({ AWS: session.arn }));
const KP_DENY_DECRYPT = keyPolicy(kp({ AWS: ACCOUNT }), kp('*', 'kms:Decrypt', 'Deny', { Sid: 'NoDecrypt' }));
const KP_OTHER_ACCOUNT = keyPolicy(kp({ AWS: ACCOUNT }), kp({ AWS: `arn:aws:iam::${OTHER}:root` }, ['kms:Encrypt', 'kms:Decrypt']));
const KP_CAROL = keyPolicy(kp({ AWS: ACCOUNT }), kp({ AWS: carol.arn }, ['kms:Encrypt']));
const KP_MANAGED = keyPolicy(
  kp({ AWS: '*' }, ['kms:Encrypt', 'kms:Decrypt'], 'Allow', { Condition: { StringEquals: { 'kms:CallerAccount': ACCOUNT, 'kms:ViaService': 'ec2.us-east-1.amazonaws.com' } } }),
);
const KP_SERVICE = keyPolicy(kp({ AWS: ACCOUNT }), kp({ Service: 'ec2.amazonaws.com' }, 'kms:Decrypt'));

const ID_ALL = identity(allow());
const ID_ENCRYPT_KEY = identity(allow('kms:Encrypt', KEY_ARN));
const ID_OTHER_KEY = identity(allow('kms:*', OTHER_KEY_ARN));
const ID_OWN_KEYS = identity(allow('kms:*', `arn:aws:kms:*:${OTHER}:key/*`));
const ID_DENY_DECRYPT = identity(denyStatement('kms:Decrypt', '*', { Sid: 'NoDecryptIdentity' }));
const ID_DENY_ALL = identity(denyStatement('*', '*'));

const SCP_FULL = scp(allow('*', '*'));
const SCP_NO_DELETE = scp(allow('*', '*'), denyStatement('kms:ScheduleKeyDeletion', '*', { Sid: 'ProtectKeys' }));
const SCP_IAM_ONLY = scp(allow('iam:*', '*'));
const SCP_KMS = scp(allow('kms:*', '*'));

const SESSION_ENCRYPT = sessionPolicy(allow('kms:Encrypt', '*'));
const SESSION_ALL = sessionPolicy(allow('kms:*', '*'));
const SESSION_DENY = sessionPolicy(denyStatement('*', '*'));

type Case = readonly [string, RequestPrincipal, string, string, PolicySet, DenyReason | 'allowed', Readonly<Record<string, string>>?];

const CASES: readonly Case[] = [
  // The key policy delegating to IAM through the account root.
  ['default key policy + identity allow', alice, 'kms:Encrypt', KEY_ARN, { resourcePolicy: DEFAULT_KP, identityPolicies: [ID_ALL] }, 'allowed'],
  ['default key policy, no identity policy', alice, 'kms:Encrypt', KEY_ARN, { resourcePolicy: DEFAULT_KP }, 'no-allow-identity'],
  ['default key policy, identity allows another action', alice, 'kms:Decrypt', KEY_ARN, { resourcePolicy: DEFAULT_KP, identityPolicies: [ID_ENCRYPT_KEY] }, 'no-allow-identity'],
  ['default key policy, identity allows another key', alice, 'kms:Encrypt', KEY_ARN, { resourcePolicy: DEFAULT_KP, identityPolicies: [ID_OTHER_KEY] }, 'no-allow-identity'],
  ['default key policy, identity allows exactly this key and action', alice, 'kms:Encrypt', KEY_ARN, { resourcePolicy: DEFAULT_KP, identityPolicies: [ID_OTHER_KEY, ID_ENCRYPT_KEY] }, 'allowed'],
  // The key policy naming the caller directly.
  ['key policy names alice: no IAM policy needed', alice, 'kms:Decrypt', KEY_ARN, { resourcePolicy: KP_ALICE }, 'allowed'],
  ['key policy names alice for Encrypt only: other actions go through IAM', alice, 'kms:ScheduleKeyDeletion', KEY_ARN, { resourcePolicy: KP_ALICE }, 'no-allow-identity'],
  ['key policy without the account root: IAM cannot help bob', bob, 'kms:Encrypt', KEY_ARN, { resourcePolicy: KP_NO_ROOT, identityPolicies: [ID_ALL] }, 'no-allow-resource'],
  ['key policy without the account root still lets alice in', alice, 'kms:Encrypt', KEY_ARN, { resourcePolicy: KP_NO_ROOT }, 'allowed'],
  ['the root user needs no identity policy', root, 'kms:PutKeyPolicy', KEY_ARN, { resourcePolicy: DEFAULT_KP }, 'allowed'],
  ['the root user is locked out by a key policy that omits the account', root, 'kms:PutKeyPolicy', KEY_ARN, { resourcePolicy: KP_NO_ROOT }, 'no-allow-resource'],
  ['an AWS-managed-style key policy allows its account through a service', alice, 'kms:Encrypt', KEY_ARN, { resourcePolicy: KP_MANAGED }, 'allowed', { 'kms:CallerAccount': ACCOUNT, 'kms:ViaService': 'ec2.us-east-1.amazonaws.com' }],
  ['an AWS-managed-style key policy refuses direct calls', alice, 'kms:Encrypt', KEY_ARN, { resourcePolicy: KP_MANAGED, identityPolicies: [ID_ALL] }, 'no-allow-resource', { 'kms:CallerAccount': ACCOUNT }],
  ['an AWS-managed-style key policy refuses other accounts', carol, 'kms:Encrypt', KEY_ARN, { resourcePolicy: KP_MANAGED, identityPolicies: [ID_ALL] }, 'no-allow-resource', { 'kms:CallerAccount': OTHER, 'kms:ViaService': 'ec2.us-east-1.amazonaws.com' }],
  ['a service principal named in the key policy', ec2, 'kms:Decrypt', KEY_ARN, { resourcePolicy: KP_SERVICE }, 'allowed'],
  ['a service principal not named in the key policy', ec2, 'kms:Decrypt', KEY_ARN, { resourcePolicy: DEFAULT_KP }, 'no-allow-resource'],
  // Explicit deny precedence.
  ['an identity deny beats a key policy naming the caller', alice, 'kms:Decrypt', KEY_ARN, { resourcePolicy: KP_ALICE, identityPolicies: [ID_ALL, ID_DENY_DECRYPT] }, 'explicit-deny-identity'],
  ['a key policy deny beats an identity allow', alice, 'kms:Decrypt', KEY_ARN, { resourcePolicy: KP_DENY_DECRYPT, identityPolicies: [ID_ALL] }, 'explicit-deny-resource'],
  ['a key policy deny is reported before an identity deny', alice, 'kms:Decrypt', KEY_ARN, { resourcePolicy: KP_DENY_DECRYPT, identityPolicies: [ID_DENY_DECRYPT] }, 'explicit-deny-resource'],
  ['a key policy deny on another action does not matter', alice, 'kms:Encrypt', KEY_ARN, { resourcePolicy: KP_DENY_DECRYPT, identityPolicies: [ID_ALL] }, 'allowed'],
  ['an identity deny also binds the root user', root, 'kms:Encrypt', KEY_ARN, { resourcePolicy: DEFAULT_KP, identityPolicies: [ID_DENY_ALL] }, 'explicit-deny-identity'],
  // Cross-account.
  ['cross-account: key policy allows the account and identity allows', carol, 'kms:Encrypt', KEY_ARN, { resourcePolicy: KP_OTHER_ACCOUNT, identityPolicies: [ID_ALL] }, 'allowed'],
  ['cross-account: key policy allows the account, no identity policy', carol, 'kms:Encrypt', KEY_ARN, { resourcePolicy: KP_OTHER_ACCOUNT }, 'no-allow-identity'],
  ['cross-account: key policy names carol, still no identity policy', carol, 'kms:Encrypt', KEY_ARN, { resourcePolicy: KP_CAROL }, 'no-allow-identity'],
  ['cross-account: key policy names carol and identity allows', carol, 'kms:Encrypt', KEY_ARN, { resourcePolicy: KP_CAROL, identityPolicies: [ID_ALL] }, 'allowed'],
  ['cross-account: key policy names carol for Encrypt only', carol, 'kms:Decrypt', KEY_ARN, { resourcePolicy: KP_CAROL, identityPolicies: [ID_ALL] }, 'no-allow-resource'],
  ['cross-account: the default key policy admits only its own account', carol, 'kms:Encrypt', KEY_ARN, { resourcePolicy: DEFAULT_KP, identityPolicies: [ID_ALL] }, 'no-allow-resource'],
  ['cross-account: the external root needs no identity policy', otherRoot, 'kms:Decrypt', KEY_ARN, { resourcePolicy: KP_OTHER_ACCOUNT }, 'allowed'],
  ['cross-account: identity policy scoped to own keys does not cover the foreign key', carol, 'kms:Encrypt', KEY_ARN, { resourcePolicy: KP_OTHER_ACCOUNT, identityPolicies: [ID_OWN_KEYS] }, 'no-allow-identity'],
  ['cross-account: the key owner comes from the key ARN, not the caller', alice, 'kms:Encrypt', OTHER_KEY_ARN, { resourcePolicy: KP_ALICE }, 'no-allow-identity'],
  // Service control policies.
  ['SCP allowing everything', alice, 'kms:Encrypt', KEY_ARN, { resourcePolicy: DEFAULT_KP, identityPolicies: [ID_ALL], scpLevels: [[SCP_FULL]] }, 'allowed'],
  ['SCP explicit deny', alice, 'kms:ScheduleKeyDeletion', KEY_ARN, { resourcePolicy: DEFAULT_KP, identityPolicies: [ID_ALL], scpLevels: [[SCP_NO_DELETE]] }, 'explicit-deny-scp'],
  ['SCP without a KMS allow', alice, 'kms:Encrypt', KEY_ARN, { resourcePolicy: DEFAULT_KP, identityPolicies: [ID_ALL], scpLevels: [[SCP_IAM_ONLY]] }, 'no-allow-scp'],
  ['SCP: every level must allow', alice, 'kms:Encrypt', KEY_ARN, { resourcePolicy: DEFAULT_KP, identityPolicies: [ID_ALL], scpLevels: [[SCP_FULL], [SCP_IAM_ONLY]] }, 'no-allow-scp'],
  ['SCP: one allowing policy per level suffices', alice, 'kms:Encrypt', KEY_ARN, { resourcePolicy: DEFAULT_KP, identityPolicies: [ID_ALL], scpLevels: [[SCP_FULL], [SCP_IAM_ONLY, SCP_KMS]] }, 'allowed'],
  ['SCP binds the member root user', root, 'kms:Encrypt', KEY_ARN, { resourcePolicy: DEFAULT_KP, scpLevels: [[SCP_IAM_ONLY]] }, 'no-allow-scp'],
  ['SCP binds even a key policy naming the caller', alice, 'kms:Encrypt', KEY_ARN, { resourcePolicy: KP_ALICE, scpLevels: [[SCP_IAM_ONLY]] }, 'no-allow-scp'],
  ['SCP deny is reported before a key policy deny', alice, 'kms:ScheduleKeyDeletion', KEY_ARN, { resourcePolicy: keyPolicy(kp('*', '*', 'Deny')), scpLevels: [[SCP_NO_DELETE]] }, 'explicit-deny-scp'],
  ['SCP does not grant anything itself', alice, 'kms:Encrypt', KEY_ARN, { resourcePolicy: DEFAULT_KP, scpLevels: [[SCP_FULL]] }, 'no-allow-identity'],
  // Assumed roles and session policies.
  ['key policy names the role: a session needs no identity policy', session, 'kms:Decrypt', KEY_ARN, { resourcePolicy: KP_ROLE }, 'allowed'],
  ['key policy names the role: the session policy bounds it (allowed)', session, 'kms:Encrypt', KEY_ARN, { resourcePolicy: KP_ROLE, sessionPolicies: [SESSION_ENCRYPT] }, 'allowed'],
  ['key policy names the role: the session policy bounds it (denied)', session, 'kms:Decrypt', KEY_ARN, { resourcePolicy: KP_ROLE, sessionPolicies: [SESSION_ENCRYPT] }, 'no-allow-session'],
  ['key policy names the session itself: not bounded by its session policy', session, 'kms:Decrypt', KEY_ARN, { resourcePolicy: KP_SESSION, sessionPolicies: [SESSION_ENCRYPT] }, 'allowed'],
  ['through IAM: the session policy intersects the role policy (denied)', session, 'kms:Decrypt', KEY_ARN, { resourcePolicy: DEFAULT_KP, identityPolicies: [ID_ALL], sessionPolicies: [SESSION_ENCRYPT] }, 'no-allow-session'],
  ['through IAM: the session policy intersects the role policy (allowed)', session, 'kms:Encrypt', KEY_ARN, { resourcePolicy: DEFAULT_KP, identityPolicies: [ID_ALL], sessionPolicies: [SESSION_ENCRYPT] }, 'allowed'],
  ['a session policy grants nothing on its own', session, 'kms:Encrypt', KEY_ARN, { resourcePolicy: DEFAULT_KP, sessionPolicies: [SESSION_ALL] }, 'no-allow-identity'],
  ['without a session policy the role policy decides', session, 'kms:Decrypt', KEY_ARN, { resourcePolicy: DEFAULT_KP, identityPolicies: [ID_ALL] }, 'allowed'],
  ['a session policy deny beats a direct key policy allow', session, 'kms:Decrypt', KEY_ARN, { resourcePolicy: KP_SESSION, sessionPolicies: [SESSION_DENY] }, 'explicit-deny-session'],
  // Grants.
  ['a grant allows without the key policy naming the caller', bob, 'kms:Decrypt', KEY_ARN, { resourcePolicy: KP_NO_ROOT, grantAllows: true }, 'allowed'],
  ['a grant allows without an identity policy', bob, 'kms:Decrypt', KEY_ARN, { resourcePolicy: DEFAULT_KP, grantAllows: true }, 'allowed'],
  ['a grant does not beat an identity deny', bob, 'kms:Decrypt', KEY_ARN, { resourcePolicy: DEFAULT_KP, identityPolicies: [ID_DENY_DECRYPT], grantAllows: true }, 'explicit-deny-identity'],
  ['a grant does not beat a key policy deny', bob, 'kms:Decrypt', KEY_ARN, { resourcePolicy: KP_DENY_DECRYPT, grantAllows: true }, 'explicit-deny-resource'],
  ['a grant is bounded by SCPs', bob, 'kms:Decrypt', KEY_ARN, { resourcePolicy: DEFAULT_KP, grantAllows: true, scpLevels: [[SCP_IAM_ONLY]] }, 'no-allow-scp'],
  ['a grant to a role is bounded by the session policy', session, 'kms:Decrypt', KEY_ARN, { resourcePolicy: DEFAULT_KP, grantAllows: true, sessionPolicies: [SESSION_ENCRYPT] }, 'no-allow-session'],
  ['a grant to an external principal needs no policy in either account', carol, 'kms:Decrypt', KEY_ARN, { resourcePolicy: DEFAULT_KP, grantAllows: true }, 'allowed'],
  ['no grant, no key policy allow', bob, 'kms:Decrypt', KEY_ARN, { resourcePolicy: KP_NO_ROOT, grantAllows: false }, 'no-allow-resource'],
  // Actions without a key resource: IAM alone.
  ['CreateKey allowed by an identity policy', alice, 'kms:CreateKey', '*', { identityPolicies: [identity(allow('kms:CreateKey', '*'))] }, 'allowed'],
  ['CreateKey without an identity policy', alice, 'kms:CreateKey', '*', {}, 'no-allow-identity'],
  ['ListKeys with an identity policy scoped to key ARNs', alice, 'kms:ListKeys', '*', { identityPolicies: [identity(allow('kms:*', `arn:aws:kms:*:${ACCOUNT}:key/*`))] }, 'no-allow-identity'],
  ['CreateKey by the root user', root, 'kms:CreateKey', '*', {}, 'allowed'],
  ['CreateKey by a session, bounded by its session policy', session, 'kms:CreateKey', '*', { identityPolicies: [ID_ALL], sessionPolicies: [SESSION_ENCRYPT] }, 'no-allow-session'],
  ['CreateKey denied by an SCP deny', alice, 'kms:CreateKey', '*', { identityPolicies: [ID_ALL], scpLevels: [[scp(allow('*', '*'), denyStatement('kms:CreateKey'))]] }, 'explicit-deny-scp'],
];

describe('authorize', () => {
  for (const [name, principal, action, resource, set, expected, conditions] of CASES) {
    test(`${name}: ${expected}`, () => {
      const d = authorize(request(principal, action, resource, conditions ?? {}), set);
      assert.equal(d.reason, expected);
      assert.equal(d.allowed, expected === 'allowed');
    });
  }

  test('the denying statement Sid is reported', () => {
    assert.deepEqual(authorize(request(alice, 'kms:Decrypt'), { resourcePolicy: KP_DENY_DECRYPT, identityPolicies: [ID_ALL] }), {
      allowed: false,
      reason: 'explicit-deny-resource',
      sid: 'NoDecrypt',
    });
    assert.equal(authorize(request(alice, 'kms:ScheduleKeyDeletion'), { resourcePolicy: DEFAULT_KP, scpLevels: [[SCP_NO_DELETE]] }).sid, 'ProtectKeys');
  });

  test('policies of the wrong kind are refused', () => {
    assert.throws(() => authorize(request(alice), { resourcePolicy: ID_ALL }), TypeError);
    assert.throws(() => authorize(request(alice), { resourcePolicy: DEFAULT_KP, identityPolicies: [DEFAULT_KP] }), TypeError);
    assert.throws(() => authorize(request(alice), { resourcePolicy: DEFAULT_KP, scpLevels: [[ID_ALL]] }), TypeError);
  });

  test('decide works on per-policy results alone', () => {
    assert.deepEqual(decide({ principal: alice, resource: { effect: 'Allow', via: 'account' }, identity: [{ effect: 'Allow' }] }), { allowed: true, reason: 'allowed' });
    assert.deepEqual(decide({ principal: alice, resource: { effect: 'NoMatch' }, identity: [{ effect: 'Allow' }] }), { allowed: false, reason: 'no-allow-resource' });
    assert.deepEqual(decide({ principal: alice, identity: [{ effect: 'NoMatch' }, { effect: 'ExplicitDeny', sid: 'X' }] }), { allowed: false, reason: 'explicit-deny-identity', sid: 'X' });
    assert.deepEqual(decide({ principal: alice, resourceAccountId: OTHER, resource: { effect: 'Allow', via: 'direct' }, identity: [] }), { allowed: false, reason: 'no-allow-identity' });
  });
});

describe('permissions boundaries (issue 12 item 4)', () => {
  const BOUND_DESCRIBE = identity(allow('kms:DescribeKey'));
  const BOUND_DENY_DECRYPT = identity(allow('*'), denyStatement('kms:Decrypt', '*', { Sid: 'BoundaryNoDecrypt' }));
  const BOUNDARY_CASES: readonly Case[] = [
    ['identity allows, boundary does not (no key)', alice, 'kms:CreateKey', '*', { identityPolicies: [ID_ALL], boundaryPolicies: [BOUND_DESCRIBE] }, 'no-allow-boundary'],
    ['identity and boundary allow (no key)', alice, 'kms:DescribeKey', '*', { identityPolicies: [ID_ALL], boundaryPolicies: [BOUND_DESCRIBE] }, 'allowed'],
    ['boundary allows, identity does not', alice, 'kms:DescribeKey', KEY_ARN, { resourcePolicy: DEFAULT_KP, boundaryPolicies: [BOUND_DESCRIBE] }, 'no-allow-identity'],
    ['key policy delegates to the account: the boundary bounds', alice, 'kms:Encrypt', KEY_ARN, { resourcePolicy: DEFAULT_KP, identityPolicies: [ID_ALL], boundaryPolicies: [BOUND_DESCRIBE] }, 'no-allow-boundary'],
    ['key policy names the user: not bounded', alice, 'kms:Encrypt', KEY_ARN, { resourcePolicy: KP_ALICE, boundaryPolicies: [BOUND_DESCRIBE] }, 'allowed'],
    ['key policy names the role: its session is bounded', session, 'kms:Encrypt', KEY_ARN, { resourcePolicy: KP_ROLE, boundaryPolicies: [BOUND_DESCRIBE] }, 'no-allow-boundary'],
    ['key policy names the session: not bounded', session, 'kms:Encrypt', KEY_ARN, { resourcePolicy: KP_SESSION, boundaryPolicies: [BOUND_DESCRIBE] }, 'allowed'],
    ['explicit deny in the boundary beats a key policy naming the user', alice, 'kms:Decrypt', KEY_ARN, { resourcePolicy: KP_ALICE, boundaryPolicies: [BOUND_DENY_DECRYPT] }, 'explicit-deny-boundary'],
    ['cross-account: the boundary bounds', carol, 'kms:Encrypt', KEY_ARN, { resourcePolicy: KP_CAROL, identityPolicies: [ID_ALL], boundaryPolicies: [BOUND_DESCRIBE] }, 'no-allow-boundary'],
    ['a grant to a user is not bounded', alice, 'kms:Encrypt', KEY_ARN, { resourcePolicy: KP_NO_ROOT, grantAllows: true, boundaryPolicies: [BOUND_DESCRIBE] }, 'allowed'],
    ['a grant reaching a role session is bounded', session, 'kms:Encrypt', KEY_ARN, { resourcePolicy: KP_NO_ROOT, grantAllows: true, boundaryPolicies: [BOUND_DESCRIBE] }, 'no-allow-boundary'],
  ];
  for (const [name, principal, action, resource, set, expected] of BOUNDARY_CASES) {
    test(`${name}: ${expected}`, () => {
      const d = authorize(request(principal, action, resource), set);
      assert.equal(d.reason, expected);
      assert.equal(d.allowed, expected === 'allowed');
    });
  }
  test('the messages name the permissions boundary', () => {
    const head = `User: arn:aws:iam::${ACCOUNT}:user/alice is not authorized to perform: kms:Encrypt on resource: ${KEY_ARN}`;
    assert.equal(accessDeniedMessage(alice.arn, 'kms:Encrypt', KEY_ARN, 'no-allow-boundary'), `${head} because no permissions boundary allows the kms:Encrypt action`);
    assert.equal(accessDeniedMessage(alice.arn, 'kms:Encrypt', KEY_ARN, 'explicit-deny-boundary'), `${head} with an explicit deny in a permissions boundary`);
  });
});

describe('AccessDeniedException messages', () => {
  const user = `arn:aws:iam::${ACCOUNT}:user/alice`;
  const head = `User: ${user} is not authorized to perform: kms:Encrypt on resource: ${KEY_ARN}`;
  const MESSAGES: readonly (readonly [DenyReason, string])[] = [
    ['no-allow-identity', `${head} because no identity-based policy allows the kms:Encrypt action`],
    ['no-allow-resource', `${head} because no resource-based policy allows the kms:Encrypt action`],
    ['no-allow-scp', `${head} because no service control policy allows the kms:Encrypt action`],
    ['no-allow-session', `${head} because no session policy allows the kms:Encrypt action`],
    ['explicit-deny-identity', `${head} with an explicit deny in an identity-based policy`],
    ['explicit-deny-resource', `${head} with an explicit deny in a resource-based policy`],
    ['explicit-deny-scp', `${head} with an explicit deny in a service control policy`],
    ['explicit-deny-session', `${head} with an explicit deny in a session policy`],
  ];
  for (const [reason, message] of MESSAGES) {
    test(`${reason} reads as AWS writes it`, () => assert.equal(accessDeniedMessage(user, 'kms:Encrypt', KEY_ARN, reason), message));
  }

  test('a denied decision turns into its message', () => {
    const d = authorize(request(alice, 'kms:Encrypt'), { resourcePolicy: DEFAULT_KP });
    assert.equal(d.allowed, false);
    assert.equal(
      accessDeniedMessage(alice.arn, 'kms:Encrypt', KEY_ARN, d.reason as DenyReason),
      `User: ${alice.arn} is not authorized to perform: kms:Encrypt on resource: ${KEY_ARN} because no identity-based policy allows the kms:Encrypt action`,
    );
    assert.equal(
      accessDeniedMessage(alice.arn, 'kms:CreateKey', '*', 'no-allow-identity'),
      `User: ${alice.arn} is not authorized to perform: kms:CreateKey on resource: * because no identity-based policy allows the kms:CreateKey action`,
    );
  });
});
