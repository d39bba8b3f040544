/**
 * Policy variables in Resource and condition values (IAM User Guide, reference_policies_variables):
 * substitution from the request context, defaults, the special ${*} ${?} ${$}, Version 2012-10-17
 * only, and a missing variable never matching.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ServiceError } from '../../src/errors';
import { parsePolicy } from '../../src/policy/document';
import { compilePolicy, evaluatePolicy } from '../../src/policy/evaluate';
import { ACCOUNT, alice, policy, request, session } from './fixtures';

const ALIAS = (name: string): string => `arn:aws:kms:us-east-1:${ACCOUNT}:alias/${name}`;
type Ctx = Readonly<Record<string, string | readonly string[]>>;

/** [case, Resource pattern, requested resource, context, Version, applies?] */
const RESOURCE_CASES: readonly (readonly [string, string, string, Ctx, string | null, boolean])[] = [
  ['${aws:username} in Resource matches the caller', `arn:aws:kms:*:${ACCOUNT}:alias/\${aws:username}`, ALIAS('alice'), { 'aws:username': 'alice' }, '2012-10-17', true],
  ['${aws:username} in Resource rejects another name', `arn:aws:kms:*:${ACCOUNT}:alias/\${aws:username}`, ALIAS('bob'), { 'aws:username': 'alice' }, '2012-10-17', false],
  ['a missing variable matches nothing', `arn:aws:kms:*:${ACCOUNT}:alias/\${aws:username}`, ALIAS(''), {}, '2012-10-17', false],
  ['a missing variable matches nothing, even with a wildcard around it', `arn:aws:kms:*:${ACCOUNT}:alias/*\${aws:username}*`, ALIAS('x'), {}, '2012-10-17', false],
  ['a variable with a wildcard after it', `arn:aws:kms:*:${ACCOUNT}:alias/\${aws:username}/*`, ALIAS('alice/app'), { 'aws:username': 'alice' }, '2012-10-17', true],
  ['the default value fills a missing variable', `arn:aws:kms:*:${ACCOUNT}:alias/\${aws:username, 'anonymous'}`, ALIAS('anonymous'), {}, '2012-10-17', true],
  ['the default is not used when the variable has a value', `arn:aws:kms:*:${ACCOUNT}:alias/\${aws:username, 'anonymous'}`, ALIAS('anonymous'), { 'aws:username': 'alice' }, '2012-10-17', false],
  ["'' in a default stands for one quote", `arn:aws:kms:*:${ACCOUNT}:alias/\${aws:username,'o''brien'}`, ALIAS("o'brien"), {}, '2012-10-17', true],
  ['variable names are case-insensitive', `arn:aws:kms:*:${ACCOUNT}:alias/\${AWS:UserName}`, ALIAS('alice'), { 'aws:username': 'alice' }, '2012-10-17', true],
  ['${*} is a literal asterisk', `arn:aws:kms:*:${ACCOUNT}:alias/\${*}`, ALIAS('*'), {}, '2012-10-17', true],
  ['${*} is not a wildcard', `arn:aws:kms:*:${ACCOUNT}:alias/\${*}`, ALIAS('anything'), {}, '2012-10-17', false],
  ['${?} is a literal question mark', `arn:aws:kms:*:${ACCOUNT}:alias/a\${?}`, ALIAS('a?'), {}, '2012-10-17', true],
  ['${?} is not a wildcard', `arn:aws:kms:*:${ACCOUNT}:alias/a\${?}`, ALIAS('ab'), {}, '2012-10-17', false],
  ['${$} is a literal dollar', `arn:aws:kms:*:${ACCOUNT}:alias/\${$}{x}`, ALIAS('${x}'), {}, '2012-10-17', true],
  ['a value from the request is literal, never a wildcard', `arn:aws:kms:*:${ACCOUNT}:alias/\${aws:PrincipalTag/team}`, ALIAS('payments'), { 'aws:PrincipalTag/team': '*' }, '2012-10-17', false],
  ['principal tags substitute', `arn:aws:kms:*:${ACCOUNT}:alias/\${aws:PrincipalTag/team}-*`, ALIAS('payments-prod'), { 'aws:PrincipalTag/team': 'payments' }, '2012-10-17', true],
  ['multivalued keys cannot be variables', `arn:aws:kms:*:${ACCOUNT}:alias/\${aws:TagKeys}`, ALIAS('a'), { 'aws:TagKeys': ['a'] }, '2012-10-17', false],
  ['two variables in one pattern', `arn:aws:kms:*:${ACCOUNT}:alias/\${aws:PrincipalTag/team}/\${aws:username}`, ALIAS('ops/alice'), { 'aws:PrincipalTag/team': 'ops', 'aws:username': 'alice' }, '2012-10-17', true],
  ['Version 2008-10-17 keeps ${...} as literal text', `arn:aws:kms:*:${ACCOUNT}:alias/\${aws:username}`, ALIAS('${aws:username}'), { 'aws:username': 'alice' }, '2008-10-17', true],
  ['Version 2008-10-17 does not substitute', `arn:aws:kms:*:${ACCOUNT}:alias/\${aws:username}`, ALIAS('alice'), { 'aws:username': 'alice' }, '2008-10-17', false],
  ['a policy without Version does not substitute', `arn:aws:kms:*:${ACCOUNT}:alias/\${aws:username}`, ALIAS('alice'), { 'aws:username': 'alice' }, null, false],
  ['an unterminated variable is literal text', `arn:aws:kms:*:${ACCOUNT}:alias/\${aws:username`, ALIAS('${aws:username'), { 'aws:username': 'alice' }, '2012-10-17', true],
  ['any request context key can be a variable', `arn:aws:kms:*:${ACCOUNT}:alias/\${kms:CallerAccount}`, ALIAS(ACCOUNT), { 'kms:CallerAccount': ACCOUNT }, '2012-10-17', true],
];

