/**
 * Authorization, table-driven (issue 3): every condition operator family (String*, Numeric*,
 * Date*, Bool, BinaryEquals, IpAddress/NotIpAddress, Arn*, Null, …IfExists, ForAnyValue: and
 * ForAllValues:), policy variables, and the KMS and global condition keys, each exercised by its
 * own IAM user whose identity policy holds the condition, through real signed requests. The
 * keys keep the default key policy, so identity-based policies decide (kms-reference.md §9.2).
 */
import { after, before, describe } from 'node:test';
import {
  CreateGrantCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GetParametersForImportCommand,
  PutKeyPolicyCommand,
  ReEncryptCommand,
  ReplicateKeyCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
  CreateAliasCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import {
  ALLOW,
  allow,
  allowedThen,
  deny,
  denied,
  doc,
  rootStatement,
  runCases,
  Slot,
  World,
  type AuthzCase,
  type Expect,
  type Json,
  type Key,
  type Principal,
  type Why,
} from './harness';

const REGIONS = ['us-east-1', 'eu-west-1'];

/** One request of a group: its action and resource (for the expected message) and how to send it. */
interface Req {
  readonly action: string;
  readonly resource: () => string;
  readonly send: (kms: KMSClient) => Promise<unknown>;
  /** When allowed, the request still fails with this (it proves authorization passed). */
  readonly thenError?: string;
}

type Outcome = 'allow' | Why;

/** A user with one policy, and requests that policy allows or refuses. */
interface Group {
  readonly name: string;
  readonly statements: () => Json[];
  readonly tags?: Record<string, string>;
  readonly path?: string;
  readonly requests: readonly (readonly [string, Req, Outcome])[];
}

describe('authorization: condition operators, policy variables and condition keys', () => {
  let w: World;
  const K = new Slot<Key>(); // the default-policy key every Encrypt case uses
  const K2 = new Slot<Key>(); // a second default-policy key
  const MR = new Slot<Key>(); // a multi-Region primary key
  const EXT = new Slot<Key>(); // an EXTERNAL-origin key (PendingImport)
  const BLUE = new Slot<Key>(); // tagged team=blue
  const RED = new Slot<Key>(); // tagged team=red
  const ROT = new Slot<Key>(); // rotation cases
  const users = new Map<string, Principal>();

  const arnOf = (k: Slot<Key>) => (): string => k.get().arn;
  const enc = (context?: Record<string, string>, key: Slot<Key> | (() => string) = K): Req => ({
    action: 'kms:Encrypt',
    resource: key instanceof Slot ? arnOf(key) : () => K.get().arn,
    send: (kms) =>
      kms.send(new EncryptCommand({ KeyId: key instanceof Slot ? key.get().id : key(), Plaintext: Buffer.from('x'), EncryptionContext: context })),
  });
  const encAlg = (EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' | 'RSAES_OAEP_SHA_256', thenError?: string): Req => ({
    action: 'kms:Encrypt',
    resource: arnOf(K),
    send: (kms) => kms.send(new EncryptCommand({ KeyId: K.get().id, Plaintext: Buffer.from('x'), EncryptionAlgorithm })),
    ...(thenError === undefined ? {} : { thenError }),
  });
  const describeKey = (key: Slot<Key>, by: 'id' | 'arn' = 'id'): Req => ({
    action: 'kms:DescribeKey',
    resource: arnOf(key),
    send: (kms) => kms.send(new DescribeKeyCommand({ KeyId: by === 'id' ? key.get().id : key.get().arn })),
  });
  const rotate = (days: number): Req => ({
    action: 'kms:EnableKeyRotation',
    resource: arnOf(ROT),
    send: (kms) => kms.send(new EnableKeyRotationCommand({ KeyId: ROT.get().id, RotationPeriodInDays: days })),
  });
  const schedule = (days: number): Req => {
    const key = new Slot<Key>();
    return {
      action: 'kms:ScheduleKeyDeletion',
      resource: () => key.get().arn,
      send: async (kms) => {
        key.set(await w.key());
        return kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.get().id, PendingWindowInDays: days }));
      },
    };
  };
  const createKey = (tags?: Record<string, string>): Req => ({
    action: 'kms:CreateKey',
    resource: () => '*',
    send: (kms) => kms.send(new CreateKeyCommand({ Tags: tags === undefined ? undefined : Object.entries(tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })) })),
  });
  const tagKey = (tags: Record<string, string>): Req => ({
    action: 'kms:TagResource',
    resource: arnOf(K2),
    send: (kms) => kms.send(new TagResourceCommand({ KeyId: K2.get().id, Tags: Object.entries(tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })) })),
  });
  const reEncrypt = (to: Slot<Key>): Req => ({
    action: 'kms:ReEncryptFrom',
    resource: arnOf(K),
    send: async (kms) => {
      const blob = (await w.root.kms.send(new EncryptCommand({ KeyId: K.get().id, Plaintext: Buffer.from('r') }))).CiphertextBlob;
      return kms.send(new ReEncryptCommand({ CiphertextBlob: blob, DestinationKeyId: to.get().id }));
    },
  });
  const putPolicy = (bypass: boolean): Req => ({
    action: 'kms:PutKeyPolicy',
    resource: arnOf(K2),
    send: (kms) =>
      kms.send(new PutKeyPolicyCommand({ KeyId: K2.get().id, Policy: doc(rootStatement(w.account)), BypassPolicyLockoutSafetyCheck: bypass })),
  });
  const grant = (operations: ('Encrypt' | 'Decrypt' | 'DescribeKey')[], grantee?: () => string): Req => ({
    action: 'kms:CreateGrant',
    resource: arnOf(K),
    send: (kms) =>
      kms.send(new CreateGrantCommand({ KeyId: K.get().id, GranteePrincipal: grantee?.() ?? `arn:aws:iam::${w.account}:user/c-grantee`, Operations: operations })),
  });
  const importParams = (WrappingAlgorithm: 'RSAES_OAEP_SHA_256' | 'RSA_AES_KEY_WRAP_SHA_256'): Req => ({
    action: 'kms:GetParametersForImport',
    resource: arnOf(EXT),
    send: (kms) => kms.send(new GetParametersForImportCommand({ KeyId: EXT.get().id, WrappingAlgorithm, WrappingKeySpec: 'RSA_2048' })),
  });
  const replicate = (ReplicaRegion: string, thenError?: string): Req => ({
    action: 'kms:ReplicateKey',
    resource: arnOf(MR),
    send: (kms) => kms.send(new ReplicateKeyCommand({ KeyId: MR.get().id, ReplicaRegion })),
    ...(thenError === undefined ? {} : { thenError }),
  });
  const viaAlias = (form: 'name' | 'arn' | 'id'): Req => ({
    action: 'kms:Encrypt',
    resource: arnOf(K),
    send: (kms) =>
      kms.send(
        new EncryptCommand({
          KeyId: form === 'name' ? 'alias/authz-app' : form === 'arn' ? w.aliasArn('alias/authz-app') : K.get().id,
          Plaintext: Buffer.from('x'),
        }),
      ),
  });

  /** Allow `action` on K (or `resource`) with one Condition block. */
  const onK = (condition: Json, action: string | string[] = 'kms:Encrypt'): (() => Json[]) => () => [allow(action, K.get().arn, { Condition: condition })];
  const anyKey = (condition: Json, action: string | string[]): (() => Json[]) => () => [allow(action, '*', { Condition: condition })];

  const groups: Group[] = [
    // ---- String operators on kms:EncryptionContext:<key> (key part case-insensitive, §9.1)
    {
      name: 'StringEquals kms:EncryptionContext:app',
      statements: onK({ StringEquals: { 'kms:EncryptionContext:app': 'billing' } }),
      requests: [
        ['the exact value', enc({ app: 'billing' }), 'allow'],
        ['another case of the value', enc({ app: 'Billing' }), 'no-identity'],
        ['no encryption context', enc(), 'no-identity'],
        ['the context key in upper case', enc({ APP: 'billing' }), 'allow'],
      ],
    },
    {
      name: 'StringNotEquals kms:EncryptionContext:app',
      statements: onK({ StringNotEquals: { 'kms:EncryptionContext:app': 'billing' } }),
      requests: [
        ['another value', enc({ app: 'payroll' }), 'allow'],
        ['the excluded value', enc({ app: 'billing' }), 'no-identity'],
        ['no context (a negated operator matches a missing key)', enc(), 'allow'],
      ],
    },
    {
      name: 'StringEqualsIgnoreCase',
      statements: onK({ StringEqualsIgnoreCase: { 'kms:EncryptionContext:app': 'BILLING' } }),
      requests: [
        ['the value in another case', enc({ app: 'billing' }), 'allow'],
        ['a different value', enc({ app: 'bill' }), 'no-identity'],
      ],
    },
    {
      name: 'StringNotEqualsIgnoreCase',
      statements: onK({ StringNotEqualsIgnoreCase: { 'kms:EncryptionContext:app': 'BILLING' } }),
      requests: [
        ['the excluded value in another case', enc({ app: 'Billing' }), 'no-identity'],
        ['a different value', enc({ app: 'hr' }), 'allow'],
      ],
    },
    {
      name: 'StringLike with * and ?',
      statements: onK({ StringLike: { 'kms:EncryptionContext:app': ['bill*', 'h?'] } }),
      requests: [
        ['a * match', enc({ app: 'billing-eu' }), 'allow'],
        ['a ? match', enc({ app: 'hr' }), 'allow'],
        ['no match', enc({ app: 'bil' }), 'no-identity'],
        ['? stands for exactly one character', enc({ app: 'hrx' }), 'no-identity'],
      ],
    },
    {
      name: 'StringNotLike',
      statements: onK({ StringNotLike: { 'kms:EncryptionContext:app': 'test-*' } }),
      requests: [
        ['a value outside the pattern', enc({ app: 'prod' }), 'allow'],
        ['a value inside the pattern', enc({ app: 'test-1' }), 'no-identity'],
      ],
    },
    {
      name: 'several values of one key are ORed',
      statements: onK({ StringEquals: { 'kms:EncryptionContext:app': ['a', 'b'] } }),
      requests: [
        ['the first value', enc({ app: 'a' }), 'allow'],
        ['the second value', enc({ app: 'b' }), 'allow'],
        ['neither', enc({ app: 'c' }), 'no-identity'],
      ],
    },
    {
      name: 'several keys in one block are ANDed',
      statements: onK({ StringEquals: { 'kms:EncryptionContext:app': 'a', 'kms:EncryptionContext:env': 'prod' } }),
      requests: [
        ['both pairs', enc({ app: 'a', env: 'prod' }), 'allow'],
        ['one pair only', enc({ app: 'a' }), 'no-identity'],
        ['one wrong value', enc({ app: 'a', env: 'dev' }), 'no-identity'],
      ],
    },
    {
      name: 'several operators in one statement are ANDed',
      statements: onK({ StringLike: { 'kms:EncryptionContext:app': 'a*' }, StringNotEquals: { 'kms:EncryptionContext:app': 'ab' } }),
      requests: [
        ['matches both', enc({ app: 'ac' }), 'allow'],
        ['fails the second', enc({ app: 'ab' }), 'no-identity'],
      ],
    },
    {
      name: 'StringEqualsIfExists',
      statements: onK({ StringEqualsIfExists: { 'kms:EncryptionContext:app': 'billing' } }),
      requests: [
        ['the key absent', enc(), 'allow'],
        ['the key with the value', enc({ app: 'billing' }), 'allow'],
        ['the key with another value', enc({ app: 'x' }), 'no-identity'],
      ],
    },
    {
      name: 'StringNotEqualsIfExists',
      statements: onK({ StringNotEqualsIfExists: { 'kms:EncryptionContext:app': 'secret' } }),
      requests: [
        ['the key absent', enc(), 'allow'],
        ['the excluded value', enc({ app: 'secret' }), 'no-identity'],
      ],
    },
    {
      name: 'Null false: the context key must be present',
      statements: onK({ Null: { 'kms:EncryptionContext:app': 'false' } }),
      requests: [
        ['present', enc({ app: 'any' }), 'allow'],
        ['absent', enc({ other: 'x' }), 'no-identity'],
      ],
    },
    {
      name: 'Null true: the context key must be absent',
      statements: onK({ Null: { 'kms:EncryptionContext:app': 'true' } }),
      requests: [
        ['absent', enc(), 'allow'],
        ['present', enc({ app: 'x' }), 'no-identity'],
      ],
    },
    {
      name: 'BinaryEquals',
      statements: onK({ BinaryEquals: { 'kms:EncryptionContext:blob': Buffer.from('hello').toString('base64') } }),
      requests: [
        ['the same bytes', enc({ blob: 'aGVsbG8=' }), 'allow'],
        ['other bytes', enc({ blob: Buffer.from('world').toString('base64') }), 'no-identity'],
      ],
    },
    // ---- Set operators on the multivalued kms:EncryptionContextKeys
    {
      name: 'ForAllValues:StringEquals kms:EncryptionContextKeys',
      statements: onK({ 'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['app', 'env'] } }),
      requests: [
        ['a subset of the keys', enc({ app: '1' }), 'allow'],
        ['all of the keys', enc({ app: '1', env: '2' }), 'allow'],
        ['an extra key', enc({ app: '1', owner: '2' }), 'no-identity'],
        ['no context (ForAllValues is vacuously true)', enc(), 'allow'],
      ],
    },
    {
      name: 'ForAnyValue:StringEquals kms:EncryptionContextKeys',
      statements: onK({ 'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': 'app' } }),
      requests: [
        ['one matching key among others', enc({ app: '1', x: '2' }), 'allow'],
        ['no matching key', enc({ x: '1' }), 'no-identity'],
        ['no context (ForAnyValue is false)', enc(), 'no-identity'],
      ],
    },
    {
      name: 'ForAnyValue:StringLike kms:EncryptionContextKeys',
      statements: onK({ 'ForAnyValue:StringLike': { 'kms:EncryptionContextKeys': 'tenant-*' } }),
      requests: [
        ['a tenant key', enc({ 'tenant-a': '1' }), 'allow'],
        ['no tenant key', enc({ tenant: '1' }), 'no-identity'],
      ],
    },
    {
      name: 'ForAllValues:StringNotEquals kms:EncryptionContextKeys',
      statements: onK({ 'ForAllValues:StringNotEquals': { 'kms:EncryptionContextKeys': 'secret' } }),
      requests: [
        ['no forbidden key', enc({ a: '1', b: '2' }), 'allow'],
        ['the forbidden key', enc({ a: '1', secret: '2' }), 'no-identity'],
      ],
    },
    {
      name: 'Deny with ForAnyValue:StringEquals on context keys, beside an Allow',
      statements: () => [allow('kms:Encrypt', K.get().arn), deny('kms:Encrypt', '*', { Condition: { 'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': 'pii' } } })],
      requests: [
        ['no pii key', enc({ a: '1' }), 'allow'],
        ['a pii key', enc({ pii: '1' }), 'deny-identity'],
      ],
    },
    {
      name: 'Deny when StringNotEquals on a context value',
      statements: () => [allow('kms:Encrypt', K.get().arn), deny('kms:Encrypt', '*', { Condition: { StringNotEquals: { 'kms:EncryptionContext:env': 'prod' } } })],
      requests: [
        ['the required value', enc({ env: 'prod' }), 'allow'],
        ['another value', enc({ env: 'dev' }), 'deny-identity'],
        ['the key missing', enc(), 'deny-identity'],
      ],
    },
    // ---- Numeric operators (kms:RotationPeriodInDays, kms:ScheduleKeyDeletionPendingWindowInDays, aws:EpochTime)
    {
      name: 'NumericEquals kms:RotationPeriodInDays',
      statements: () => [allow('kms:EnableKeyRotation', ROT.get().arn, { Condition: { NumericEquals: { 'kms:RotationPeriodInDays': 180 } } })],
      requests: [
        ['180 days', rotate(180), 'allow'],
        ['181 days', rotate(181), 'no-identity'],
      ],
    },
    {
      name: 'NumericNotEquals',
      statements: () => [allow('kms:EnableKeyRotation', ROT.get().arn, { Condition: { NumericNotEquals: { 'kms:RotationPeriodInDays': '365' } } })],
      requests: [
        ['90 days', rotate(90), 'allow'],
        ['365 days', rotate(365), 'no-identity'],
      ],
    },
    {
      name: 'NumericLessThan',
      statements: () => [allow('kms:EnableKeyRotation', ROT.get().arn, { Condition: { NumericLessThan: { 'kms:RotationPeriodInDays': 200 } } })],
      requests: [
        ['199 days', rotate(199), 'allow'],
        ['200 days', rotate(200), 'no-identity'],
      ],
    },
    {
      name: 'NumericLessThanEquals',
      statements: () => [allow('kms:EnableKeyRotation', ROT.get().arn, { Condition: { NumericLessThanEquals: { 'kms:RotationPeriodInDays': 200 } } })],
      requests: [
        ['200 days', rotate(200), 'allow'],
        ['201 days', rotate(201), 'no-identity'],
      ],
    },
    {
      name: 'NumericGreaterThan',
      statements: () => [allow('kms:EnableKeyRotation', ROT.get().arn, { Condition: { NumericGreaterThan: { 'kms:RotationPeriodInDays': 100 } } })],
      requests: [
        ['101 days', rotate(101), 'allow'],
        ['100 days', rotate(100), 'no-identity'],
      ],
    },
    {
      name: 'NumericGreaterThanEquals',
      statements: () => [allow('kms:EnableKeyRotation', ROT.get().arn, { Condition: { NumericGreaterThanEquals: { 'kms:RotationPeriodInDays': 100 } } })],
      requests: [
        ['100 days', rotate(100), 'allow'],
        ['99 days', rotate(99), 'no-identity'],
      ],
    },
    {
      name: 'NumericGreaterThanEquals kms:ScheduleKeyDeletionPendingWindowInDays',
      statements: anyKey({ NumericGreaterThanEquals: { 'kms:ScheduleKeyDeletionPendingWindowInDays': 14 } }, 'kms:ScheduleKeyDeletion'),
      requests: [
        ['a 14-day window', schedule(14), 'allow'],
        ['a 7-day window', schedule(7), 'no-identity'],
      ],
    },
    {
      name: 'NumericGreaterThan aws:EpochTime (in the past)',
      statements: onK({ NumericGreaterThan: { 'aws:EpochTime': 1_600_000_000 } }),
      requests: [['now', enc(), 'allow']],
    },
    {
      name: 'NumericLessThan aws:EpochTime (in the past)',
      statements: onK({ NumericLessThan: { 'aws:EpochTime': 1_600_000_000 } }),
      requests: [['now', enc(), 'no-identity']],
    },
    // ---- Date operators on aws:CurrentTime
    {
      name: 'DateGreaterThan aws:CurrentTime',
      statements: onK({ DateGreaterThan: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } }),
      requests: [['now, after 2020', enc(), 'allow']],
    },
    {
      name: 'DateLessThan aws:CurrentTime',
      statements: onK({ DateLessThan: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } }),
      requests: [['now, not before 2020', enc(), 'no-identity']],
    },
    {
      name: 'DateLessThanEquals aws:CurrentTime',
      statements: onK({ DateLessThanEquals: { 'aws:CurrentTime': '2999-12-31' } }),
      requests: [['now, before 2999', enc(), 'allow']],
    },
    {
      name: 'DateGreaterThanEquals aws:CurrentTime with epoch seconds',
      statements: onK({ DateGreaterThanEquals: { 'aws:CurrentTime': '1577836800' } }),
      requests: [['now', enc(), 'allow']],
    },
    {
      name: 'DateEquals aws:CurrentTime',
      statements: onK({ DateEquals: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } }),
      requests: [['now is not that instant', enc(), 'no-identity']],
    },
    {
      name: 'DateNotEquals aws:CurrentTime',
      statements: onK({ DateNotEquals: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } }),
      requests: [['now is another instant', enc(), 'allow']],
    },
    {
      name: 'Deny after a date (an expired permission)',
      statements: () => [allow('kms:Encrypt', K.get().arn), deny('kms:Encrypt', '*', { Condition: { DateGreaterThan: { 'aws:CurrentTime': '2021-06-30T00:00:00Z' } } })],
      requests: [['now', enc(), 'deny-identity']],
    },
    // ---- Bool
    {
      name: 'Bool aws:SecureTransport true (the test server speaks plain HTTP)',
      statements: onK({ Bool: { 'aws:SecureTransport': 'true' } }),
      requests: [['over HTTP', enc(), 'no-identity']],
    },
    {
      name: 'Bool aws:SecureTransport false',
      statements: onK({ Bool: { 'aws:SecureTransport': false } }),
      requests: [['over HTTP', enc(), 'allow']],
    },
    {
      name: 'Bool kms:MultiRegion',
      statements: anyKey({ Bool: { 'kms:MultiRegion': 'true' } }, 'kms:DescribeKey'),
      requests: [
        ['a multi-Region key', describeKey(MR), 'allow'],
        ['a single-Region key', describeKey(K), 'no-identity'],
      ],
    },
    {
      name: 'Bool kms:ReEncryptOnSameKey',
      statements: anyKey({ Bool: { 'kms:ReEncryptOnSameKey': 'true' } }, ['kms:ReEncryptFrom', 'kms:ReEncryptTo']),
      requests: [
        ['re-encrypting under the same key', reEncrypt(K), 'allow'],
        ['re-encrypting under another key', reEncrypt(K2), 'no-identity'],
      ],
    },
    {
      name: 'Bool kms:BypassPolicyLockoutSafetyCheck',
      statements: () => [allow('kms:PutKeyPolicy', K2.get().arn, { Condition: { Bool: { 'kms:BypassPolicyLockoutSafetyCheck': 'false' } } })],
      requests: [
        ['without the bypass', putPolicy(false), 'allow'],
        ['with the bypass', putPolicy(true), 'no-identity'],
      ],
    },
    // ---- IpAddress / NotIpAddress on aws:SourceIp (the test client is 127.0.0.1)
    {
      name: 'IpAddress aws:SourceIp inside the block',
      statements: onK({ IpAddress: { 'aws:SourceIp': '127.0.0.0/8' } }),
      requests: [['from 127.0.0.1', enc(), 'allow']],
    },
    {
      name: 'IpAddress aws:SourceIp outside the block',
      statements: onK({ IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '192.168.0.0/16'] } }),
      requests: [['from 127.0.0.1', enc(), 'no-identity']],
    },
    {
      name: 'IpAddress with a single address',
      statements: onK({ IpAddress: { 'aws:SourceIp': '127.0.0.1' } }),
      requests: [['from 127.0.0.1', enc(), 'allow']],
    },
    {
      name: 'NotIpAddress aws:SourceIp',
      statements: onK({ NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }),
      requests: [['from 127.0.0.1', enc(), 'allow']],
    },
    {
      name: 'Deny NotIpAddress: only from the corporate network',
      statements: () => [allow('kms:Encrypt', K.get().arn), deny('kms:*', '*', { Condition: { NotIpAddress: { 'aws:SourceIp': '203.0.113.0/24' } } })],
      requests: [['from 127.0.0.1', enc(), 'deny-identity']],
    },
    // ---- Arn operators on aws:PrincipalArn
    {
      name: 'ArnEquals aws:PrincipalArn',
      path: '/authz/',
      statements: () => [allow('kms:Encrypt', K.get().arn, { Condition: { ArnEquals: { 'aws:PrincipalArn': `arn:aws:iam::${w.account}:user/authz/c-arn-equals` } } })],
      requests: [['the named user', enc(), 'allow']],
    },
    {
      name: 'ArnLike aws:PrincipalArn with a path wildcard',
      path: '/authz/',
      statements: () => [allow('kms:Encrypt', K.get().arn, { Condition: { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:user/authz/*' } } })],
      requests: [['a user under /authz/', enc(), 'allow']],
    },
    {
      name: 'ArnLike aws:PrincipalArn not matching',
      statements: () => [allow('kms:Encrypt', K.get().arn, { Condition: { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/*' } } })],
      requests: [['a user is not a role', enc(), 'no-identity']],
    },
    {
      name: 'ArnNotEquals aws:PrincipalArn',
      statements: () => [allow('kms:Encrypt', K.get().arn, { Condition: { ArnNotEquals: { 'aws:PrincipalArn': `arn:aws:iam::${w.account}:user/someone-else` } } })],
      requests: [['another principal', enc(), 'allow']],
    },
    {
      name: 'ArnNotLike aws:PrincipalArn',
      statements: () => [allow('kms:Encrypt', K.get().arn, { Condition: { ArnNotLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:user/c-*' } } })],
      requests: [['a c-* user is excluded', enc(), 'no-identity']],
    },
    // ---- Policy variables
    {
      name: '${aws:username} in a condition value',
      statements: onK({ StringEquals: { 'kms:EncryptionContext:owner': '${aws:username}' } }),
      requests: [
        ['the caller as owner', enc({ owner: 'c-var-username' }), 'allow'],
        ['someone else as owner', enc({ owner: 'mallory' }), 'no-identity'],
      ],
    },
    {
      name: '${aws:username} inside a StringLike pattern',
      statements: onK({ StringLike: { 'kms:EncryptionContext:path': 'home/${aws:username}/*' } }),
      requests: [
        ['under the caller\'s home', enc({ path: 'home/c-var-like/docs' }), 'allow'],
        ['under another home', enc({ path: 'home/bob/docs' }), 'no-identity'],
      ],
    },
    {
      name: '${aws:PrincipalTag/team} against a context value',
      tags: { team: 'blue' },
      statements: onK({ StringEquals: { 'kms:EncryptionContext:team': '${aws:PrincipalTag/team}' } }),
      requests: [
        ['the caller\'s team', enc({ team: 'blue' }), 'allow'],
        ['another team', enc({ team: 'red' }), 'no-identity'],
      ],
    },
    {
      name: '${aws:PrincipalAccount} in the Resource',
      statements: () => [allow('kms:Encrypt', 'arn:aws:kms:*:${aws:PrincipalAccount}:key/*')],
      requests: [['a key of the caller\'s account', enc(), 'allow']],
    },
    {
      name: 'a Resource naming another account',
      statements: () => [allow('kms:Encrypt', 'arn:aws:kms:*:111122223333:key/*')],
      requests: [['a key of the caller\'s account', enc(), 'no-identity']],
    },
    {
      name: 'ABAC: aws:ResourceTag/team equals ${aws:PrincipalTag/team}',
      tags: { team: 'blue' },
      statements: anyKey({ StringEquals: { 'aws:ResourceTag/team': '${aws:PrincipalTag/team}' } }, 'kms:Encrypt'),
      requests: [
        ['a key of the caller\'s team', enc(undefined, BLUE), 'allow'],
        ['a key of another team', enc(undefined, RED), 'no-identity'],
        ['an untagged key', enc(undefined, K), 'no-identity'],
      ],
    },
    {
      name: 'a variable without a value matches nothing',
      statements: onK({ StringEquals: { 'kms:EncryptionContext:team': '${aws:PrincipalTag/team}' } }),
      requests: [['an untagged caller', enc({ team: 'blue' }), 'no-identity']],
    },
    {
      name: 'aws:userid and aws:username',
      statements: onK({ StringEquals: { 'aws:username': 'c-userid' }, StringLike: { 'aws:userid': 'AIDA*' } }),
      requests: [['the named user', enc(), 'allow']],
    },
    // ---- KMS condition keys
    {
      name: 'kms:RequestAlias',
      statements: anyKey({ StringEquals: { 'kms:RequestAlias': 'alias/authz-app' } }, 'kms:Encrypt'),
      requests: [
        ['by alias name', viaAlias('name'), 'allow'],
        ['by alias ARN', viaAlias('arn'), 'allow'],
        ['by key id', viaAlias('id'), 'no-identity'],
      ],
    },
    {
      name: 'kms:ResourceAliases (IAM policies only)',
      statements: anyKey({ 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/authz-app' } }, 'kms:Encrypt'),
      requests: [
        ['a key with the alias, by id', enc(), 'allow'],
        ['a key without it', enc(undefined, K2), 'no-identity'],
      ],
    },
    {
      name: 'kms:KeySpec, kms:KeyUsage',
      statements: anyKey({ StringEquals: { 'kms:KeySpec': 'SYMMETRIC_DEFAULT', 'kms:KeyUsage': 'ENCRYPT_DECRYPT' } }, 'kms:DescribeKey'),
      requests: [['a symmetric key', describeKey(K), 'allow']],
    },
    {
      name: 'kms:KeySpec not matching',
      statements: anyKey({ StringEquals: { 'kms:KeySpec': 'RSA_2048' } }, 'kms:DescribeKey'),
      requests: [['a symmetric key', describeKey(K), 'no-identity']],
    },
    {
      name: 'kms:KeyOrigin',
      statements: anyKey({ StringEquals: { 'kms:KeyOrigin': 'EXTERNAL' } }, 'kms:DescribeKey'),
      requests: [
        ['an EXTERNAL key', describeKey(EXT), 'allow'],
        ['an AWS_KMS key', describeKey(K), 'no-identity'],
      ],
    },
    {
      name: 'kms:MultiRegionKeyType',
      statements: anyKey({ StringEquals: { 'kms:MultiRegionKeyType': 'PRIMARY' } }, 'kms:DescribeKey'),
      requests: [
        ['a primary key, by ARN', describeKey(MR, 'arn'), 'allow'],
        ['a single-Region key (the key is absent)', describeKey(K), 'no-identity'],
      ],
    },
    {
      name: 'kms:CallerAccount',
      statements: () => [allow('kms:Encrypt', K.get().arn, { Condition: { StringEquals: { 'kms:CallerAccount': w.account } } })],
      requests: [['a caller of the account', enc(), 'allow']],
    },
    {
      name: 'kms:CallerAccount of another account',
      statements: onK({ StringEquals: { 'kms:CallerAccount': '111122223333' } }),
      requests: [['a caller of this account', enc(), 'no-identity']],
    },
    {
      name: 'kms:EncryptionAlgorithm (the default when omitted)',
      statements: onK({ StringEquals: { 'kms:EncryptionAlgorithm': 'SYMMETRIC_DEFAULT' } }),
      requests: [
        ['omitted', enc(), 'allow'],
        ['given', encAlg('SYMMETRIC_DEFAULT'), 'allow'],
        ['another algorithm (refused before the key usage is checked)', encAlg('RSAES_OAEP_SHA_256'), 'no-identity'],
      ],
    },
    {
      name: 'kms:EncryptionAlgorithm allowing an asymmetric algorithm',
      statements: onK({ StringEquals: { 'kms:EncryptionAlgorithm': 'RSAES_OAEP_SHA_256' } }),
      requests: [['that algorithm on a symmetric key (authorized, then InvalidKeyUsage)', encAlg('RSAES_OAEP_SHA_256', 'InvalidKeyUsageException'), 'allow']],
    },
    {
      name: 'aws:RequestedRegion',
      statements: onK({ StringEquals: { 'aws:RequestedRegion': 'us-east-1' } }),
      requests: [['us-east-1', enc(), 'allow']],
    },
    {
      name: 'aws:RequestedRegion of another Region',
      statements: onK({ StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } }),
      requests: [['us-east-1', enc(), 'no-identity']],
    },
    {
      name: 'aws:PrincipalAccount and aws:PrincipalType',
      statements: () => [allow('kms:Encrypt', K.get().arn, { Condition: { StringEquals: { 'aws:PrincipalAccount': w.account, 'aws:PrincipalType': 'User' } } })],
      requests: [['a user of the account', enc(), 'allow']],
    },
    {
      name: 'aws:PrincipalTag/*',
      tags: { level: 'admin' },
      statements: onK({ StringEquals: { 'aws:PrincipalTag/level': 'admin' } }),
      requests: [['a tagged caller', enc(), 'allow']],
    },
    {
      name: 'aws:PrincipalTag/* not matching',
      tags: { level: 'user' },
      statements: onK({ StringEquals: { 'aws:PrincipalTag/level': 'admin' } }),
      requests: [['a caller with another tag value', enc(), 'no-identity']],
    },
    {
      name: 'aws:RequestTag/* on CreateKey and its kms:TagResource',
      statements: () => [
        allow(['kms:CreateKey', 'kms:TagResource'], '*', { Condition: { StringEquals: { 'aws:RequestTag/team': 'blue' } } }),
      ],
      requests: [
        ['tagged team=blue', createKey({ team: 'blue' }), 'allow'],
        ['tagged team=red', createKey({ team: 'red' }), 'no-identity'],
        ['untagged', createKey(), 'no-identity'],
      ],
    },
    {
      name: 'ForAllValues:StringEquals aws:TagKeys on TagResource',
      statements: () => [allow('kms:TagResource', K2.get().arn, { Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team', 'env'] } } })],
      requests: [
        ['allowed tag keys', tagKey({ team: 'x', env: 'y' }), 'allow'],
        ['another tag key', tagKey({ owner: 'x' }), 'no-identity'],
      ],
    },
    {
      name: 'kms:KeySpec and kms:KeyUsage on CreateKey (the request, defaults included)',
      statements: anyKey({ StringEquals: { 'kms:KeySpec': 'SYMMETRIC_DEFAULT', 'kms:KeyOrigin': 'AWS_KMS' }, Bool: { 'kms:MultiRegion': 'false' } }, 'kms:CreateKey'),
      requests: [['a default CreateKey', createKey(), 'allow']],
    },
    {
      name: 'ForAllValues:StringEquals kms:GrantOperations on CreateGrant',
      statements: onK({ 'ForAllValues:StringEquals': { 'kms:GrantOperations': ['Encrypt', 'DescribeKey'] } }, 'kms:CreateGrant'),
      requests: [
        ['a grant of Encrypt', grant(['Encrypt']), 'allow'],
        ['a grant of Decrypt', grant(['Decrypt']), 'no-identity'],
      ],
    },
    {
      name: 'kms:GranteePrincipal on CreateGrant',
      statements: () => [allow('kms:CreateGrant', K.get().arn, { Condition: { StringLike: { 'kms:GranteePrincipal': `arn:aws:iam::${w.account}:user/c-*` } } })],
      requests: [
        ['a c-* grantee', grant(['Encrypt']), 'allow'],
        ['the account root as grantee', grant(['Encrypt'], () => `arn:aws:iam::${w.account}:root`), 'no-identity'],
      ],
    },
    {
      name: 'kms:WrappingAlgorithm on GetParametersForImport',
      statements: () => [allow('kms:GetParametersForImport', EXT.get().arn, { Condition: { StringEquals: { 'kms:WrappingAlgorithm': 'RSAES_OAEP_SHA_256' } } })],
      requests: [
        ['that algorithm', importParams('RSAES_OAEP_SHA_256'), 'allow'],
        ['another algorithm', importParams('RSA_AES_KEY_WRAP_SHA_256'), 'no-identity'],
      ],
    },
    {
      name: 'kms:ReplicaRegion on ReplicateKey',
      statements: () => [
        allow('kms:ReplicateKey', MR.get().arn, { Condition: { StringEquals: { 'kms:ReplicaRegion': 'eu-west-1' } } }),
        allow('kms:CreateKey', '*'),
      ],
      requests: [
        ['a Region outside the condition', replicate('ap-south-1'), 'no-identity'],
        ['the allowed Region', replicate('eu-west-1'), 'allow'],
      ],
    },
    {
      name: 'ReplicateKey also needs kms:CreateKey',
      statements: () => [allow('kms:ReplicateKey', MR.get().arn)],
      requests: [['without kms:CreateKey', { ...replicate('eu-west-1'), action: 'kms:CreateKey', resource: () => '*' }, 'no-identity']],
    },
    {
      name: 'kms:ViaService (a principal tagged keyhold:ViaService)',
      tags: { 'keyhold:ViaService': 's3' },
      statements: onK({ StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } }),
      requests: [['through s3', enc(), 'allow']],
    },
    {
      name: 'kms:ViaService absent for a direct caller',
      statements: onK({ StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } }),
      requests: [['a direct call', enc(), 'no-identity']],
    },
    {
      name: 'kms:ViaService of another service',
      tags: { 'keyhold:ViaService': 'ec2.us-east-1.amazonaws.com' },
      statements: onK({ StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } }),
      requests: [['through ec2', enc(), 'no-identity']],
    },
  ];

  const cases: AuthzCase[] = [];
  groups.forEach((g, i) => {
    for (const [desc, req, outcome] of g.requests) {
      cases.push({
        name: `${g.name}: ${desc} -> ${outcome === 'allow' ? 'Allow' : `Deny (${outcome})`}`,
        who: () => users.get(g.name) as Principal,
        call: req.send,
        expect: (): Expect =>
          outcome === 'allow' ? (req.thenError === undefined ? ALLOW : allowedThen(req.thenError)) : denied(req.action, req.resource(), outcome),
      });
    }
    void i;
  });

  const userName = (g: Group, i: number): string =>
    g.name.startsWith('ArnEquals') ? 'c-arn-equals'
      : g.name === '${aws:username} in a condition value' ? 'c-var-username'
        : g.name.startsWith('${aws:username} inside') ? 'c-var-like'
          : g.name.startsWith('aws:userid') ? 'c-userid'
            : `c-${i}`;

  before(async () => {
    w = await World.start({ args: ['--regions', REGIONS.join(',')] });
    K.set(await w.key());
    K2.set(await w.key());
    MR.set(await w.key({ MultiRegion: true }));
    EXT.set(await w.key({ Origin: 'EXTERNAL' }));
    BLUE.set(await w.key({ Tags: [{ TagKey: 'team', TagValue: 'blue' }] }));
    RED.set(await w.key({ Tags: [{ TagKey: 'team', TagValue: 'red' }] }));
    ROT.set(await w.key());
    await w.root.kms.send(new CreateAliasCommand({ AliasName: 'alias/authz-app', TargetKeyId: K.get().id }));
    let i = 0;
    for (const g of groups) {
      const u = await w.user(userName(g, i++), { statements: g.statements(), ...(g.tags ? { tags: g.tags } : {}), ...(g.path ? { path: g.path } : {}) });
      users.set(g.name, u);
    }
  });
  after(async () => {
    for (const u of users.values()) u.kms.destroy();
    await w?.stop();
  });

  runCases(cases);
});
