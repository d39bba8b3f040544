/**
 * One policy against one request: Action/NotAction and Resource/NotResource with wildcards,
 * Principal and NotPrincipal forms in key policies, and deny-over-allow within a policy.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compilePolicy, evaluatePolicy, type PolicyEvaluation } from '../../src/policy/evaluate';
import type { RequestPrincipal } from '../../src/policy/principal';
import { ACCOUNT, alice, bob, carol, ec2, KEY_ARN, OTHER, OTHER_KEY_ARN, otherRoot, policy, request, root, session } from './fixtures';

const ALIAS_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:alias/app`;

/** [case, Action or NotAction element, requested action, applies?] */
const ACTION_CASES: readonly (readonly [string, object, string, boolean])[] = [
  ['an exact action', { Action: 'kms:Encrypt' }, 'kms:Encrypt', true],
  ['an exact action, other action', { Action: 'kms:Encrypt' }, 'kms:Decrypt', false],
  ['actions match case-insensitively', { Action: 'KMS:encrypt' }, 'kms:Encrypt', true],
  ['request case does not matter either', { Action: 'kms:Encrypt' }, 'KMS:ENCRYPT', true],
  ['kms:* covers every KMS action', { Action: 'kms:*' }, 'kms:ScheduleKeyDeletion', true],
  ['kms:* does not cover IAM', { Action: 'kms:*' }, 'iam:CreateUser', false],
  ['* covers everything', { Action: '*' }, 'iam:CreateUser', true],
  ['a prefix wildcard', { Action: 'kms:ReEncrypt*' }, 'kms:ReEncryptFrom', true],
  ['a prefix wildcard, other action', { Action: 'kms:ReEncrypt*' }, 'kms:Encrypt', false],
  ['a middle wildcard', { Action: 'kms:Generate*Key' }, 'kms:GenerateDataKey', true],
  ['a middle wildcard needs the suffix', { Action: 'kms:Generate*Key' }, 'kms:GenerateDataKeyPair', false],
  ['? is one character', { Action: 'kms:?ncrypt' }, 'kms:Encrypt', true],
  ['? is exactly one character', { Action: 'kms:?ncrypt' }, 'kms:ReEncrypt', false],
  ['a list of actions', { Action: ['kms:Decrypt', 'kms:Encrypt'] }, 'kms:Encrypt', true],
  ['a list mixing exact and wildcard', { Action: ['kms:Decrypt', 'kms:List*'] }, 'kms:ListGrants', true],
  ['NotAction excludes its action', { NotAction: 'kms:Decrypt' }, 'kms:Decrypt', false],
  ['NotAction covers every other action', { NotAction: 'kms:Decrypt' }, 'kms:Encrypt', true],
  ['NotAction with a wildcard', { NotAction: 'kms:Describe*' }, 'kms:DescribeKey', false],
  ['NotAction with a wildcard, other action', { NotAction: 'kms:Describe*' }, 'kms:Sign', true],
  ['NotAction is case-insensitive', { NotAction: ['KMS:DECRYPT'] }, 'kms:decrypt', false],
];

/** [case, Resource or NotResource element, requested resource, applies?] */
const RESOURCE_CASES: readonly (readonly [string, object, string, boolean])[] = [
  ['* covers every resource', { Resource: '*' }, KEY_ARN, true],
  ['* covers actions without a resource', { Resource: '*' }, '*', true],
  ['an exact key ARN', { Resource: KEY_ARN }, KEY_ARN, true],
  ['an exact key ARN, other key', { Resource: KEY_ARN }, OTHER_KEY_ARN, false],
  ['every key of the account', { Resource: `arn:aws:kms:*:${ACCOUNT}:key/*` }, KEY_ARN, true],
  ['every key of the account, not another account', { Resource: `arn:aws:kms:*:${ACCOUNT}:key/*` }, OTHER_KEY_ARN, false],
  ['key/* does not cover aliases', { Resource: `arn:aws:kms:*:${ACCOUNT}:key/*` }, ALIAS_ARN, false],
  ['a region wildcard stays in its segment', { Resource: `arn:aws:kms:us-*:${ACCOUNT}:key/*` }, KEY_ARN, true],
  ['a segment wildcard does not cross into the account', { Resource: `arn:aws:kms:us-*${ACCOUNT}:key/*` }, KEY_ARN, false],
  ['a * ending a segment may run past the colon', { Resource: 'arn:aws:kms:*:key/*' }, KEY_ARN, true],
  ['a trailing * covers the rest', { Resource: 'arn:aws:kms:*' }, KEY_ARN, true],
  ['? matches one character of a segment', { Resource: `arn:aws:kms:us-east-?:${ACCOUNT}:key/*` }, KEY_ARN, true],
  ['? does not match a colon before the resource part', { Resource: `arn:aws:kms:us-east-1?${ACCOUNT}:key/*` }, KEY_ARN, false],
  ['resource ARNs are case-sensitive', { Resource: KEY_ARN.replace('key/1234abcd', 'key/1234ABCD') }, KEY_ARN, false],
  ['a requested * does not match an ARN pattern', { Resource: `arn:aws:kms:*:${ACCOUNT}:key/*` }, '*', false],
  ['a list of resources', { Resource: [OTHER_KEY_ARN, KEY_ARN] }, KEY_ARN, true],
  ['NotResource excludes its resource', { NotResource: KEY_ARN }, KEY_ARN, false],
  ['NotResource covers every other resource', { NotResource: KEY_ARN }, OTHER_KEY_ARN, true],
  ['NotResource with a wildcard', { NotResource: `arn:aws:kms:*:${OTHER}:*` }, OTHER_KEY_ARN, false],
  ['NotResource * covers nothing', { NotResource: '*' }, KEY_ARN, false],
];

