/**
 * Grant bookkeeping through @aws-sdk/client-kms over a real socket: CreateGrant (validation,
 * Name idempotency, constraints, key states, DryRun, the 50,000-grants limit), ListGrants
 * (entries, filters, pagination), ListRetirableGrants, RetireGrant (by token, by key and grant id,
 * who may retire, across accounts) and RevokeGrant — with AWS's error names and messages.
 * Grant-based access to cryptographic operations is the authorization suite's subject.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import {
  CreateGrantCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  KMSClient,
  ListGrantsCommand,
  ListRetirableGrantsCommand,
  RetireGrantCommand,
  RevokeGrantCommand,
  ScheduleKeyDeletionCommand,
  type CreateGrantCommandInput,
  type GrantListEntry,
  type GrantOperation,
} from '@aws-sdk/client-kms';
import { encodeGrantToken } from '../../src/keys/grants';
import { rejects, validation } from '../helpers/assertions';
import { keyhold } from '../helpers/keyhold-cli';
import { startServer, stopAndRemove, type TestServer } from '../helpers/server';
import { serverSql } from '../helpers/server-store';
import { credsFrom, query, type Creds } from '../identity/wire';

const GRANT_ID = /^[0-9a-f]{64}$/;
const GRANT_TOKEN = /^[A-Za-z0-9_-]{108}$/;
const DRY_RUN = 'The request would have succeeded, but the DryRun option is set.';
const INVALID_TOKEN = 'The request was rejected because the specified grant token is not valid.';
const INVALID_GRANT_ID = 'The grant ID does not identify a grant on this KMS key.';
const KMS_ALL = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] });

describe('grants', () => {
  let server: TestServer;
  let kms: KMSClient;
  let region: string;
  let account: string;
  let alice: string;
  let bob: string;

  async function newKey(input: { Origin?: 'EXTERNAL' } = {}): Promise<{ id: string; arn: string }> {
    const { KeyMetadata: m } = await kms.send(new CreateKeyCommand({ Description: 'grants test', ...input }));
    return { id: m!.KeyId!, arn: m!.Arn! };
  }

  async function grant(input: Partial<CreateGrantCommandInput> & { KeyId: string }, client = kms): Promise<{ GrantId: string; GrantToken: string }> {
    const out = await client.send(new CreateGrantCommand({ GranteePrincipal: alice, Operations: ['Decrypt'], ...input }));
    return { GrantId: out.GrantId!, GrantToken: out.GrantToken! };
  }

  async function grantsOf(keyId: string): Promise<GrantListEntry[]> {
    const out: GrantListEntry[] = [];
    let marker: string | undefined;
    do {
      const p = await kms.send(new ListGrantsCommand({ KeyId: keyId, Limit: 100, ...(marker ? { Marker: marker } : {}) }));
      out.push(...(p.Grants ?? []));
      marker = p.Truncated === true ? p.NextMarker : undefined;
    } while (marker !== undefined);
    return out;
  }

  before(async () => {
    server = await startServer();
    kms = server.client();
    region = server.region;
    account = server.accountId;
    alice = `arn:aws:iam::${account}:user/alice`;
    bob = `arn:aws:iam::${account}:role/bob`;
  });
  after(async () => {
    kms?.destroy();
    await stopAndRemove(server, { exitCode: 0 });
  });

  describe('CreateGrant', () => {
    test('returns a 64-hex grant id and an opaque token; ListGrants shows the grant as AWS lists it', async () => {
      const k = await newKey();
      const before = Date.now();
      const g = await grant({ KeyId: k.id, Operations: ['Encrypt', 'Decrypt', 'DescribeKey'], RetiringPrincipal: bob });
      assert.match(g.GrantId, GRANT_ID);
      assert.match(g.GrantToken, GRANT_TOKEN);
      const [e, ...rest] = await grantsOf(k.id);
      assert.equal(rest.length, 0);
      assert.equal(e!.KeyId, k.arn);
      assert.equal(e!.GrantId, g.GrantId);
      assert.equal(e!.Name, '');
      assert.equal(e!.GranteePrincipal, alice);
      assert.equal(e!.RetiringPrincipal, bob);
      assert.equal(e!.IssuingAccount, `arn:aws:iam::${account}:root`);
      assert.deepEqual(e!.Operations, ['Encrypt', 'Decrypt', 'DescribeKey']);
      assert.equal(e!.Constraints, undefined);
      assert.ok(e!.CreationDate instanceof Date);
      assert.ok(Math.abs(e!.CreationDate.getTime() - before) < 60_000);
    });

    test('accepts the key ARN, drops duplicate operations and empty constraint maps', async () => {
      const k = await newKey();
      const g = await grant({
        KeyId: k.arn,
        Operations: ['GenerateDataKey', 'GenerateDataKey', 'ReEncryptFrom'],
        Constraints: { EncryptionContextSubset: {}, EncryptionContextEquals: {} },
      });
      const [e] = await grantsOf(k.id);
      assert.equal(e!.GrantId, g.GrantId);
      assert.deepEqual(e!.Operations, ['GenerateDataKey', 'ReEncryptFrom']);
      assert.equal(e!.Constraints, undefined);
    });

    test('stores encryption context constraints and lists them', async () => {
      const k = await newKey();
      await grant({
        KeyId: k.id,
        Operations: ['Decrypt', 'RetireGrant'],
        Constraints: { EncryptionContextSubset: { Department: 'IT' }, EncryptionContextEquals: { Department: 'IT', Purpose: 'Test' } },
      });
      const [e] = await grantsOf(k.id);
      assert.deepEqual(e!.Constraints, {
        EncryptionContextSubset: { Department: 'IT' },
        EncryptionContextEquals: { Department: 'IT', Purpose: 'Test' },
      });
    });

    test('Name makes retries idempotent: same grant id, a new token each time; other parameters make a new grant', async () => {
      const k = await newKey();
      const params = { KeyId: k.id, Name: 'app-decrypt', Operations: ['Decrypt', 'Encrypt'] as GrantOperation[], RetiringPrincipal: bob };
      const a = await grant(params);
      const b = await grant({ ...params, Operations: ['Encrypt', 'Decrypt'] });
      assert.equal(b.GrantId, a.GrantId);
      assert.notEqual(b.GrantToken, a.GrantToken);
      const c = await grant({ ...params, Operations: ['Decrypt'] });
      assert.notEqual(c.GrantId, a.GrantId);
      const d = await grant({ ...params, Name: 'another-name' });
      assert.notEqual(d.GrantId, a.GrantId);
      const listed = new Map((await grantsOf(k.id)).map((e) => [e.GrantId, e.Name]));
      assert.deepEqual(listed, new Map([[a.GrantId, 'app-decrypt'], [c.GrantId, 'app-decrypt'], [d.GrantId, 'another-name']]));
      // Unnamed requests are never retries.
      const { Name: _omit, ...unnamed } = params;
      assert.notEqual((await grant(unnamed)).GrantId, (await grant(unnamed)).GrantId);
    });

    test('tokens of one grant are interchangeable: either retires it', async () => {
      const k = await newKey();
      const a = await grant({ KeyId: k.id, Name: 'twice' });
      const b = await grant({ KeyId: k.id, Name: 'twice' });
      assert.equal(a.GrantId, b.GrantId);
      await kms.send(new RetireGrantCommand({ GrantToken: b.GrantToken }));
      assert.deepEqual(await grantsOf(k.id), []);
      await rejects(kms.send(new RetireGrantCommand({ GrantToken: a.GrantToken })), 'NotFoundException', 'The grant that the grant token identifies does not exist.');
    });

    test('validates grantee and retiring principals', async () => {
      const k = await newKey();
      await rejects(grant({ KeyId: k.id, GranteePrincipal: undefined }), 'ValidationException', validation('granteePrincipal', 'not be null', null));
      await rejects(
        grant({ KeyId: k.id, GranteeServicePrincipal: 'dynamodb.us-east-1.amazonaws.com' }),
        'ValidationException',
        'You must specify either GranteePrincipal or GranteeServicePrincipal, but not both.',
      );
      await rejects(
        grant({ KeyId: k.id, RetiringPrincipal: bob, RetiringServicePrincipal: 'dynamodb.us-east-1.amazonaws.com' }),
        'ValidationException',
        'You can specify either RetiringPrincipal or RetiringServicePrincipal, but not both.',
      );
      const notPrincipal = 'GranteePrincipal must be the ARN of an AWS principal or an AWS service principal.';
      await rejects(grant({ KeyId: k.id, GranteePrincipal: `arn:aws:iam::${account}:group/admins` }), 'InvalidArnException', notPrincipal);
      await rejects(grant({ KeyId: k.id, GranteePrincipal: 'alice' }), 'InvalidArnException', notPrincipal);
      await rejects(
        grant({ KeyId: k.id, RetiringPrincipal: 'arn:aws:s3:::bucket' }),
        'InvalidArnException',
        'RetiringPrincipal must be the ARN of an AWS principal or an AWS service principal.',
      );
      await rejects(
        grant({ KeyId: k.id, GranteePrincipal: 'has spaces' }),
        'ValidationException',
        validation('granteePrincipal', 'satisfy regular expression pattern: ^[\\w+=,.@:/-]+$', 'has spaces'),
      );
      // Accounts, roles, sessions and service principals are all principals.
      for (const p of [`arn:aws:iam::${account}:root`, bob, `arn:aws:sts::${account}:assumed-role/bob/s1`, 'dynamodb.us-east-1.amazonaws.com']) {
        assert.match((await grant({ KeyId: k.id, GranteePrincipal: p })).GrantId, GRANT_ID);
      }
    });

    test('GranteeServicePrincipal needs a SourceArn constraint and a retiring principal', async () => {
      const k = await newKey();
      const sp = 'logs.us-east-1.amazonaws.com';
      const sourceArn = `arn:aws:logs:us-east-1:${account}:log-group:app`;
      await rejects(
        grant({ KeyId: k.id, GranteePrincipal: undefined, GranteeServicePrincipal: sp, RetiringServicePrincipal: sp }),
        'ValidationException',
        'When you specify a GranteeServicePrincipal, you must also specify a SourceArn grant constraint.',
      );
      await rejects(
        grant({ KeyId: k.id, GranteePrincipal: undefined, GranteeServicePrincipal: sp, Constraints: { SourceArn: sourceArn } }),
        'ValidationException',
        'When you specify a GranteeServicePrincipal, you must also specify a RetiringPrincipal or a RetiringServicePrincipal.',
      );
      await rejects(
        grant({ KeyId: k.id, GranteePrincipal: undefined, GranteeServicePrincipal: alice, RetiringServicePrincipal: sp, Constraints: { SourceArn: sourceArn } }),
        'ValidationException',
        // The model's ServicePrincipalType pattern (src/model/kms-inputs.ts), checked before the operation runs.
        validation('granteeServicePrincipal', 'satisfy regular expression pattern: ^([A-Za-z0-9\\-]+)\\.([A-Za-z0-9\\-]+)(\\.[A-Za-z0-9\\-]+)+$', alice),
      );
      const g = await grant({ KeyId: k.id, GranteePrincipal: undefined, GranteeServicePrincipal: sp, RetiringServicePrincipal: sp, Constraints: { SourceArn: sourceArn } });
      const [e] = await grantsOf(k.id);
      assert.equal(e!.GrantId, g.GrantId);
      assert.equal(e!.GranteePrincipal, undefined);
      assert.equal(e!.GranteeServicePrincipal, sp);
      assert.equal(e!.RetiringServicePrincipal, sp);
      assert.deepEqual(e!.Constraints, { SourceArn: sourceArn });
    });

    test('validates operations: non-empty, in the enum, not CreateGrant alone, supported by the key type', async () => {
      const k = await newKey();
      await rejects(grant({ KeyId: k.id, Operations: [] }), 'ValidationException', validation('operations', 'have length greater than or equal to 1', '[]'));
      await rejects(grant({ KeyId: k.id, Operations: ['CreateGrant'] }), 'ValidationException', 'Grants must not contain only the CreateGrant operation.');
      await rejects(
        grant({ KeyId: k.id, Operations: ['Decrypt', 'ScheduleKeyDeletion' as GrantOperation] }),
        'ValidationException',
        /^1 validation error detected: Value 'ScheduleKeyDeletion' at 'operations\.2\.member' failed to satisfy constraint: Member must satisfy enum value set: \[Decrypt, Encrypt, /,
      );
      await rejects(
        grant({ KeyId: k.id, Operations: ['Decrypt', 'Sign', 'GenerateMac'] }),
        'ValidationException',
        `The operations Sign, GenerateMac cannot be granted on ${k.arn}: its KeySpec SYMMETRIC_DEFAULT and KeyUsage ENCRYPT_DECRYPT do not support them.`,
      );
      for (const op of ['GetPublicKey', 'Verify', 'VerifyMac', 'DeriveSharedSecret', 'Encapsulate', 'Decapsulate'] as GrantOperation[]) {
        await rejects(grant({ KeyId: k.id, Operations: [op] }), 'ValidationException', new RegExp(`^The operation ${op} cannot be granted on `));
      }
      const all: GrantOperation[] = ['CreateGrant', 'Decrypt', 'DescribeKey', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyPair',
        'GenerateDataKeyPairWithoutPlaintext', 'GenerateDataKeyWithoutPlaintext', 'ReEncryptFrom', 'ReEncryptTo', 'RetireGrant'];
      assert.match((await grant({ KeyId: k.id, Operations: all })).GrantId, GRANT_ID);
    });

    test('limits constraints to 8 pairs and 384-character values', async () => {
      const k = await newKey();
      const nine = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`k${i}`, 'v']));
      await rejects(
        grant({ KeyId: k.id, Constraints: { EncryptionContextSubset: nine } }),
        'ValidationException',
        'The EncryptionContextSubset grant constraint can include up to 8 encryption context pairs.',
      );
      await rejects(
        grant({ KeyId: k.id, Constraints: { EncryptionContextEquals: { a: 'x'.repeat(385) } } }),
        'ValidationException',
        'The values in the EncryptionContextEquals grant constraint cannot exceed 384 characters.',
      );
      const eight = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`k${i}`, 'v'.repeat(384)]));
      assert.match((await grant({ KeyId: k.id, Constraints: { EncryptionContextEquals: eight } })).GrantId, GRANT_ID);
    });

    test('validates Name against the model pattern', async () => {
      const k = await newKey();
      await rejects(grant({ KeyId: k.id, Name: 'no spaces' }), 'ValidationException', validation('name', 'satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$', 'no spaces'));
      await rejects(grant({ KeyId: k.id, Name: 'n'.repeat(257) }), 'ValidationException', validation('name', 'have length less than or equal to 256', 'n'.repeat(257)));
    });

    test('follows the key state matrix: Disabled, PendingDeletion and PendingImport keys refuse grants', async () => {
      const disabled = await newKey();
      await kms.send(new DisableKeyCommand({ KeyId: disabled.id }));
      await rejects(grant({ KeyId: disabled.id }), 'DisabledException', `${disabled.arn} is disabled.`);
      const deleting = await newKey();
      await kms.send(new ScheduleKeyDeletionCommand({ KeyId: deleting.id, PendingWindowInDays: 7 }));
      await rejects(grant({ KeyId: deleting.id }), 'KMSInvalidStateException', `${deleting.arn} is pending deletion.`);
      const external = await newKey({ Origin: 'EXTERNAL' });
      await rejects(grant({ KeyId: external.id }), 'KMSInvalidStateException', `${external.arn} is pending import.`);
    });

    test('unknown keys and aliases are NotFoundException; AWS managed keys refuse grants', async () => {
      const missing = `arn:aws:kms:${region}:${account}:key/00000000-0000-4000-8000-000000000000`;
      await rejects(grant({ KeyId: missing }), 'NotFoundException', `Key '${missing}' does not exist`);
      await rejects(grant({ KeyId: 'alias/anything' }), 'NotFoundException', 'Invalid keyId alias/anything');
      const { KeyMetadata: m } = await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/s3' }));
      await rejects(
        grant({ KeyId: m!.Arn! }),
        'AccessDeniedException',
        `User: arn:aws:iam::${account}:root is not authorized to perform: kms:CreateGrant on resource: ${m!.Arn} because no resource-based policy allows the kms:CreateGrant action`,
      );
      assert.deepEqual(await grantsOf(m!.Arn!), []);
    });

    test('DryRun answers DryRunOperationException and creates nothing; invalid requests still fail as usual', async () => {
      const k = await newKey();
      await rejects(grant({ KeyId: k.id, DryRun: true }), 'DryRunOperationException', DRY_RUN);
      assert.deepEqual(await grantsOf(k.id), []);
      await rejects(grant({ KeyId: k.id, DryRun: true, Operations: ['Sign'] }), 'ValidationException', /^The operation Sign cannot be granted/);
    });

    test('GrantTokens must be tokens Keyhold issued', async () => {
      const k = await newKey();
      const g = await grant({ KeyId: k.id, Operations: ['Decrypt', 'CreateGrant'] });
      assert.match((await grant({ KeyId: k.id, GrantTokens: [g.GrantToken] })).GrantId, GRANT_ID);
      await rejects(grant({ KeyId: k.id, GrantTokens: [g.GrantToken, 'not-a-token'] }), 'InvalidGrantTokenException', INVALID_TOKEN);
      await rejects(
        grant({ KeyId: k.id, GrantTokens: Array.from({ length: 11 }, () => g.GrantToken) }),
        'ValidationException',
        validation('grantTokens', 'have length less than or equal to 10', `[${Array.from({ length: 11 }, () => g.GrantToken).join(', ')}]`),
      );
    });
  });

  describe('ListGrants', () => {
    test('pages by creation time with Limit, Truncated and NextMarker; every grant once', async () => {
      const k = await newKey();
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) ids.push((await grant({ KeyId: k.id })).GrantId);
      const seen: string[] = [];
      let marker: string | undefined;
      const sizes: number[] = [];
      for (;;) {
        const p = await kms.send(new ListGrantsCommand({ KeyId: k.id, Limit: 3, ...(marker ? { Marker: marker } : {}) }));
        sizes.push(p.Grants!.length);
        seen.push(...p.Grants!.map((e) => e.GrantId!));
        if (p.Truncated !== true) {
          assert.equal(p.NextMarker, undefined);
          break;
        }
        marker = p.NextMarker;
      }
      assert.deepEqual(sizes, [3, 3, 1]);
      assert.deepEqual([...seen].sort(), [...ids].sort());
      const all = await kms.send(new ListGrantsCommand({ KeyId: k.id }));
      assert.deepEqual(all.Grants!.map((e) => e.GrantId), seen);
      assert.equal(all.Truncated, false);
      // By creation time (grants made in the same millisecond by grant id).
      const order = all.Grants!.map((e) => [e.CreationDate!.getTime(), e.GrantId!] as const);
      assert.deepEqual(order, [...order].sort((x, y) => x[0] - y[0] || (x[1] < y[1] ? -1 : 1)));
    });

    test('Limit is 1–100 and a foreign Marker is InvalidMarkerException', async () => {
      const k = await newKey();
      await rejects(kms.send(new ListGrantsCommand({ KeyId: k.id, Limit: 101 })), 'ValidationException', validation('limit', 'have value less than or equal to 100', 101));
      await rejects(kms.send(new ListGrantsCommand({ KeyId: k.id, Limit: 0 })), 'ValidationException', validation('limit', 'have value greater than or equal to 1', 0));
      await rejects(kms.send(new ListGrantsCommand({ KeyId: k.id, Marker: 'bogus' })), 'InvalidMarkerException', 'The marker is not valid.');
      const aliasMarker = Buffer.from('kh1:alias/x').toString('base64url');
      await rejects(kms.send(new ListGrantsCommand({ KeyId: k.id, Marker: aliasMarker })), 'InvalidMarkerException', 'The marker is not valid.');
    });

    test('filters by GrantId and GranteePrincipal; a grant id of another key is InvalidGrantIdException', async () => {
      const k = await newKey();
      const other = await newKey();
      const a = await grant({ KeyId: k.id });
      const b = await grant({ KeyId: k.id, GranteePrincipal: bob });
      await grant({ KeyId: k.id, GranteePrincipal: bob });
      const elsewhere = await grant({ KeyId: other.id });
      const byId = await kms.send(new ListGrantsCommand({ KeyId: k.id, GrantId: b.GrantId }));
      assert.deepEqual(byId.Grants!.map((e) => e.GrantId), [b.GrantId]);
      const byGrantee = await kms.send(new ListGrantsCommand({ KeyId: k.id, GranteePrincipal: alice }));
      assert.deepEqual(byGrantee.Grants!.map((e) => e.GrantId), [a.GrantId]);
      const both = await kms.send(new ListGrantsCommand({ KeyId: k.id, GrantId: a.GrantId, GranteePrincipal: bob }));
      assert.deepEqual(both.Grants, []);
      await rejects(kms.send(new ListGrantsCommand({ KeyId: k.id, GrantId: elsewhere.GrantId })), 'InvalidGrantIdException', INVALID_GRANT_ID);
      await rejects(kms.send(new ListGrantsCommand({ KeyId: k.id, GrantId: 'f'.repeat(64) })), 'InvalidGrantIdException', INVALID_GRANT_ID);
      await rejects(
        kms.send(new ListGrantsCommand({ KeyId: k.id, GranteeServicePrincipal: 'logs.us-east-1.amazonaws.com' })),
        'AccessDeniedException',
        `User: arn:aws:iam::${account}:root is not authorized to filter grants by GranteeServicePrincipal: only AWS service principals may.`,
      );
    });

    test('works in every key state', async () => {
      const k = await newKey();
      const g = await grant({ KeyId: k.id });
      await kms.send(new DisableKeyCommand({ KeyId: k.id }));
      assert.deepEqual((await grantsOf(k.id)).map((e) => e.GrantId), [g.GrantId]);
      await kms.send(new ScheduleKeyDeletionCommand({ KeyId: k.id, PendingWindowInDays: 7 }));
      assert.deepEqual((await grantsOf(k.arn)).map((e) => e.GrantId), [g.GrantId]);
    });
  });

  describe('RetireGrant and RevokeGrant', () => {
    test('RetireGrant by token, by key ARN and grant id, and by key id and grant id', async () => {
      const k = await newKey();
      const a = await grant({ KeyId: k.id });
      const b = await grant({ KeyId: k.id });
      const c = await grant({ KeyId: k.id });
      await kms.send(new RetireGrantCommand({ GrantToken: a.GrantToken }));
      await kms.send(new RetireGrantCommand({ KeyId: k.arn, GrantId: b.GrantId }));
      assert.deepEqual((await grantsOf(k.id)).map((e) => e.GrantId), [c.GrantId]);
      await kms.send(new RetireGrantCommand({ KeyId: k.id, GrantId: c.GrantId }));
      assert.deepEqual(await grantsOf(k.id), []);
      await rejects(kms.send(new RetireGrantCommand({ KeyId: k.id, GrantId: c.GrantId })), 'InvalidGrantIdException', INVALID_GRANT_ID);
    });

    test('RetireGrant validates what names the grant', async () => {
      const k = await newKey();
      const other = await newKey();
      const g = await grant({ KeyId: k.id });
      await rejects(kms.send(new RetireGrantCommand({})), 'ValidationException', 'Specify either a GrantToken, or both a KeyId and a GrantId.');
      await rejects(kms.send(new RetireGrantCommand({ GrantId: g.GrantId })), 'ValidationException', 'Specify either a GrantToken, or both a KeyId and a GrantId.');
      await rejects(kms.send(new RetireGrantCommand({ KeyId: other.id, GrantId: g.GrantId })), 'InvalidGrantIdException', INVALID_GRANT_ID);
      await rejects(kms.send(new RetireGrantCommand({ GrantToken: g.GrantToken, GrantId: 'a'.repeat(64) })), 'InvalidGrantIdException', INVALID_GRANT_ID);
      await rejects(kms.send(new RetireGrantCommand({ GrantToken: g.GrantToken, KeyId: other.arn })), 'InvalidGrantIdException', INVALID_GRANT_ID);
      const missing = `arn:aws:kms:${region}:${account}:key/00000000-0000-4000-8000-000000000000`;
      await rejects(kms.send(new RetireGrantCommand({ KeyId: missing, GrantId: g.GrantId })), 'NotFoundException', `Key '${missing}' does not exist`);
      await rejects(kms.send(new RetireGrantCommand({ KeyId: 'alias/x', GrantId: g.GrantId })), 'NotFoundException', 'Invalid keyId alias/x');
      assert.deepEqual((await grantsOf(k.id)).map((e) => e.GrantId), [g.GrantId]);
    });

    test('a token that Keyhold did not make is InvalidGrantTokenException: altered, foreign or malformed', async () => {
      const k = await newKey();
      const g = await grant({ KeyId: k.id });
      const flipped = g.GrantToken.slice(0, 40) + (g.GrantToken[40] === 'A' ? 'B' : 'A') + g.GrantToken.slice(41);
      const foreign = encodeGrantToken(g.GrantId, randomBytes(32));
      for (const t of [flipped, foreign, 'x', g.GrantToken + 'A', g.GrantToken.slice(0, 107), Buffer.from(g.GrantToken).toString('base64')]) {
        await rejects(kms.send(new RetireGrantCommand({ GrantToken: t })), 'InvalidGrantTokenException', INVALID_TOKEN);
      }
      await rejects(
        kms.send(new RetireGrantCommand({ GrantToken: 't'.repeat(8193) })),
        'ValidationException',
        validation('grantToken', 'have length less than or equal to 8192', 't'.repeat(8193)),
      );
      assert.equal((await grantsOf(k.id)).length, 1);
    });

    test('DryRun leaves the grant in place; retiring works in every key state', async () => {
      const k = await newKey();
      const g = await grant({ KeyId: k.id });
      await rejects(kms.send(new RetireGrantCommand({ GrantToken: g.GrantToken, DryRun: true })), 'DryRunOperationException', DRY_RUN);
      await rejects(kms.send(new RevokeGrantCommand({ KeyId: k.id, GrantId: g.GrantId, DryRun: true })), 'DryRunOperationException', DRY_RUN);
      assert.equal((await grantsOf(k.id)).length, 1);
      await kms.send(new ScheduleKeyDeletionCommand({ KeyId: k.id, PendingWindowInDays: 7 }));
      await kms.send(new RetireGrantCommand({ GrantToken: g.GrantToken }));
      assert.deepEqual(await grantsOf(k.id), []);
    });

    test('RevokeGrant deletes a grant of the key named; other keys\' grant ids are InvalidGrantIdException', async () => {
      const k = await newKey();
      const other = await newKey();
      const g = await grant({ KeyId: k.id });
      const h = await grant({ KeyId: other.id });
      await rejects(kms.send(new RevokeGrantCommand({ KeyId: k.id, GrantId: h.GrantId })), 'InvalidGrantIdException', INVALID_GRANT_ID);
      await rejects(kms.send(new RevokeGrantCommand({ KeyId: k.id, GrantId: undefined as unknown as string })), 'ValidationException', validation('grantId', 'not be null', null));
      await kms.send(new DisableKeyCommand({ KeyId: k.id }));
      await kms.send(new RevokeGrantCommand({ KeyId: k.arn, GrantId: g.GrantId }));
      assert.deepEqual(await grantsOf(k.id), []);
      await rejects(kms.send(new RevokeGrantCommand({ KeyId: k.id, GrantId: g.GrantId })), 'InvalidGrantIdException', INVALID_GRANT_ID);
      // A token of a revoked grant names nothing any more.
      await rejects(kms.send(new RetireGrantCommand({ GrantToken: g.GrantToken })), 'NotFoundException', 'The grant that the grant token identifies does not exist.');
      assert.equal((await grantsOf(other.id)).length, 1);
    });
  });

  describe('principals other than the account root', () => {
    let userCreds: Creds;
    let userArn: string;
    let user: KMSClient;
    let other: KMSClient;
    let otherAccount: string;
    let otherRoot: string;

    before(async () => {
      const iam = (action: string, params: Record<string, string>) => query(server.port, 'iam', action, params, server.credentials);
      assert.equal((await iam('CreateUser', { UserName: 'grantee' })).status, 200);
      assert.equal((await iam('PutUserPolicy', { UserName: 'grantee', PolicyName: 'kms', PolicyDocument: KMS_ALL })).status, 200);
      userCreds = credsFrom((await iam('CreateAccessKey', { UserName: 'grantee' })).body);
      userArn = `arn:aws:iam::${account}:user/grantee`;
      user = server.client(userCreds);
      const r = await keyhold(['accounts', 'create', '--data-dir', server.dataDir, '--profile', 'other']);
      assert.equal(r.code, 0, r.stderr);
      otherAccount = /created account (\d{12})/.exec(r.stdout)?.[1] as string;
      otherRoot = `arn:aws:iam::${otherAccount}:root`;
      const text = readFileSync(join(server.dataDir, 'credentials'), 'utf8');
      const section = text.slice(text.indexOf('[other]'));
      other = server.client({
        accessKeyId: /aws_access_key_id = (\S+)/.exec(section)?.[1] as string,
        secretAccessKey: /aws_secret_access_key = (\S+)/.exec(section)?.[1] as string,
      });
    });
    after(() => {
      user?.destroy();
      other?.destroy();
    });

    test('a grantee whose grant allows RetireGrant retires it, and so does the retiring principal', async () => {
      const k = await newKey();
      const withRetire = await grant({ KeyId: k.id, GranteePrincipal: userArn, Operations: ['Decrypt', 'RetireGrant'] });
      await user.send(new RetireGrantCommand({ GrantToken: withRetire.GrantToken }));
      const retiring = await grant({ KeyId: k.id, RetiringPrincipal: userArn });
      await user.send(new RetireGrantCommand({ KeyId: k.arn, GrantId: retiring.GrantId }));
      assert.deepEqual(await grantsOf(k.id), []);
    });

    test('another account retires by key ARN only the grants that name it, and lists them as retirable', async () => {
      const k = await newKey();
      const mine = await grant({ KeyId: k.id, RetiringPrincipal: otherRoot });
      const notMine = await grant({ KeyId: k.id, GranteePrincipal: otherRoot, RetiringPrincipal: bob });
      const listed = await other.send(new ListRetirableGrantsCommand({ RetiringPrincipal: otherRoot }));
      assert.deepEqual(listed.Grants!.map((e) => [e.GrantId, e.KeyId, e.IssuingAccount]), [[mine.GrantId, k.arn, `arn:aws:iam::${account}:root`]]);
      await rejects(
        other.send(new RetireGrantCommand({ KeyId: k.arn, GrantId: notMine.GrantId })),
        'AccessDeniedException',
        `User: ${otherRoot} is not authorized to perform: kms:RetireGrant on resource: ${k.arn} because the grant does not name it as its retiring principal or as a grantee allowed to retire it`,
      );
      await rejects(other.send(new RetireGrantCommand({ KeyId: k.id, GrantId: mine.GrantId })), 'NotFoundException', /^Key 'arn:aws:kms:.*' does not exist$/);
      await other.send(new RetireGrantCommand({ KeyId: k.arn, GrantId: mine.GrantId }));
      assert.deepEqual((await grantsOf(k.id)).map((e) => e.GrantId), [notMine.GrantId]);
      assert.deepEqual((await other.send(new ListRetirableGrantsCommand({ RetiringPrincipal: otherRoot }))).Grants, []);
    });

    test('ListRetirableGrants: principals of the caller\'s account only, paginated across keys', async () => {
      const retirer = `arn:aws:iam::${account}:role/retirer`;
      const k1 = await newKey();
      const k2 = await newKey();
      const ids = [
        (await grant({ KeyId: k1.id, RetiringPrincipal: retirer })).GrantId,
        (await grant({ KeyId: k2.id, RetiringPrincipal: retirer })).GrantId,
        (await grant({ KeyId: k1.id, RetiringPrincipal: retirer })).GrantId,
      ];
      await grant({ KeyId: k2.id, RetiringPrincipal: bob });
      const first = await kms.send(new ListRetirableGrantsCommand({ RetiringPrincipal: retirer, Limit: 2 }));
      assert.equal(first.Truncated, true);
      const second = await kms.send(new ListRetirableGrantsCommand({ RetiringPrincipal: retirer, Limit: 2, Marker: first.NextMarker! }));
      assert.equal(second.Truncated, false);
      assert.deepEqual([...first.Grants!, ...second.Grants!].map((e) => e.GrantId).sort(), [...ids].sort());
      await rejects(
        kms.send(new ListRetirableGrantsCommand({ RetiringPrincipal: otherRoot })),
        'AccessDeniedException',
        `User: arn:aws:iam::${account}:root is not authorized to perform: kms:ListRetirableGrants on resource: ${otherRoot} because no resource-based policy allows the kms:ListRetirableGrants action`,
      );
      await rejects(kms.send(new ListRetirableGrantsCommand({})), 'ValidationException', validation('retiringPrincipal', 'not be null', null));
      await rejects(
        kms.send(new ListRetirableGrantsCommand({ RetiringPrincipal: 'dynamodb.us-east-1.amazonaws.com' })),
        'InvalidArnException',
        'RetiringPrincipal must be the ARN of an AWS principal.',
      );
      await rejects(
        kms.send(new ListRetirableGrantsCommand({ RetiringPrincipal: retirer, Limit: 101 })),
        'ValidationException',
        validation('limit', 'have value less than or equal to 100', 101),
      );
    });
  });

  test('a key holds at most 50,000 grants: LimitExceededException, named retries still answered, room again after a revoke', async () => {
    const k = await newKey();
    const named = await grant({ KeyId: k.id, Name: 'kept' });
    // Fill the key to one below the quota straight in the database (the server sees other connections' commits).
    // On PostgreSQL (test/on-postgres/) the same rows, in one statement.
    const onPostgres = await serverSql(
      server.dataDir,
      `INSERT INTO grants (grant_id, key_arn, region, issuing_account, grantee_principal, operations, creation_date)
       SELECT replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), $1, $2, $3, $4, '["Decrypt"]', 1700000000000 + i FROM generate_series(0, 49997) AS i`,
      [k.arn, region, account, alice],
    );
    if (onPostgres === undefined) {
      const db = new Database(join(server.dataDir, 'keyhold.db'));
      try {
        db.pragma('busy_timeout = 10000');
        const insert = db.prepare(
          `INSERT INTO grants (grant_id, key_arn, region, issuing_account, grantee_principal, operations, creation_date)
           VALUES (?, ?, ?, ?, ?, '["Decrypt"]', ?)`,
        );
        db.transaction(() => {
          for (let i = 0; i < 49_998; i++) insert.run(randomBytes(32).toString('hex'), k.arn, region, account, alice, 1_700_000_000_000 + i);
        })();
      } finally {
        db.close();
      }
    }
    const last = await grant({ KeyId: k.id });
    await rejects(grant({ KeyId: k.id }), 'LimitExceededException', `The request would give ${k.arn} more than 50000 grants.`);
    assert.equal((await grant({ KeyId: k.id, Name: 'kept' })).GrantId, named.GrantId);
    await kms.send(new RevokeGrantCommand({ KeyId: k.id, GrantId: last.GrantId }));
    assert.match((await grant({ KeyId: k.id })).GrantId, GRANT_ID);
  });
});
