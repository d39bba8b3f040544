/**
 * Every condition operator, positive and negative, with IfExists, the set qualifiers on empty and
 * missing keys, and Null (IAM User Guide: reference_policies_elements_condition_operators,
 * reference_policies_multi-value-conditions). Each case is one identity-policy Allow statement
 * with one condition; the case says whether the statement applies.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CONDITION_OPERATORS, parseDate, parseOperatorName } from '../../src/policy/conditions';
import { compilePolicy, evaluatePolicy } from '../../src/policy/evaluate';
import { cidrContains, parseCidrBlock, parseIp } from '../../src/policy/ip';
import { alice, policy, request } from './fixtures';

type Value = string | number | boolean | readonly (string | number | boolean)[];
type Ctx = string | readonly string[] | undefined;
/** [operator, condition key, policy value(s), request value (undefined: missing), applies?] */
type Case = readonly [string, string, Value, Ctx, boolean];

const JAN1 = String(Date.UTC(2026, 0, 1) / 1000);

const CASES: readonly Case[] = [
  // String
  ['StringEquals', 'kms:KeySpec', 'SYMMETRIC_DEFAULT', 'SYMMETRIC_DEFAULT', true],
  ['StringEquals', 'kms:KeySpec', 'SYMMETRIC_DEFAULT', 'symmetric_default', false],
  ['StringEquals', 'kms:KeySpec', ['RSA_2048', 'SYMMETRIC_DEFAULT'], 'SYMMETRIC_DEFAULT', true],
  ['StringEquals', 'kms:KeySpec', 'SYMMETRIC_DEFAULT', undefined, false],
  ['StringEquals', 'KMS:KEYSPEC', 'SYMMETRIC_DEFAULT', 'SYMMETRIC_DEFAULT', true],
  ['StringEquals', 'kms:ViaService', 'ec2.*', 'ec2.us-east-1.amazonaws.com', false],
  ['StringEquals', 'kms:ViaService', 'ec2.*', 'ec2.*', true],
  ['StringEquals', 'kms:EncryptionContext:Dept', 'IT', 'IT', true],
  ['StringNotEquals', 'kms:CallerAccount', '111122223333', '444455556666', true],
  ['StringNotEquals', 'kms:CallerAccount', '111122223333', '111122223333', false],
  ['StringNotEquals', 'kms:CallerAccount', ['111122223333', '444455556666'], '444455556666', false],
  ['StringNotEquals', 'kms:CallerAccount', ['111122223333', '444455556666'], '777788889999', true],
  ['StringNotEquals', 'kms:CallerAccount', '111122223333', undefined, true],
  ['StringEqualsIgnoreCase', 'aws:PrincipalTag/team', 'Payments', 'PAYMENTS', true],
  ['StringEqualsIgnoreCase', 'aws:PrincipalTag/team', 'Payments', 'billing', false],
  ['StringEqualsIgnoreCase', 'aws:PrincipalTag/team', 'Payments', undefined, false],
  ['StringNotEqualsIgnoreCase', 'aws:PrincipalTag/team', 'Payments', 'payments', false],
  ['StringNotEqualsIgnoreCase', 'aws:PrincipalTag/team', 'Payments', 'billing', true],
  ['StringNotEqualsIgnoreCase', 'aws:PrincipalTag/team', 'Payments', undefined, true],
  ['StringLike', 'kms:ViaService', 'ec2.*.amazonaws.com', 'ec2.us-west-2.amazonaws.com', true],
  ['StringLike', 'kms:ViaService', 'ec2.*.amazonaws.com', 's3.us-west-2.amazonaws.com', false],
  ['StringLike', 'kms:ViaService', 'EC2.*', 'ec2.us-west-2.amazonaws.com', false],
  ['StringLike', 'kms:EncryptionContext:app', 'ap?', 'app', true],
  ['StringLike', 'kms:EncryptionContext:app', 'ap?', 'apps', false],
  ['StringLike', 'kms:EncryptionContext:app', '*', '', true],
  ['StringLike', 'kms:EncryptionContext:app', ['x*', 'y*'], 'yes', true],
  ['StringLike', 'kms:EncryptionContext:app', 'a*', undefined, false],
  ['StringLike', 'kms:EncryptionContext:path', 'a*b*c', 'a:1:b:2:c', true],
  ['StringNotLike', 'kms:ViaService', 'dev-*', 'prod-1', true],
  ['StringNotLike', 'kms:ViaService', 'dev-*', 'dev-1', false],
  ['StringNotLike', 'kms:ViaService', ['dev-*', 'test-*'], 'test-1', false],
  ['StringNotLike', 'kms:ViaService', ['dev-*', 'test-*'], 'prod-1', true],
  ['StringNotLike', 'kms:ViaService', 'dev-*', undefined, true],
  // Numeric
  ['NumericEquals', 'kms:RotationPeriodInDays', '90', '90', true],
  ['NumericEquals', 'kms:RotationPeriodInDays', '90', '90.0', true],
  ['NumericEquals', 'kms:RotationPeriodInDays', 90, '90', true],
  ['NumericEquals', 'kms:RotationPeriodInDays', '90', '91', false],
  ['NumericEquals', 'kms:RotationPeriodInDays', '90', 'ninety', false],
  ['NumericEquals', 'kms:RotationPeriodInDays', '90', undefined, false],
  ['NumericNotEquals', 'kms:RotationPeriodInDays', '90', '91', true],
  ['NumericNotEquals', 'kms:RotationPeriodInDays', '90', '90', false],
  ['NumericNotEquals', 'kms:RotationPeriodInDays', ['90', '180'], '180', false],
  ['NumericNotEquals', 'kms:RotationPeriodInDays', '90', undefined, true],
  ['NumericLessThan', 'kms:RotationPeriodInDays', '100', '99', true],
  ['NumericLessThan', 'kms:RotationPeriodInDays', '100', '100', false],
  ['NumericLessThan', 'kms:RotationPeriodInDays', '100', '-5', true],
  ['NumericLessThanEquals', 'kms:RotationPeriodInDays', '100', '100', true],
  ['NumericLessThanEquals', 'kms:RotationPeriodInDays', '100', '100.5', false],
  ['NumericGreaterThan', 'kms:ScheduleKeyDeletionPendingWindowInDays', '7', '8', true],
  ['NumericGreaterThan', 'kms:ScheduleKeyDeletionPendingWindowInDays', '7', '7', false],
  ['NumericGreaterThanEquals', 'kms:ScheduleKeyDeletionPendingWindowInDays', '7', '7', true],
  ['NumericGreaterThanEquals', 'kms:ScheduleKeyDeletionPendingWindowInDays', '7', '6', false],
  ['NumericGreaterThanEquals', 'kms:ScheduleKeyDeletionPendingWindowInDays', ['30', '7'], '10', true],
  // Date
  ['DateEquals', 'aws:CurrentTime', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', true],
  ['DateEquals', 'aws:CurrentTime', '2026-01-01T00:00:00Z', JAN1, true],
  ['DateEquals', 'aws:CurrentTime', JAN1, '2026-01-01T00:00:00Z', true],
  ['DateEquals', 'aws:CurrentTime', '2026-01-01T01:00:00+01:00', '2026-01-01T00:00:00Z', true],
  ['DateEquals', 'aws:CurrentTime', '2026-01-01', '2026-01-01T00:00:00Z', true],
  ['DateEquals', 'aws:CurrentTime', '2026-01-01T00:00:00Z', '2026-01-01T00:00:01Z', false],
  ['DateEquals', 'aws:CurrentTime', '2026-01-01T00:00:00Z', 'yesterday', false],
  ['DateNotEquals', 'aws:CurrentTime', '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', true],
  ['DateNotEquals', 'aws:CurrentTime', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00.000Z', false],
  ['DateNotEquals', 'aws:CurrentTime', '2026-01-01T00:00:00Z', undefined, true],
  ['DateLessThan', 'aws:CurrentTime', '2026-06-01T00:00:00Z', '2026-05-31T23:59:59Z', true],
  ['DateLessThan', 'aws:CurrentTime', '2026-06-01T00:00:00Z', '2026-06-01T00:00:00Z', false],
  ['DateLessThan', 'aws:CurrentTime', '2026-06-01T00:00:00Z', undefined, false],
  ['DateLessThanEquals', 'aws:CurrentTime', '2026-06-01T00:00:00Z', '2026-06-01T00:00:00Z', true],
  ['DateLessThanEquals', 'aws:CurrentTime', '2026-06-01T00:00:00Z', '2026-06-01T00:00:01Z', false],
  ['DateGreaterThan', 'aws:TokenIssueTime', '2020-01-01T00:00:01Z', '2021-03-04T05:06:07Z', true],
  ['DateGreaterThan', 'aws:TokenIssueTime', '2020-01-01T00:00:01Z', '2019-12-31T23:59:59Z', false],
  ['DateGreaterThanEquals', 'aws:EpochTime', '1700000000', '1700000000', true],
  ['DateGreaterThanEquals', 'aws:EpochTime', '1700000000', '1699999999', false],
  // Bool
  ['Bool', 'aws:SecureTransport', 'true', 'true', true],
  ['Bool', 'aws:SecureTransport', 'true', 'false', false],
  ['Bool', 'aws:SecureTransport', true, 'TRUE', true],
  ['Bool', 'aws:SecureTransport', false, 'false', true],
  ['Bool', 'aws:SecureTransport', 'false', undefined, false],
  ['Bool', 'kms:GrantIsForAWSResource', 'True', 'true', true],
  // Binary
  ['BinaryEquals', 'test:Blob', 'QmluYXJ5VmFsdWVJbkJhc2U2NA==', 'QmluYXJ5VmFsdWVJbkJhc2U2NA==', true],
  ['BinaryEquals', 'test:Blob', 'QmluYXJ5VmFsdWVJbkJhc2U2NA==', 'QmluYXJ5VmFsdWVJbkJhc2U2NQ==', false],
  ['BinaryEquals', 'test:Blob', 'QmluYXJ5VmFsdWVJbkJhc2U2NA==', 'not base64!', false],
  ['BinaryEquals', 'test:Blob', 'QmluYXJ5VmFsdWVJbkJhc2U2NA==', undefined, false],
  // IP address
  ['IpAddress', 'aws:SourceIp', '203.0.113.0/24', '203.0.113.7', true],
  ['IpAddress', 'aws:SourceIp', '203.0.113.0/24', '203.0.114.1', false],
  ['IpAddress', 'aws:SourceIp', '192.0.2.1', '192.0.2.1', true],
  ['IpAddress', 'aws:SourceIp', '192.0.2.1', '192.0.2.2', false],
  ['IpAddress', 'aws:SourceIp', '10.0.0.0/8', '10.255.255.255', true],
  ['IpAddress', 'aws:SourceIp', '0.0.0.0/0', '198.51.100.1', true],
  ['IpAddress', 'aws:SourceIp', '2001:DB8:1234:5678::/64', '2001:db8:1234:5678::1', true],
  ['IpAddress', 'aws:SourceIp', '2001:DB8:1234:5678::/64', '2001:db8:1234:5679::1', false],
  ['IpAddress', 'aws:SourceIp', ['203.0.113.0/24', '2001:DB8:1234:5678::/64'], '2001:db8:1234:5678:ffff::2', true],
  ['IpAddress', 'aws:SourceIp', '203.0.113.0/24', '::ffff:203.0.113.9', true],
  ['IpAddress', 'aws:SourceIp', '203.0.113.0/24', '2001:db8::1', false],
  ['IpAddress', 'aws:SourceIp', '203.0.113.0/24', 'not-an-ip', false],
  ['IpAddress', 'aws:SourceIp', '203.0.113.0/24', undefined, false],
  ['NotIpAddress', 'aws:SourceIp', '203.0.113.0/24', '198.51.100.1', true],
  ['NotIpAddress', 'aws:SourceIp', '203.0.113.0/24', '203.0.113.200', false],
  ['NotIpAddress', 'aws:SourceIp', ['203.0.113.0/24', '198.51.100.0/24'], '198.51.100.1', false],
  ['NotIpAddress', 'aws:SourceIp', '203.0.113.0/24', undefined, true],
  // ARN
  ['ArnEquals', 'aws:PrincipalArn', 'arn:aws:iam::111122223333:role/Admin', 'arn:aws:iam::111122223333:role/Admin', true],
  ['ArnEquals', 'aws:PrincipalArn', 'arn:aws:iam::111122223333:role/Admin', 'arn:aws:iam::111122223333:role/admin', false],
  ['ArnEquals', 'aws:PrincipalArn', 'arn:aws:iam::*:role/Admin', 'arn:aws:iam::444455556666:role/Admin', true],
  ['ArnLike', 'aws:PrincipalArn', 'arn:aws:iam::*:role/*', 'arn:aws:iam::444455556666:role/path/x', true],
  ['ArnLike', 'aws:PrincipalArn', 'arn:aws:iam::*:role/*', 'arn:aws:iam::444455556666:user/x', false],
  ['ArnLike', 'aws:SourceArn', 'arn:aws:someservice:*:111122223333:finance/*', 'arn:aws:someservice:us-east-2:111122223333:finance/doc.txt', true],
  // The guide's example: StringLike matches this, ArnLike does not (a * stays within its component).
  ['ArnLike', 'aws:SourceArn', 'arn:aws:someservice:*:111122223333:finance/*', 'arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt', false],
  ['StringLike', 'aws:SourceArn', 'arn:aws:someservice:*:111122223333:finance/*', 'arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt', true],
  ['ArnLike', 'aws:SourceArn', 'arn:aws:s3:::bucket/*', 'arn:aws:s3:::bucket/a:b:c', true],
  ['ArnLike', 'aws:SourceArn', '*', 'arn:aws:s3:::anything', true],
  ['ArnLike', 'aws:SourceArn', 'arn:aws:s3:::b?cket', 'arn:aws:s3:::bucket', true],
  ['ArnLike', 'aws:SourceArn', 'arn:aws:s3:::bucket', undefined, false],
  ['ArnNotEquals', 'aws:PrincipalArn', 'arn:aws:iam::111122223333:role/Admin', 'arn:aws:iam::111122223333:role/Other', true],
  ['ArnNotEquals', 'aws:PrincipalArn', 'arn:aws:iam::111122223333:role/Admin', 'arn:aws:iam::111122223333:role/Admin', false],
  ['ArnNotLike', 'aws:PrincipalArn', 'arn:aws:iam::*:role/Break*', 'arn:aws:iam::111122223333:role/BreakGlass', false],
  ['ArnNotLike', 'aws:PrincipalArn', 'arn:aws:iam::*:role/Break*', 'arn:aws:iam::111122223333:role/Ops', true],
  ['ArnNotLike', 'aws:PrincipalArn', 'arn:aws:iam::*:role/Break*', undefined, true],
  // Null
  ['Null', 'aws:TokenIssueTime', 'true', undefined, true],
  ['Null', 'aws:TokenIssueTime', 'true', '2026-01-01T00:00:00Z', false],
  ['Null', 'aws:TokenIssueTime', 'false', '2026-01-01T00:00:00Z', true],
  ['Null', 'aws:TokenIssueTime', false, undefined, false],
  ['Null', 'kms:EncryptionContextKeys', 'true', [], true],
  ['Null', 'kms:EncryptionContextKeys', 'false', ['a'], true],
  // IfExists
  ['StringEqualsIfExists', 'kms:ViaService', 'ec2.us-east-1.amazonaws.com', undefined, true],
  ['StringEqualsIfExists', 'kms:ViaService', 'ec2.us-east-1.amazonaws.com', 'ec2.us-east-1.amazonaws.com', true],
  ['StringEqualsIfExists', 'kms:ViaService', 'ec2.us-east-1.amazonaws.com', 's3.us-east-1.amazonaws.com', false],
  ['StringNotEqualsIfExists', 'kms:ViaService', 'ec2.us-east-1.amazonaws.com', undefined, true],
  ['StringNotEqualsIfExists', 'kms:ViaService', 'ec2.us-east-1.amazonaws.com', 'ec2.us-east-1.amazonaws.com', false],
  ['StringLikeIfExists', 'kms:ViaService', 'ec2.*', 'rds.us-east-1.amazonaws.com', false],
  ['NumericLessThanIfExists', 'kms:RotationPeriodInDays', '100', undefined, true],
  ['NumericLessThanIfExists', 'kms:RotationPeriodInDays', '100', '365', false],
  ['DateLessThanIfExists', 'aws:TokenIssueTime', '2026-01-01T00:00:00Z', undefined, true],
  ['BoolIfExists', 'aws:MultiFactorAuthPresent', 'true', undefined, true],
  ['BoolIfExists', 'aws:MultiFactorAuthPresent', 'true', 'false', false],
  ['IpAddressIfExists', 'aws:SourceIp', '203.0.113.0/24', undefined, true],
  ['IpAddressIfExists', 'aws:SourceIp', '203.0.113.0/24', '192.0.2.1', false],
  ['ArnLikeIfExists', 'aws:SourceArn', 'arn:aws:s3:::b*', undefined, true],
  ['BinaryEqualsIfExists', 'test:Blob', 'QmluYXJ5', undefined, true],
  ['DateEqualsIfExists', 'aws:CurrentTime', '2026-01-01', undefined, true],
  // Set qualifiers on multivalued keys
  ['ForAllValues:StringEquals', 'kms:EncryptionContextKeys', ['a', 'b'], ['a'], true],
  ['ForAllValues:StringEquals', 'kms:EncryptionContextKeys', ['a', 'b'], ['a', 'b'], true],
  ['ForAllValues:StringEquals', 'kms:EncryptionContextKeys', ['a', 'b'], ['a', 'c'], false],
  ['ForAllValues:StringEquals', 'kms:EncryptionContextKeys', ['a', 'b'], [], true],
  ['ForAllValues:StringEquals', 'kms:EncryptionContextKeys', ['a', 'b'], undefined, true],
  ['ForAllValues:StringEquals', 'kms:EncryptionContextKeys', ['a', 'b'], 'a', true],
  ['ForAnyValue:StringEquals', 'kms:EncryptionContextKeys', ['a', 'b'], ['c', 'b'], true],
  ['ForAnyValue:StringEquals', 'kms:EncryptionContextKeys', ['a', 'b'], ['c'], false],
  ['ForAnyValue:StringEquals', 'kms:EncryptionContextKeys', ['a', 'b'], [], false],
  ['ForAnyValue:StringEquals', 'kms:EncryptionContextKeys', ['a', 'b'], undefined, false],
  ['ForAllValues:StringLike', 'aws:TagKeys', ['Purpose*', 'Owner'], ['PurposeA', 'Owner'], true],
  ['ForAllValues:StringLike', 'aws:TagKeys', ['Purpose*', 'Owner'], ['PurposeA', 'Cost'], false],
  ['ForAnyValue:StringLike', 'aws:TagKeys', 'Secret*', ['Owner', 'SecretLevel'], true],
  ['ForAnyValue:StringNotEquals', 'kms:GrantOperations', ['Decrypt'], ['Decrypt', 'Encrypt'], true],
  ['ForAnyValue:StringNotEquals', 'kms:GrantOperations', ['Decrypt'], ['Decrypt'], false],
  ['ForAnyValue:StringNotEquals', 'kms:GrantOperations', ['Decrypt'], undefined, false],
  ['ForAllValues:StringNotEquals', 'kms:GrantOperations', ['CreateGrant', 'RetireGrant'], ['Decrypt', 'Encrypt'], true],
  ['ForAllValues:StringNotEquals', 'kms:GrantOperations', ['CreateGrant', 'RetireGrant'], ['Decrypt', 'CreateGrant'], false],
  ['ForAllValues:StringNotEquals', 'kms:GrantOperations', ['CreateGrant'], undefined, true],
  ['ForAllValues:StringNotLike', 'aws:TagKeys', 'aws:*', ['Owner', 'Team'], true],
  ['ForAllValues:StringNotLike', 'aws:TagKeys', 'aws:*', ['Owner', 'aws:x'], false],
  ['ForAnyValue:StringEqualsIgnoreCase', 'kms:ResourceAliases', 'alias/prod', ['alias/dev', 'ALIAS/PROD'], true],
  ['ForAnyValue:StringEqualsIfExists', 'kms:ResourceAliases', 'alias/prod', undefined, true],
  ['ForAllValues:NumericLessThan', 'test:Sizes', '10', ['1', '9'], true],
  ['ForAllValues:NumericLessThan', 'test:Sizes', '10', ['1', '10'], false],
  ['ForAnyValue:IpAddress', 'test:Addresses', '10.0.0.0/8', ['192.0.2.1', '10.1.2.3'], true],
  ['ForAnyValue:ArnLike', 'test:Arns', 'arn:aws:iam::*:role/*', ['arn:aws:iam::111122223333:user/u', 'arn:aws:iam::111122223333:role/r'], true],
  // No qualifier on a multivalued key: any value matching decides, negation inverts.
  ['StringEquals', 'aws:TagKeys', 'Owner', ['Team', 'Owner'], true],
  ['StringEquals', 'aws:TagKeys', 'Owner', ['Team'], false],
  ['StringNotEquals', 'aws:TagKeys', 'Owner', ['Team', 'Owner'], false],
  ['StringNotEquals', 'aws:TagKeys', 'Owner', ['Team', 'Cost'], true],
  ['StringEquals', 'aws:TagKeys', 'Owner', [], false],
  ['StringNotEquals', 'aws:TagKeys', 'Owner', [], true],
  // Operator names are matched case-insensitively.
  ['stringequals', 'kms:KeySpec', 'HMAC_256', 'HMAC_256', true],
  ['forallvalues:stringequalsifexists', 'kms:EncryptionContextKeys', 'a', ['a'], true],
];

function applies(operator: string, key: string, value: Value, requestValue: Ctx): boolean {
  const doc = policy([{ Effect: 'Allow', Action: 'kms:Encrypt', Resource: '*', Condition: { [operator]: { [key]: value } } }]);
  const conditions = requestValue === undefined ? {} : { [key.toLowerCase()]: requestValue };
  const result = evaluatePolicy(compilePolicy(doc, 'identity'), request(alice, 'kms:Encrypt', '*', conditions));
  return result.effect === 'Allow';
}

describe('condition operators', () => {
  for (const [operator, key, value, requestValue, expected] of CASES) {
    const shown = requestValue === undefined ? 'a missing key' : JSON.stringify(requestValue);
    test(`${operator} ${JSON.stringify(value)} ${expected ? 'matches' : 'does not match'} ${shown}`, () => {
      assert.equal(applies(operator, key, value, requestValue), expected);
    });
  }

  test('every documented operator is in the table and takes IfExists, except Null', () => {
    const documented = [
      'StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike',
      'NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals',
      'DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals',
      'Bool', 'BinaryEquals', 'IpAddress', 'NotIpAddress', 'ArnEquals', 'ArnLike', 'ArnNotEquals', 'ArnNotLike', 'Null',
    ];
    assert.deepEqual(Object.keys(CONDITION_OPERATORS).sort(), [...documented].sort());
    assert.ok(Object.isFrozen(CONDITION_OPERATORS));
    for (const name of documented) {
      const parsed = parseOperatorName(`ForAnyValue:${name}IfExists`);
      if (name === 'Null') assert.equal(typeof parsed, 'string');
      else assert.equal(typeof parsed === 'string' ? parsed : parsed.operator.name, name);
    }
  });

  test('all conditions of a statement must hold: keys and operators are ANDed', () => {
    const doc = policy([
      {
        Effect: 'Allow',
        Action: 'kms:Encrypt',
        Resource: '*',
        Condition: { StringEquals: { 'kms:CallerAccount': '111122223333', 'kms:ViaService': 'ec2.us-east-1.amazonaws.com' }, Bool: { 'aws:SecureTransport': 'true' } },
      },
    ]);
    const p = compilePolicy(doc, 'identity');
    const base = { 'kms:CallerAccount': '111122223333', 'kms:ViaService': 'ec2.us-east-1.amazonaws.com', 'aws:SecureTransport': 'true' };
    assert.equal(evaluatePolicy(p, request(alice, 'kms:Encrypt', '*', base)).effect, 'Allow');
    assert.equal(evaluatePolicy(p, request(alice, 'kms:Encrypt', '*', { ...base, 'kms:ViaService': 'rds.us-east-1.amazonaws.com' })).effect, 'NoMatch');
    assert.equal(evaluatePolicy(p, request(alice, 'kms:Encrypt', '*', { ...base, 'aws:SecureTransport': 'false' })).effect, 'NoMatch');
  });

  test('dates parse as W3C ISO 8601 or epoch seconds; invalid dates are rejected', () => {
    assert.equal(parseDate('2026-01-01T00:00:00Z'), Date.UTC(2026, 0, 1));
    assert.equal(parseDate('2026-01-01T00:00:00.250Z'), Date.UTC(2026, 0, 1) + 250);
    assert.equal(parseDate('2026-01-01T05:30:00+05:30'), Date.UTC(2026, 0, 1));
    assert.equal(parseDate('2026-01'), Date.UTC(2026, 0, 1));
    assert.equal(parseDate('2026'), Date.UTC(2026, 0, 1));
    assert.equal(parseDate('1767225600'), Date.UTC(2026, 0, 1));
    for (const bad of ['2026-02-30', '2026-13-01', '2026-01-01T25:00:00Z', 'tomorrow', '']) assert.equal(parseDate(bad), undefined, bad);
  });

  test('CIDR blocks parse for IPv4 and IPv6; prefixes default to the full length', () => {
    assert.deepEqual(parseCidrBlock('203.0.113.0/24'), { family: 4, words: [0xcb007100], masks: [0xffffff00], prefix: 24 });
    assert.equal(parseCidrBlock('192.0.2.1')?.prefix, 32);
    assert.equal(parseCidrBlock('2001:DB8::/32')?.prefix, 32);
    assert.equal(parseCidrBlock('::1')?.prefix, 128);
    assert.deepEqual(parseCidrBlock('10.1.2.3/8')?.words, [0x0a000000]);
    for (const bad of ['203.0.113.0/33', '2001:db8::/129', '300.0.0.1', 'fe80::1%eth0', '10.0.0.0/x', '01.2.3.4', '']) assert.equal(parseCidrBlock(bad), undefined, bad);
  });

  test('IPv6 addresses parse in every textual form', () => {
    const words = (s: string): readonly number[] | undefined => parseIp(s)?.words;
    assert.deepEqual(words('2001:db8::1'), [0x20010db8, 0, 0, 1]);
    assert.deepEqual(words('2001:DB8:0:0:0:0:0:1'), [0x20010db8, 0, 0, 1]);
    assert.deepEqual(words('::'), [0, 0, 0, 0]);
    assert.deepEqual(words('::1'), [0, 0, 0, 1]);
    assert.deepEqual(words('fe80::'), [0xfe800000, 0, 0, 0]);
    assert.deepEqual(words('1:2:3:4:5:6:7:8'), [0x00010002, 0x00030004, 0x00050006, 0x00070008]);
    assert.deepEqual(words('64:ff9b::192.0.2.33'), [0x0064ff9b, 0, 0, 0xc0000221]);
    assert.deepEqual(parseIp('::ffff:192.0.2.33'), { family: 4, words: [0xc0000221] });
    const block = parseCidrBlock('2001:db8:1234:5600::/56')!;
    assert.equal(cidrContains(block, parseIp('2001:db8:1234:56ff::1')!), true);
    assert.equal(cidrContains(block, parseIp('2001:db8:1234:5700::1')!), false);
    assert.equal(cidrContains(parseCidrBlock('0.0.0.0/0')!, parseIp('2001:db8::1')!), false);
    assert.equal(cidrContains(parseCidrBlock('::/0')!, parseIp('2001:db8::1')!), true);
  });
});