/** [case, Principal element, caller, how it matches] */
const PRINCIPAL_CASES: readonly (readonly [string, unknown, RequestPrincipal, PolicyEvaluation['via'] | 'none'])[] = [
  ['"*" names everyone', '*', carol, 'direct'],
  ['{"AWS":"*"} names everyone', { AWS: '*' }, alice, 'direct'],
  ['an account id delegates to the account', { AWS: ACCOUNT }, alice, 'account'],
  ['the account root ARN delegates to the account', { AWS: `arn:aws:iam::${ACCOUNT}:root` }, alice, 'account'],
  ['the account root ARN names the root user itself', { AWS: `arn:aws:iam::${ACCOUNT}:root` }, root, 'direct'],
  ['an account id names the root user itself', { AWS: ACCOUNT }, root, 'direct'],
  ['another account does not match', { AWS: `arn:aws:iam::${ACCOUNT}:root` }, carol, 'none'],
  ['the external account root matches the external root', { AWS: OTHER }, otherRoot, 'direct'],
  ['a user ARN names that user', { AWS: alice.arn }, alice, 'direct'],
  ['a user ARN does not name another user', { AWS: alice.arn }, bob, 'none'],
  ['a role ARN matches its sessions', { AWS: `arn:aws:iam::${ACCOUNT}:role/Admin` }, session, 'role'],
  ['a session ARN names that session', { AWS: session.arn }, session, 'direct'],
  ['another session of the role does not match a session ARN', { AWS: `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/other` }, session, 'none'],
  ['another role does not match', { AWS: `arn:aws:iam::${ACCOUNT}:role/Reader` }, session, 'none'],
  ['an account also covers its sessions', { AWS: ACCOUNT }, session, 'account'],
  ['the strongest match wins within a list', { AWS: [ACCOUNT, alice.arn] }, alice, 'direct'],
  ['a service principal', { Service: 'ec2.amazonaws.com' }, ec2, 'direct'],
  ['another service principal', { Service: 's3.amazonaws.com' }, ec2, 'none'],
  ['an account does not cover a service', { AWS: ACCOUNT }, ec2, 'none'],
  ['a service principal does not name users', { Service: 'ec2.amazonaws.com' }, alice, 'none'],
  ['Federated names no KMS caller', { Federated: 'cognito-identity.amazonaws.com' }, alice, 'none'],
];

/** [case, NotPrincipal element, effect, caller, applies?] */
const NOT_PRINCIPAL_CASES: readonly (readonly [string, unknown, 'Allow' | 'Deny', RequestPrincipal, boolean])[] = [
  ['Deny all but bob: alice is denied', { AWS: [bob.arn, `arn:aws:iam::${ACCOUNT}:root`] }, 'Deny', alice, true],
  ['Deny all but bob (with his account): bob is not denied', { AWS: [bob.arn, `arn:aws:iam::${ACCOUNT}:root`] }, 'Deny', bob, false],
  ['Deny all but bob, without his account: bob may still be denied', { AWS: bob.arn }, 'Deny', bob, true],
  ['Deny all but a session: needs session, role and account', { AWS: [session.arn, session.sessionIssuerArn, ACCOUNT] }, 'Deny', session, false],
  ['Deny all but a session, role missing: the session is denied', { AWS: [session.arn, ACCOUNT] }, 'Deny', session, true],
  ['Deny all but an account: its root is not denied', { AWS: ACCOUNT }, 'Deny', root, false],
  ['Deny all but an account: other accounts are denied', { AWS: ACCOUNT }, 'Deny', carol, true],
  ['Deny all but a service: the service is not denied', { Service: 'ec2.amazonaws.com' }, 'Deny', ec2, false],
  ['Deny NotPrincipal *: nobody is denied', '*', 'Deny', alice, false],
  ['Allow all but alice: bob is allowed', { AWS: alice.arn }, 'Allow', bob, true],
  ['Allow all but alice: alice is not', { AWS: alice.arn }, 'Allow', alice, false],
  ['Allow all but the account: its users are not', { AWS: ACCOUNT }, 'Allow', alice, false],
];

