/**
 * Issue 8: every operation's response, produced through the wire for a representative call,
 * conforms to AWS's generated output shape — required members present, no member the model
 * lacks, blobs base64 and timestamps epoch seconds (awsJson1_1), enums in the model's set —
 * and the AWS SDK v3 parses it into the types the model promises (bytes, Dates). The same for
 * the Query (XML) responses of IAM and STS (ISO 8601 timestamps, `<member>` lists,
 * ResponseMetadata/RequestId), Organizations and CloudTrail LookupEvents.
 */
import assert from 'node:assert/strict';
import { createPublicKey, diffieHellman, generateKeyPairSync, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import * as cloudtrail from '@aws-sdk/client-cloudtrail';
import * as iam from '@aws-sdk/client-iam';
import * as kms from '@aws-sdk/client-kms';
import * as organizations from '@aws-sdk/client-organizations';
import * as sts from '@aws-sdk/client-sts';
import { CLOUDTRAIL_OUTPUTS } from '../../src/model/cloudtrail-outputs';
import { IAM_OUTPUTS } from '../../src/model/iam-outputs';
import { KMS_OUTPUTS } from '../../src/model/kms-outputs';
import { ORGANIZATIONS_OUTPUTS } from '../../src/model/organizations-outputs';
import type { StructureShape } from '../../src/model/shape-types';
import { STS_OUTPUTS } from '../../src/model/sts-outputs';
import { cloudTrailOperations } from '../../src/operations/cloudtrail-registry';
import { IAM_OPERATIONS } from '../../src/operations/iam/registry';
import { ORGANIZATIONS_OPERATIONS } from '../../src/operations/organizations/registry';
import { KMS_OPERATIONS } from '../../src/operations/registry';
import { STS_OPERATIONS } from '../../src/operations/sts/registry';
import { opensslWrap } from '../helpers/openssl-import';
import { CapturingHandler, jsonViolations, parsedViolations, unknownXmlElements, xmlTimestamps } from '../helpers/output-conformance';
import { startServer, stopAndRemove, type TestServer } from '../helpers/server';

const REGIONS = ['us-east-1', 'eu-west-1'];

let server: TestServer;
before(async () => {
  server = await startServer({ args: ['--regions', REGIONS.join(',')] });
});
after(async () => {
  await stopAndRemove(server);
});

function clientConfig(handler: CapturingHandler, region = 'us-east-1') {
  return { endpoint: server.endpoint, region, credentials: server.credentials, maxAttempts: 1, requestHandler: handler };
}

/** Sends `${op}Command` of an SDK module; checks the SDK's parse against the shape too. */
async function call<T>(
  sdk: Record<string, unknown>, client: { send(c: unknown): Promise<unknown> }, op: string, input: object, shape: StructureShape, expected: string[] = [],
): Promise<T> {
  const Command = sdk[`${op}Command`] as new (i: object) => unknown;
  assert.ok(Command !== undefined, `${op}Command`);
  const out = (await client.send(new Command(input))) as T;
  assert.deepEqual(parsedViolations(shape, out), expected, `${op}: the SDK's parse conforms to the output shape`);
  return out;
}

describe('KMS: every operation answers in its generated output shape', () => {
  const handler = new CapturingHandler();
  const called = new Set<string>();
  let client: kms.KMSClient;
  let euClient: kms.KMSClient;
  before(() => {
    client = new kms.KMSClient(clientConfig(handler));
    euClient = new kms.KMSClient(clientConfig(handler, 'eu-west-1'));
  });
  after(() => {
    client.destroy();
    euClient.destroy();
  });
  const k = <T = any>(op: string, input: object, c: kms.KMSClient = client): Promise<T> => {
    called.add(op);
    return call<T>(kms as unknown as Record<string, unknown>, c, op, input, KMS_OUTPUTS[op as keyof typeof KMS_OUTPUTS] as StructureShape);
  };

  test('a representative call of each of the 49 implemented operations', { timeout: 240_000 }, async () => {
    const account = server.accountId;
    const alice = `arn:aws:iam::${account}:user/alice`;
    // Symmetric: the hot path and the key lifecycle.
    const sym = (await k('CreateKey', { Description: 'conformance', Tags: [{ TagKey: 'team', TagValue: 'a' }] })).KeyMetadata;
    const ct = await k('Encrypt', { KeyId: sym.KeyId, Plaintext: Buffer.from('hello'), EncryptionContext: { purpose: 'test' } });
    assert.ok(ct.CiphertextBlob instanceof Uint8Array && ct.CiphertextBlob.length > 5);
    const pt = await k('Decrypt', { CiphertextBlob: ct.CiphertextBlob, EncryptionContext: { purpose: 'test' } });
    assert.equal(Buffer.from(pt.Plaintext).toString(), 'hello', 'the plaintext survives its zeroing after encoding');
    const dk = await k('GenerateDataKey', { KeyId: sym.KeyId, KeySpec: 'AES_256' });
    assert.equal(dk.Plaintext.length, 32);
    assert.ok(dk.Plaintext.some((b: number) => b !== 0), 'a data key is not the zeroed buffer');
    const back = await k('Decrypt', { CiphertextBlob: dk.CiphertextBlob });
    assert.deepEqual(Buffer.from(back.Plaintext), Buffer.from(dk.Plaintext));
    await k('GenerateDataKeyWithoutPlaintext', { KeyId: sym.KeyId, NumberOfBytes: 16 });
    await k('ReEncrypt', { CiphertextBlob: ct.CiphertextBlob, SourceEncryptionContext: { purpose: 'test' }, DestinationKeyId: sym.KeyId });
    const random = await k('GenerateRandom', { NumberOfBytes: 64 });
    assert.equal(random.Plaintext.length, 64);
    assert.ok(random.Plaintext.some((b: number) => b !== 0));
    await k('DescribeKey', { KeyId: sym.KeyId });
    await k('ListKeys', { Limit: 5 });
    await k('CreateAlias', { AliasName: 'alias/conformance', TargetKeyId: sym.KeyId });
    const other = (await k('CreateKey', {})).KeyMetadata;
    await k('UpdateAlias', { AliasName: 'alias/conformance', TargetKeyId: other.KeyId });
    await k('ListAliases', {});
    await k('DeleteAlias', { AliasName: 'alias/conformance' });
    await k('TagResource', { KeyId: sym.KeyId, Tags: [{ TagKey: 'env', TagValue: 'dev' }] });
    await k('ListResourceTags', { KeyId: sym.KeyId });
    await k('UntagResource', { KeyId: sym.KeyId, TagKeys: ['env'] });
    const policy = (await k('GetKeyPolicy', { KeyId: sym.KeyId, PolicyName: 'default' })).Policy;
    await k('PutKeyPolicy', { KeyId: sym.KeyId, PolicyName: 'default', Policy: policy });
    await k('ListKeyPolicies', { KeyId: sym.KeyId });
    await k('UpdateKeyDescription', { KeyId: sym.KeyId, Description: 'changed' });
    await k('EnableKeyRotation', { KeyId: sym.KeyId, RotationPeriodInDays: 90 });
    await k('GetKeyRotationStatus', { KeyId: sym.KeyId });
    await k('RotateKeyOnDemand', { KeyId: sym.KeyId });
    await k('ListKeyRotations', { KeyId: sym.KeyId });
    await k('DisableKeyRotation', { KeyId: sym.KeyId });
    await k('DisableKey', { KeyId: other.KeyId });
    await k('EnableKey', { KeyId: other.KeyId });
    const scheduled = await k('ScheduleKeyDeletion', { KeyId: other.KeyId, PendingWindowInDays: 7 });
    assert.ok(scheduled.DeletionDate instanceof Date && scheduled.DeletionDate.getTime() > Date.now());
    await k('DescribeKey', { KeyId: other.KeyId }); // DeletionDate, PendingDeletionWindowInDays
    await k('CancelKeyDeletion', { KeyId: other.KeyId });
    // Grants.
    const grant = await k('CreateGrant', { KeyId: sym.KeyId, GranteePrincipal: alice, RetiringPrincipal: alice, Operations: ['Encrypt', 'Decrypt'], Constraints: { EncryptionContextSubset: { app: 'x' } } });
    await k('ListGrants', { KeyId: sym.KeyId });
    await k('ListRetirableGrants', { RetiringPrincipal: alice });
    await k('RetireGrant', { KeyId: sym.KeyId, GrantId: grant.GrantId });
    const grant2 = await k('CreateGrant', { KeyId: sym.KeyId, GranteePrincipal: alice, Operations: ['Decrypt'] });
    await k('RevokeGrant', { KeyId: sym.KeyId, GrantId: grant2.GrantId });
    // Asymmetric and HMAC.
    const rsa = (await k('CreateKey', { KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' })).KeyMetadata;
    await k('GetPublicKey', { KeyId: rsa.KeyId });
    const ecc = (await k('CreateKey', { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' })).KeyMetadata;
    const sig = await k('Sign', { KeyId: ecc.KeyId, Message: Buffer.from('msg'), SigningAlgorithm: 'ECDSA_SHA_256' });
    await k('Verify', { KeyId: ecc.KeyId, Message: Buffer.from('msg'), Signature: sig.Signature, SigningAlgorithm: 'ECDSA_SHA_256' });
    const hmac = (await k('CreateKey', { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' })).KeyMetadata;
    const mac = await k('GenerateMac', { KeyId: hmac.KeyId, Message: Buffer.from('msg'), MacAlgorithm: 'HMAC_SHA_256' });
    await k('VerifyMac', { KeyId: hmac.KeyId, Message: Buffer.from('msg'), Mac: mac.Mac, MacAlgorithm: 'HMAC_SHA_256' });
    const pair = await k('GenerateDataKeyPair', { KeyId: sym.KeyId, KeyPairSpec: 'ECC_NIST_P256' });
    assert.ok(pair.PrivateKeyPlaintext.length > 30 && pair.PrivateKeyPlaintext.some((b: number) => b !== 0));
    await k('GenerateDataKeyPairWithoutPlaintext', { KeyId: sym.KeyId, KeyPairSpec: 'RSA_2048' });
    // Key agreement and ML-KEM: the secrets arrive intact although the encoder zeroes them once written.
    const agreement = (await k('CreateKey', { KeySpec: 'ECC_NIST_P256', KeyUsage: 'KEY_AGREEMENT' })).KeyMetadata;
    const agreementPublic = createPublicKey({ key: Buffer.from((await k('GetPublicKey', { KeyId: agreement.KeyId })).PublicKey), format: 'der', type: 'spki' });
    const peer = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const derived = await k('DeriveSharedSecret', {
      KeyId: agreement.KeyId, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer.publicKey.export({ format: 'der', type: 'spki' }),
    });
    assert.deepEqual(Buffer.from(derived.SharedSecret), diffieHellman({ privateKey: peer.privateKey, publicKey: agreementPublic }));
    const kem = (await k('CreateKey', { KeySpec: 'ML_KEM_768', KeyUsage: 'ENCAPSULATE_DECAPSULATE' })).KeyMetadata;
    const encapsulated = await k('Encapsulate', { KeyId: kem.KeyId, EncapsulationAlgorithm: 'ML_KEM' });
    const decapsulated = await k('Decapsulate', {
      KeyId: kem.KeyId, EncapsulationAlgorithm: 'ML_KEM', SharedSecretCiphertextBlob: encapsulated.SharedSecretCiphertextBlob,
    });
    assert.equal(encapsulated.SharedSecret.length, 32);
    assert.ok(encapsulated.SharedSecret.some((b: number) => b !== 0));
    assert.deepEqual(Buffer.from(decapsulated.SharedSecret), Buffer.from(encapsulated.SharedSecret));
    // Imported key material.
    const ext = (await k('CreateKey', { Origin: 'EXTERNAL' })).KeyMetadata;
    const params = await k('GetParametersForImport', { KeyId: ext.KeyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' });
    const material = randomBytes(32);
    await k('ImportKeyMaterial', {
      KeyId: ext.KeyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: opensslWrap('RSAES_OAEP_SHA_256', params.PublicKey, material),
      ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: new Date(Date.now() + 86_400_000),
    });
    await k('DescribeKey', { KeyId: ext.KeyId }); // ValidTo, ExpirationModel
    await k('DeleteImportedKeyMaterial', { KeyId: ext.KeyId });
    // Multi-Region.
    const primary = (await k('CreateKey', { MultiRegion: true })).KeyMetadata;
    await k('ReplicateKey', { KeyId: primary.KeyId, ReplicaRegion: 'eu-west-1' });
    await k('DescribeKey', { KeyId: primary.KeyId }); // MultiRegionConfiguration
    await k('UpdatePrimaryRegion', { KeyId: primary.Arn, PrimaryRegion: 'eu-west-1' });

    assert.deepEqual([...called].sort(), Object.keys(KMS_OPERATIONS).sort(), 'every implemented KMS operation was called');
  });

  test('each raw JSON body conforms to the output shape: base64 blobs, epoch-second timestamps, no extra or null members', () => {
    assert.ok(handler.captured.length >= 49);
    for (const c of handler.captured) {
      assert.equal(c.status, 200, `${c.operation}: ${c.body}`);
      const shape = KMS_OUTPUTS[c.operation as keyof typeof KMS_OUTPUTS] as StructureShape;
      if (c.body === '') {
        assert.deepEqual(Object.keys(shape.members), [], `${c.operation}: an empty body only for an operation without output`);
        continue;
      }
      assert.deepEqual(jsonViolations(shape, JSON.parse(c.body)), [], `${c.operation}: ${c.body.slice(0, 300)}`);
    }
    // Spot checks of the encoding itself, on the raw text.
    const described = JSON.parse(handler.last('DescribeKey') as string) as { KeyMetadata: Record<string, unknown> };
    assert.equal(typeof described.KeyMetadata.CreationDate, 'number');
    assert.ok(!('DeletionDate' in described.KeyMetadata) || typeof described.KeyMetadata.DeletionDate === 'number');
    const encrypted = JSON.parse(handler.last('Encrypt') as string) as Record<string, unknown>;
    assert.deepEqual(Object.keys(encrypted), ['CiphertextBlob', 'KeyId', 'EncryptionAlgorithm'], 'members in model order');
  });

  test('a value of the wrong type never reaches the wire: the encoder refuses it (500 without detail)', async () => {
    const { encodeJson } = await import('../../src/protocol/json-encoder');
    assert.throws(() => encodeJson(KMS_OUTPUTS.Encrypt, { CiphertextBlob: 'not a buffer' }), /output member CiphertextBlob: not a Buffer/);
    assert.throws(() => encodeJson(KMS_OUTPUTS.DescribeKey, { KeyMetadata: { KeyId: 'k', CreationDate: 'yesterday' } }), /KeyMetadata\.CreationDate: not a timestamp/);
    const plaintext = Buffer.from('secret');
    assert.equal(encodeJson(KMS_OUTPUTS.Decrypt, { Plaintext: plaintext, KeyId: 'k', Unmodelled: 1, EncryptionAlgorithm: null }), '{"KeyId":"k","Plaintext":"c2VjcmV0"}');
    assert.deepEqual(plaintext, Buffer.alloc(6), 'a sensitive blob is zeroed once encoded');
    const ciphertext = Buffer.from('ct');
    encodeJson(KMS_OUTPUTS.Encrypt, { CiphertextBlob: ciphertext });
    assert.deepEqual(ciphertext, Buffer.from('ct'), 'an ordinary blob is left alone');
    assert.equal(encodeJson(KMS_OUTPUTS.GetKeyRotationStatus, { KeyRotationEnabled: true, NextRotationDate: 1_700_000_000_500 }), '{"KeyRotationEnabled":true,"NextRotationDate":1700000000.5}');
  });
});

describe('IAM and STS (Query XML), Organizations and CloudTrail (JSON): responses in their generated output shapes', () => {
  test('IAM: a representative call of each implemented operation, parsed by @aws-sdk/client-iam', { timeout: 180_000 }, async () => {
    const handler = new CapturingHandler();
    const client = new iam.IAMClient(clientConfig(handler));
    const called = new Set<string>();
    const i = <T = any>(op: string, input: object, expected: string[] = []): Promise<T> => {
      called.add(op);
      return call<T>(iam as unknown as Record<string, unknown>, client, op, input, IAM_OUTPUTS[op as keyof typeof IAM_OUTPUTS] as StructureShape, expected);
    };
    try {
      const doc = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:Encrypt', Resource: '*' }] });
      const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${server.accountId}:root` }, Action: 'sts:AssumeRole' }] });
      await i('CreateUser', { UserName: 'carol', Tags: [{ Key: 'team', Value: 'a' }] });
      await i('GetUser', { UserName: 'carol' });
      // The account root: AWS answers UserId, Arn and CreateDate only, though the model requires
      // Path and UserName (docs/compatibility.md).
      await i('GetUser', {}, ['$.User.Path: required member missing', '$.User.UserName: required member missing']);
      await i('TagUser', { UserName: 'carol', Tags: [{ Key: 'env', Value: 'dev' }] });
      await i('ListUsers', {});
      const created = await i('CreateAccessKey', { UserName: 'carol' });
      await i('ListAccessKeys', { UserName: 'carol' });
      await i('UpdateAccessKey', { UserName: 'carol', AccessKeyId: created.AccessKey.AccessKeyId, Status: 'Inactive' });
      await i('DeleteAccessKey', { UserName: 'carol', AccessKeyId: created.AccessKey.AccessKeyId });
      await i('PutUserPolicy', { UserName: 'carol', PolicyName: 'p', PolicyDocument: doc });
      await i('GetUserPolicy', { UserName: 'carol', PolicyName: 'p' });
      await i('DeleteUserPolicy', { UserName: 'carol', PolicyName: 'p' });
      const managed = await i('CreatePolicy', { PolicyName: 'managed', PolicyDocument: doc, Description: 'd' });
      await i('AttachUserPolicy', { UserName: 'carol', PolicyArn: managed.Policy.Arn });
      await i('DetachUserPolicy', { UserName: 'carol', PolicyArn: managed.Policy.Arn });
      await i('CreateGroup', { GroupName: 'devs' });
      await i('AddUserToGroup', { GroupName: 'devs', UserName: 'carol' });
      await i('PutGroupPolicy', { GroupName: 'devs', PolicyName: 'p', PolicyDocument: doc });
      await i('AttachGroupPolicy', { GroupName: 'devs', PolicyArn: managed.Policy.Arn });
      await i('CreateRole', { RoleName: 'app', AssumeRolePolicyDocument: trust, Description: 'r', MaxSessionDuration: 7200 });
      await i('GetRole', { RoleName: 'app' });
      await i('TagRole', { RoleName: 'app', Tags: [{ Key: 'env', Value: 'dev' }] });
      await i('PutRolePolicy', { RoleName: 'app', PolicyName: 'p', PolicyDocument: doc });
      await i('AttachRolePolicy', { RoleName: 'app', PolicyArn: managed.Policy.Arn });
      await i('CreateAccountAlias', { AccountAlias: 'conformance-alias' });
      await i('ListAccountAliases', {});
      await i('DeleteAccountAlias', { AccountAlias: 'conformance-alias' });
      await i('CreateUser', { UserName: 'dave' });
      await i('DeleteUser', { UserName: 'dave' });
      await i('DeleteRole', { RoleName: 'app' }).catch((e: Error) => assert.equal(e.name, 'DeleteConflictException'));
      assert.deepEqual([...called].sort(), Object.keys(IAM_OPERATIONS).sort(), 'every implemented IAM operation was called');
      for (const c of handler.captured) {
        if (c.status !== 200) continue;
        const shape = IAM_OUTPUTS[c.operation as keyof typeof IAM_OUTPUTS] as StructureShape;
        assert.deepEqual(unknownXmlElements(shape, c.body, c.operation), [], `${c.operation}: ${c.body.slice(0, 300)}`);
        for (const t of xmlTimestamps(shape, c.body)) assert.match(t, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, `${c.operation}: ISO 8601`);
        assert.match(c.body, new RegExp(`^<${c.operation}Response xmlns="https://iam.amazonaws.com/doc/2010-05-08/">.*<ResponseMetadata><RequestId>[0-9a-f-]{36}</RequestId></ResponseMetadata></${c.operation}Response>$`));
      }
      assert.match(handler.last('ListUsers') as string, /<Users><member><Path>/, 'lists as <member> items');
    } finally {
      client.destroy();
    }
  });

  test('STS: GetCallerIdentity and AssumeRole, parsed by @aws-sdk/client-sts', async () => {
    const handler = new CapturingHandler();
    const iamClient = new iam.IAMClient(clientConfig(new CapturingHandler()));
    let client: sts.STSClient | undefined;
    try {
      // Roles may not be assumed by the account root: a user with permission assumes it.
      const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${server.accountId}:root` }, Action: 'sts:AssumeRole' }] });
      const role = await iamClient.send(new iam.CreateRoleCommand({ RoleName: 'sts-conformance', AssumeRolePolicyDocument: trust }));
      await iamClient.send(new iam.CreateUserCommand({ UserName: 'sts-user' }));
      await iamClient.send(new iam.PutUserPolicyCommand({
        UserName: 'sts-user', PolicyName: 'assume',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: role.Role!.Arn }] }),
      }));
      const key = (await iamClient.send(new iam.CreateAccessKeyCommand({ UserName: 'sts-user' }))).AccessKey!;
      client = new sts.STSClient({ ...clientConfig(handler), credentials: { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! } });
      const s = sts as unknown as Record<string, unknown>;
      await call(s, client, 'GetCallerIdentity', {}, STS_OUTPUTS.GetCallerIdentity);
      const assumed = await call<any>(s, client, 'AssumeRole', { RoleArn: role.Role!.Arn, RoleSessionName: 'conf' }, STS_OUTPUTS.AssumeRole);
      assert.ok(assumed.Credentials.Expiration instanceof Date);
      assert.deepEqual(Object.keys(STS_OPERATIONS).sort(), ['AssumeRole', 'GetCallerIdentity']);
      for (const c of handler.captured) {
        assert.equal(c.status, 200, c.body);
        const shape = STS_OUTPUTS[c.operation as keyof typeof STS_OUTPUTS] as StructureShape;
        assert.deepEqual(unknownXmlElements(shape, c.body, c.operation), [], c.body);
        for (const t of xmlTimestamps(shape, c.body)) assert.match(t, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        assert.match(c.body, /<ResponseMetadata><RequestId>[0-9a-f-]{36}<\/RequestId><\/ResponseMetadata>/);
      }
    } finally {
      iamClient.destroy();
      client?.destroy();
    }
  });

  test('Organizations: a representative call of each implemented operation, parsed by @aws-sdk/client-organizations', { timeout: 120_000 }, async () => {
    const handler = new CapturingHandler();
    const client = new organizations.OrganizationsClient(clientConfig(handler));
    const called = new Set<string>();
    const o = <T = any>(op: string, input: object): Promise<T> => {
      called.add(op);
      return call<T>(organizations as unknown as Record<string, unknown>, client, op, input, ORGANIZATIONS_OUTPUTS[op as keyof typeof ORGANIZATIONS_OUTPUTS] as StructureShape);
    };
    try {
      await o('CreateOrganization', { FeatureSet: 'ALL' });
      await o('DescribeOrganization', {});
      const roots = await o('ListRoots', {});
      const rootId = roots.Roots[0].Id;
      await o('EnablePolicyType', { RootId: rootId, PolicyType: 'SERVICE_CONTROL_POLICY' });
      const created = await o('CreateAccount', { AccountName: 'member', Email: 'member@example.com' });
      await o('DescribeCreateAccountStatus', { CreateAccountRequestId: created.CreateAccountStatus.Id });
      await o('ListAccounts', {});
      const scp = await o('CreatePolicy', {
        Name: 'deny-delete', Description: 'd', Type: 'SERVICE_CONTROL_POLICY',
        Content: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 'kms:ScheduleKeyDeletion', Resource: '*' }] }),
      });
      await o('AttachPolicy', { PolicyId: scp.Policy.PolicySummary.Id, TargetId: rootId });
      await o('ListPolicies', { Filter: 'SERVICE_CONTROL_POLICY' });
      await o('ListTargetsForPolicy', { PolicyId: scp.Policy.PolicySummary.Id });
      await o('DetachPolicy', { PolicyId: scp.Policy.PolicySummary.Id, TargetId: rootId });
      assert.deepEqual([...called].sort(), Object.keys(ORGANIZATIONS_OPERATIONS).sort(), 'every implemented Organizations operation was called');
      for (const c of handler.captured) {
        assert.equal(c.status, 200, c.body);
        const shape = ORGANIZATIONS_OUTPUTS[c.operation as keyof typeof ORGANIZATIONS_OUTPUTS] as StructureShape;
        if (c.body === '') continue;
        assert.deepEqual(jsonViolations(shape, JSON.parse(c.body)), [], `${c.operation}: ${c.body.slice(0, 300)}`);
      }
    } finally {
      client.destroy();
    }
  });

  test('CloudTrail LookupEvents, parsed by @aws-sdk/client-cloudtrail', async () => {
    const handler = new CapturingHandler();
    const client = new cloudtrail.CloudTrailClient(clientConfig(handler));
    try {
      assert.deepEqual(Object.keys(cloudTrailOperations(undefined)), ['LookupEvents']);
      const out = await call<any>(cloudtrail as unknown as Record<string, unknown>, client, 'LookupEvents', { MaxResults: 5 }, CLOUDTRAIL_OUTPUTS.LookupEvents);
      assert.ok(out.Events.length > 0);
      assert.ok(out.Events[0].EventTime instanceof Date);
      const raw = JSON.parse(handler.last('LookupEvents') as string) as { Events: { EventTime: number }[] };
      assert.deepEqual(jsonViolations(CLOUDTRAIL_OUTPUTS.LookupEvents, raw), []);
      assert.ok(Number.isInteger(raw.Events[0]!.EventTime), 'whole epoch seconds');
    } finally {
      client.destroy();
    }
  });
});