/** [case, operator, policy value, condition key's request value, other context, applies?] */
const CONDITION_CASES: readonly (readonly [string, string, string, string | undefined, Ctx, boolean])[] = [
  ['StringEquals against ${aws:username}', 'StringEquals', '${aws:username}', 'alice', { 'aws:username': 'alice' }, true],
  ['StringEquals against ${aws:username}, another value', 'StringEquals', '${aws:username}', 'bob', { 'aws:username': 'alice' }, false],
  ['StringEquals with the variable missing', 'StringEquals', '${aws:username}', 'alice', {}, false],
  ['StringEquals with a default', 'StringEquals', "${aws:username, 'nobody'}", 'nobody', {}, true],
  ['StringLike with a variable and a wildcard', 'StringLike', 'home/${aws:userid}/*', 'home/AIDAEXAMPLE/docs', { 'aws:userid': 'AIDAEXAMPLE' }, true],
  ['StringLike: the variable value is literal', 'StringLike', 'home/${aws:PrincipalTag/dir}', 'home/anything', { 'aws:PrincipalTag/dir': '*' }, false],
  ['StringEqualsIgnoreCase with a variable', 'StringEqualsIgnoreCase', '${aws:PrincipalTag/team}', 'PAYMENTS', { 'aws:PrincipalTag/team': 'payments' }, true],
  ['StringNotEquals with the variable missing counts as not equal', 'StringNotEquals', '${aws:username}', 'alice', {}, true],
  ['StringNotEquals with the variable equal', 'StringNotEquals', '${aws:username}', 'alice', { 'aws:username': 'alice' }, false],
  ['ArnLike with ${aws:SourceAccount}', 'ArnLike', 'arn:aws:iam::${aws:SourceAccount}:role/*', `arn:aws:iam::${ACCOUNT}:role/R`, { 'aws:SourceAccount': ACCOUNT }, true],
  ['ArnEquals with a missing variable', 'ArnEquals', 'arn:aws:iam::${aws:SourceAccount}:role/R', `arn:aws:iam::${ACCOUNT}:role/R`, {}, false],
  ['${aws:SourceIp} in a string condition', 'StringEquals', '${aws:SourceIp}', '192.0.2.1', { 'aws:SourceIp': '192.0.2.1' }, true],
  ['Bool with a variable', 'Bool', '${test:Flag}', 'true', { 'test:Flag': 'TRUE' }, true],
  ['${*} in StringLike is a literal asterisk', 'StringLike', 'a${*}', 'a*', {}, true],
  ['${*} in StringLike does not match other text', 'StringLike', 'a${*}', 'ab', {}, false],
];

describe('policy variables', () => {
  for (const [name, pattern, resource, context, version, expected] of RESOURCE_CASES) {
    test(`Resource: ${name}`, () => {
      const p = compilePolicy(policy([{ Effect: 'Allow', Action: 'kms:CreateAlias', Resource: pattern }], version), 'identity');
      assert.equal(evaluatePolicy(p, request(alice, 'kms:CreateAlias', resource, context)).effect, expected ? 'Allow' : 'NoMatch');
    });
  }

  for (const [name, operator, value, requestValue, context, expected] of CONDITION_CASES) {
    test(`Condition: ${name}`, () => {
      const doc = policy([{ Effect: 'Allow', Action: 'kms:Encrypt', Resource: '*', Condition: { [operator]: { 'test:Key': value } } }]);
      const conditions = requestValue === undefined ? context : { ...context, 'test:Key': requestValue };
      assert.equal(evaluatePolicy(compilePolicy(doc, 'identity'), request(alice, 'kms:Encrypt', '*', conditions)).effect, expected ? 'Allow' : 'NoMatch');
    });
  }

  test('a role session has no aws:username, so a Deny keyed on it still applies through the negated operator', () => {
    const doc = policy([{ Effect: 'Deny', Action: 'kms:*', Resource: '*', Condition: { StringNotEquals: { 'aws:ResourceTag/owner': '${aws:username}' } } }]);
    const r = evaluatePolicy(compilePolicy(doc, 'identity'), request(session, 'kms:Decrypt', '*', { 'aws:ResourceTag/owner': 'alice' }));
    assert.equal(r.effect, 'ExplicitDeny');
  });

  test('variables are not allowed where the operator takes numbers, dates or addresses', () => {
    for (const [operator, value] of [['NumericEquals', '${aws:username}'], ['DateLessThan', '${aws:CurrentTime}'], ['IpAddress', '${aws:SourceIp}']]) {
      const doc = policy([{ Effect: 'Allow', Action: 'kms:*', Resource: '*', Condition: { [operator as string]: { 'test:Key': value } } }]);
      assert.throws(() => parsePolicy(doc, { kind: 'identity' }), (e: unknown) => e instanceof ServiceError && e.name === 'MalformedPolicyDocumentException');
    }
  });
});