function effectOf(p: ReturnType<typeof compilePolicy>, req: ReturnType<typeof request>): PolicyEvaluation['effect'] {
  return evaluatePolicy(p, req).effect;
}

describe('Action and NotAction', () => {
  for (const [name, element, action, expected] of ACTION_CASES) {
    test(name, () => {
      const p = compilePolicy(policy([{ Effect: 'Allow', Resource: '*', ...element }]), 'identity');
      assert.equal(effectOf(p, request(alice, action, KEY_ARN)), expected ? 'Allow' : 'NoMatch');
    });
  }
});

describe('Resource and NotResource', () => {
  for (const [name, element, resource, expected] of RESOURCE_CASES) {
    test(name, () => {
      const p = compilePolicy(policy([{ Effect: 'Allow', Action: 'kms:*', ...element }]), 'identity');
      assert.equal(effectOf(p, request(alice, 'kms:Encrypt', resource)), expected ? 'Allow' : 'NoMatch');
    });
  }
});

describe('Principal in a key policy', () => {
  for (const [name, principal, caller, via] of PRINCIPAL_CASES) {
    test(name, () => {
      const p = compilePolicy(policy([{ Effect: 'Allow', Principal: principal, Action: 'kms:*', Resource: '*' }]), 'resource');
      const r = evaluatePolicy(p, request(caller));
      if (via === 'none') assert.equal(r.effect, 'NoMatch');
      else assert.deepEqual(r, { effect: 'Allow', via });
    });
  }
});

describe('NotPrincipal in a key policy', () => {
  for (const [name, notPrincipal, effect, caller, expected] of NOT_PRINCIPAL_CASES) {
    test(name, () => {
      const p = compilePolicy(policy([{ Effect: effect, NotPrincipal: notPrincipal, Action: 'kms:*', Resource: '*' }]), 'resource');
      const want = !expected ? 'NoMatch' : effect === 'Deny' ? 'ExplicitDeny' : 'Allow';
      assert.equal(effectOf(p, request(caller)), want);
    });
  }
});

describe('statements within one policy', () => {
  const keyPolicy = compilePolicy(
    policy([
      { Sid: 'Root', Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 'kms:*', Resource: '*' },
      { Sid: 'Users', Effect: 'Allow', Principal: { AWS: alice.arn }, Action: ['kms:Encrypt', 'kms:Decrypt'], Resource: '*' },
      { Sid: 'NoDelete', Effect: 'Deny', Principal: '*', Action: 'kms:ScheduleKeyDeletion', Resource: '*' },
      { Sid: 'NoPlain', Effect: 'Deny', Principal: '*', Action: 'kms:*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
    ]),
    'resource',
  );

  test('an explicit deny beats any allow and reports its Sid', () => {
    assert.deepEqual(evaluatePolicy(keyPolicy, request(alice, 'kms:ScheduleKeyDeletion')), { effect: 'ExplicitDeny', sid: 'NoDelete' });
  });

  test('a conditional deny applies only when its condition holds', () => {
    assert.deepEqual(evaluatePolicy(keyPolicy, request(alice, 'kms:Encrypt', KEY_ARN, { 'aws:SecureTransport': 'false' })), { effect: 'ExplicitDeny', sid: 'NoPlain' });
    assert.deepEqual(evaluatePolicy(keyPolicy, request(alice, 'kms:Encrypt', KEY_ARN, { 'aws:SecureTransport': 'true' })), { effect: 'Allow', sid: 'Root', via: 'direct' });
  });

  test('the strongest principal match among allowing statements is reported', () => {
    assert.equal(evaluatePolicy(keyPolicy, request(alice, 'kms:Decrypt')).via, 'direct');
    assert.equal(evaluatePolicy(keyPolicy, request(bob, 'kms:Decrypt')).via, 'account');
  });

  test('no applicable statement is NoMatch', () => {
    assert.deepEqual(evaluatePolicy(keyPolicy, request(carol, 'kms:Decrypt')), { effect: 'NoMatch' });
  });

  test('a key policy statement without Resource matches nothing', () => {
    const p = compilePolicy(policy([{ Effect: 'Allow', Principal: '*', Action: 'kms:*' }]), 'resource');
    assert.equal(effectOf(p, request(alice)), 'NoMatch');
  });

  test('identity policies ignore the caller: they are attached to it', () => {
    const p = compilePolicy(policy([{ Effect: 'Allow', Action: 'kms:Encrypt', Resource: '*' }]), 'identity');
    assert.deepEqual(evaluatePolicy(p, request(carol)), { effect: 'Allow' });
  });

  test('compiling a document checks the kind it was parsed as', () => {
    assert.throws(() => compilePolicy(policy([{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }])), TypeError);
  });
});
