/**
 * Parsing and validation: well-formed documents become typed statements; malformed ones throw
 * MalformedPolicyDocumentException naming the statement and element.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ServiceError } from '../../src/errors';
import { parsePolicy, type PolicyKind } from '../../src/policy/document';
import { compileKeyPolicy, defaultKeyPolicy, MAX_KEY_POLICY_BYTES, parseKeyPolicy, validateKeyPolicy } from '../../src/policy/key-policy';
import { ACCOUNT } from './fixtures';

const KP = { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' };
const ID = { Effect: 'Allow', Action: 'kms:*', Resource: '*' };
const doc = (statement: object | object[], extra: object = {}): string => JSON.stringify({ Version: '2012-10-17', ...extra, Statement: statement });

function rejects(text: string, kind: PolicyKind, message: string): void {
  assert.throws(
    () => parsePolicy(text, { kind }),
    (e: unknown) => e instanceof ServiceError && e.name === 'MalformedPolicyDocumentException' && e.message === message,
    `expected: ${message}`,
  );
}

/** [case, policy text, kind, message] */
const MALFORMED: readonly (readonly [string, string, PolicyKind, string])[] = [
  ['invalid JSON', '{"Version": "2012-10-17", ', 'identity', 'The policy document is not valid JSON.'],
  ['an array at the top', '[]', 'identity', 'The policy document must be a JSON object.'],
  ['an unknown top-level element', JSON.stringify({ Version: '2012-10-17', Statement: ID, Foo: 1 }), 'identity', 'The policy document has an unknown element "Foo".'],
  ['an unknown Version', JSON.stringify({ Version: '2024-01-01', Statement: ID }), 'identity', 'The policy Version must be "2012-10-17" or "2008-10-17".'],
  ['a non-string Id', doc(ID, { Id: 7 }), 'identity', 'The policy document has an invalid Id: it must be a string.'],
  ['no Statement', JSON.stringify({ Version: '2012-10-17' }), 'identity', 'The policy document has no Statement.'],
  ['an empty Statement array', doc([]), 'identity', 'The policy document has no Statement.'],
  ['a statement that is not an object', doc([ID, 'x']), 'identity', 'Statement 2 is not a JSON object.'],
  ['an unknown statement element', doc({ ...ID, Actions: 'kms:*' }), 'identity', 'Statement 1 has an unknown element "Actions".'],
  ['a non-string Sid', doc({ ...ID, Sid: 1 }), 'identity', 'Statement 1 has an invalid Sid: it must be a string.'],
  ['a bad Effect', doc({ ...ID, Effect: 'allow' }), 'identity', 'Statement 1 must have an Effect of "Allow" or "Deny".'],
  ['a missing Effect', doc({ Action: 'kms:*', Resource: '*' }), 'identity', 'Statement 1 must have an Effect of "Allow" or "Deny".'],
  ['neither Action nor NotAction', doc({ Effect: 'Allow', Resource: '*' }), 'identity', 'Statement 1 must have exactly one of Action or NotAction.'],
  ['both Action and NotAction', doc({ ...ID, NotAction: 'kms:Decrypt' }), 'identity', 'Statement 1 must have exactly one of Action or NotAction.'],
  ['an empty Action list', doc({ ...ID, Action: [] }), 'identity', 'Statement 1 has an invalid Action: it must be a string or a non-empty array of strings.'],
  ['an Action without a service', doc({ ...ID, Action: ['kms:Encrypt', 'Encrypt'] }), 'identity', 'Statement 1 has an invalid Action: Action[1] must be "*" or "service:action" (wildcards * and ? allowed).'],
  ['a wildcard service prefix', doc({ ...ID, Action: '*:Encrypt' }), 'identity', 'Statement 1 has an invalid Action: Action must be "*" or "service:action" (wildcards * and ? allowed).'],
  ['a NotAction with a space', doc({ Effect: 'Deny', NotAction: 'kms:En crypt', Resource: '*' }), 'identity', 'Statement 1 has an invalid NotAction: NotAction must be "*" or "service:action" (wildcards * and ? allowed).'],
  ['an identity policy without Resource', doc({ Effect: 'Allow', Action: 'kms:*' }), 'identity', 'Statement 1 must have exactly one of Resource or NotResource.'],
  ['both Resource and NotResource', doc({ ...ID, NotResource: '*' }), 'identity', 'Statement 1 must have exactly one of Resource or NotResource.'],
  ['a Resource that is not an ARN', doc({ ...ID, Resource: 'my-key' }), 'identity', 'Statement 1 has an invalid Resource: Resource must be "*" or an ARN.'],
  ['a numeric Resource', doc({ ...ID, Resource: [1] }), 'identity', 'Statement 1 has an invalid Resource: it must be a string or a non-empty array of strings.'],
  ['a Principal in an identity policy', doc(KP), 'identity', 'Statement 1 must not have a Principal or NotPrincipal element in an identity-based policy.'],
  ['a Principal in an SCP', doc({ ...ID, NotPrincipal: '*' }), 'scp', 'Statement 1 must not have a Principal or NotPrincipal element in a service control policy.'],
  ['a Principal in a session policy', doc(KP), 'session', 'Statement 1 must not have a Principal or NotPrincipal element in a session policy.'],
  ['a resource policy without a principal', doc([KP, ID]), 'resource', 'Statement 2 must have exactly one of Principal or NotPrincipal.'],
  ['both Principal and NotPrincipal', doc({ ...KP, NotPrincipal: '*' }), 'resource', 'Statement 1 must have exactly one of Principal or NotPrincipal.'],
  ['a principal string other than *', doc({ ...KP, Principal: ACCOUNT }), 'resource', 'Statement 1 has an invalid principal: Principal must be "*" or an object with AWS, Service, Federated or CanonicalUser.'],
  ['an empty principal object', doc({ ...KP, Principal: {} }), 'resource', 'Statement 1 has an invalid principal: Principal must name at least one principal.'],
  ['an unknown principal type', doc({ ...KP, Principal: { Aws: '*' } }), 'resource', 'Statement 1 has an invalid principal: Principal has an unknown principal type "Aws".'],
  ['a wildcard inside a principal ARN', doc({ ...KP, Principal: { AWS: [`arn:aws:iam::${ACCOUNT}:root`, `arn:aws:iam::${ACCOUNT}:user/*`] } }), 'resource', 'Statement 1 has an invalid principal: Principal.AWS[1] must be "*", a 12-digit account ID, an account root ARN, or an IAM user, role, assumed-role or federated-user ARN (no wildcards).'],
  ['a short account id', doc({ ...KP, NotPrincipal: { AWS: '12345' }, Principal: undefined }), 'resource', 'Statement 1 has an invalid principal: NotPrincipal.AWS must be "*", a 12-digit account ID, an account root ARN, or an IAM user, role, assumed-role or federated-user ARN (no wildcards).'],
  ['a numeric account id', doc({ ...KP, Principal: { AWS: 111122223333 } }), 'resource', 'Statement 1 has an invalid principal: Principal.AWS must be a string or a non-empty array of strings.'],
  ['a bad service principal', doc({ ...KP, Principal: { Service: 'EC2 service' } }), 'resource', 'Statement 1 has an invalid principal: Principal.Service must be a service principal name such as "ec2.amazonaws.com".'],
  ['a Condition that is not an object', doc({ ...ID, Condition: [] }), 'identity', 'Statement 1 has an invalid Condition: it must be an object of condition operators.'],
  ['an unknown operator', doc({ ...ID, Condition: { StringEqual: { 'kms:ViaService': 'x' } } }), 'identity', 'Statement 1 has an invalid Condition: "StringEqual" is not a condition operator.'],
  ['an unknown set qualifier', doc({ ...ID, Condition: { 'ForSomeValues:StringEquals': { 'aws:TagKeys': 'x' } } }), 'identity', 'Statement 1 has an invalid Condition: the set qualifier of "ForSomeValues:StringEquals" must be ForAnyValue or ForAllValues.'],
  ['NullIfExists', doc({ ...ID, Condition: { NullIfExists: { 'aws:TokenIssueTime': 'true' } } }), 'identity', 'Statement 1 has an invalid Condition: the Null operator cannot take the IfExists suffix.'],
  ['ForAnyValue:Null', doc({ ...ID, Condition: { 'ForAnyValue:Null': { 'aws:TagKeys': 'true' } } }), 'identity', 'Statement 1 has an invalid Condition: the Null operator cannot take a set qualifier.'],
  ['an empty operator block', doc({ ...ID, Condition: { StringEquals: {} } }), 'identity', 'Statement 1 has an invalid Condition: StringEquals must be an object of condition keys and values.'],
  ['a condition key without a prefix', doc({ ...ID, Condition: { StringEquals: { ViaService: 'x' } } }), 'identity', 'Statement 1 has an invalid Condition: StringEquals has a condition key "ViaService" that is not of the form "prefix:name".'],
  ['an empty value list', doc({ ...ID, Condition: { StringEquals: { 'kms:ViaService': [] } } }), 'identity', 'Statement 1 has an invalid Condition: StringEquals needs at least one value for "kms:ViaService".'],
  ['an object value', doc({ ...ID, Condition: { StringEquals: { 'kms:ViaService': { a: 1 } } } }), 'identity', 'Statement 1 has an invalid Condition: StringEquals values for "kms:ViaService" must be strings, numbers or booleans.'],
  ['a null value', doc({ ...ID, Condition: { StringEquals: { 'kms:ViaService': null } } }), 'identity', 'Statement 1 has an invalid Condition: StringEquals values for "kms:ViaService" must be strings, numbers or booleans.'],
  ['a non-numeric Numeric value', doc({ ...ID, Condition: { NumericLessThan: { 'kms:RotationPeriodInDays': 'ninety' } } }), 'identity', 'Statement 1 has an invalid Condition: NumericLessThan value for "kms:RotationPeriodInDays" must be a number.'],
  ['a bad date', doc({ ...ID, Condition: { DateLessThan: { 'aws:CurrentTime': '2026-02-30' } } }), 'identity', 'Statement 1 has an invalid Condition: DateLessThan value for "aws:CurrentTime" must be an ISO 8601 date-time or epoch seconds.'],
  ['a bad CIDR', doc({ ...ID, Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/33' } } }), 'identity', 'Statement 1 has an invalid Condition: IpAddress value for "aws:SourceIp" must be an IPv4 or IPv6 address or CIDR block.'],
  ['bad base64', doc({ ...ID, Condition: { BinaryEquals: { 'test:Blob': 'not base64' } } }), 'identity', 'Statement 1 has an invalid Condition: BinaryEquals value for "test:Blob" must be base64-encoded.'],
  ['a bad Null value', doc({ ...ID, Condition: { Null: { 'aws:TokenIssueTime': 'yes' } } }), 'identity', 'Statement 1 has an invalid Condition: Null value for "aws:TokenIssueTime" must be "true" or "false".'],
  ['the third statement is named', doc([ID, ID, { ...ID, Effect: 'Maybe' }]), 'identity', 'Statement 3 must have an Effect of "Allow" or "Deny".'],
];

describe('malformed policy documents', () => {
  for (const [name, text, kind, message] of MALFORMED) {
    test(`${name} is rejected with MalformedPolicyDocumentException`, () => rejects(text, kind, message));
  }
});

describe('well-formed policy documents', () => {
  test('a single statement object, string elements and a missing Version parse', () => {
    const d = parsePolicy(JSON.stringify({ Statement: { Sid: 'One', Effect: 'Deny', NotAction: 'kms:Decrypt', NotResource: '*' } }), { kind: 'identity' });
    assert.equal(d.version, '2008-10-17');
    assert.equal(d.statements.length, 1);
    assert.deepEqual(d.statements[0], {
      sid: 'One',
      effect: 'Deny',
      principal: undefined,
      notPrincipal: undefined,
      action: undefined,
      notAction: ['kms:Decrypt'],
      resource: undefined,
      notResource: ['*'],
      conditions: [],
    });
  });

  test('principal forms: *, account ids, root, user, role, session, federated user, service', () => {
    const d = parsePolicy(
      doc({
        ...KP,
        Principal: {
          AWS: ['*', ACCOUNT, `arn:aws:iam::${ACCOUNT}:root`, `arn:aws:iam::${ACCOUNT}:user/division/alice`, `arn:aws:iam::${ACCOUNT}:role/Admin`,
            `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/s1`, `arn:aws:sts::${ACCOUNT}:federated-user/fed`, `arn:aws-cn:iam::${ACCOUNT}:root`],
          Service: ['ec2.amazonaws.com', 'logs.us-east-1.amazonaws.com'],
          Federated: 'cognito-identity.amazonaws.com',
        },
      }),
      { kind: 'resource' },
    );
    const p = d.statements[0]!.principal!;
    assert.equal(p.aws.length, 8);
    assert.deepEqual(p.service, ['ec2.amazonaws.com', 'logs.us-east-1.amazonaws.com']);
    assert.deepEqual(p.federated, ['cognito-identity.amazonaws.com']);
    assert.equal(parsePolicy(doc({ ...KP, Principal: '*' }), { kind: 'resource' }).statements[0]!.principal!.everyone, true);
  });

  test('condition values keep their operator, qualifier, IfExists and strings', () => {
    const d = parsePolicy(doc({ ...ID, Condition: { 'ForAnyValue:StringLikeIfExists': { 'aws:TagKeys': ['a*', 'b'] }, NumericLessThan: { 'test:N': 5 }, Bool: { 'aws:SecureTransport': true } } }), { kind: 'identity' });
    assert.deepEqual(d.statements[0]!.conditions, [
      { operator: 'ForAnyValue:StringLikeIfExists', baseOperator: 'StringLike', qualifier: 'ForAnyValue', ifExists: true, key: 'aws:TagKeys', values: ['a*', 'b'] },
      { operator: 'NumericLessThan', baseOperator: 'NumericLessThan', qualifier: undefined, ifExists: false, key: 'test:N', values: ['5'] },
      { operator: 'Bool', baseOperator: 'Bool', qualifier: undefined, ifExists: false, key: 'aws:SecureTransport', values: ['true'] },
    ]);
  });

  test('a key policy statement without Resource is accepted (it matches nothing)', () => {
    const { Resource: _, ...noResource } = KP;
    assert.equal(parsePolicy(doc(noResource), { kind: 'resource' }).statements[0]!.resource, undefined);
  });

  test('a "__proto__" element is an unknown element, not a prototype', () => {
    rejects('{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","__proto__":{"x":1}}}', 'identity', 'Statement 1 has an unknown element "__proto__".');
  });
});

describe('key policies', () => {
  test('the default key policy parses and keeps its documented form', () => {
    const d = parseKeyPolicy(defaultKeyPolicy(ACCOUNT));
    assert.equal(d.id, 'key-default-1');
    assert.equal(d.statements[0]!.sid, 'Enable IAM User Permissions');
    assert.ok(compileKeyPolicy(defaultKeyPolicy(ACCOUNT)));
  });

  test('validateKeyPolicy keeps the messages PutKeyPolicy answers with', () => {
    const check = (text: string, message: string): void =>
      assert.throws(() => validateKeyPolicy(text), (e: unknown) => e instanceof ServiceError && e.name === 'MalformedPolicyDocumentException' && e.message === message);
    check('{"Version": "2012-10-17", ', 'The new key policy is not valid JSON.');
    check('{"Version":"2012-10-17","Statement":[]}', 'The new key policy has no Statement.');
    check(doc({ ...KP, Sid: 'x', Effect: 'Perhaps' }), 'Statement 1 must have an Effect of "Allow" or "Deny".');
  });

  test('a key policy over 32 KiB is rejected with LimitExceededException', () => {
    const big = doc({ ...KP, Sid: 'x'.repeat(MAX_KEY_POLICY_BYTES) });
    assert.throws(() => validateKeyPolicy(big), (e: unknown) => e instanceof ServiceError && e.name === 'LimitExceededException' && e.message === 'The key policy exceeds the maximum size of 32768 bytes.');
  });

  test('ForAllValues with kms:EncryptionContext:* is rejected as overly permissive', () => {
    const text = doc({ ...KP, Condition: { 'ForAllValues:StringEquals': { 'kms:EncryptionContext:Dept': 'IT' } } });
    assert.throws(
      () => validateKeyPolicy(text),
      (e: unknown) =>
        e instanceof ServiceError &&
        e.name === 'MalformedPolicyDocumentException' &&
        e.message ===
          'OverlyPermissiveCondition:EncryptionContext: Using the ForAllValues set operator with a single-valued condition key matches requests without the specified encryption context or with an unspecified encryption context. To fix, remove ForAllValues.',
    );
  });

  test('ForAllValues with aws:RequestTag/* is rejected; with kms:EncryptionContextKeys it is fine', () => {
    assert.throws(() => validateKeyPolicy(doc({ ...KP, Condition: { 'ForAllValues:StringEquals': { 'aws:RequestTag/Env': 'prod' } } })), /OverlyPermissiveCondition:RequestTag/);
    validateKeyPolicy(doc({ ...KP, Condition: { 'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['Dept'] } } }));
  });
});
