/**
 * AWS managed keys through @aws-sdk/client-kms: `alias/aws/<service>` keys created on first use
 * (DescribeKey or a cryptographic call, by alias name or alias ARN), once even under concurrent
 * first uses across two worker processes; their metadata, fixed key policy and yearly rotation;
 * the predefined aliases in ListAliases; use only through the owning service (an IAM user tagged
 * keyhold:ViaService stands in for the service, src/operations/authorize.ts); and every
 * management call AWS refuses on them, with the error name and message.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeleteAliasCommand,
  DeleteImportedKeyMaterialCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  ImportKeyMaterialCommand,
  KMSClient,
  ListAliasesCommand,
  ListKeyPoliciesCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
  ReEncryptCommand,
  ReplicateKeyCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateAliasCommand,
  UpdateKeyDescriptionCommand,
  UpdatePrimaryRegionCommand,
  type AliasListEntry,
} from '@aws-sdk/client-kms';
import { rejects } from '../helpers/assertions';
import { keyhold } from '../helpers/keyhold-cli';
import { removeDir, startServer, type TestServer } from '../helpers/server';
import { credsFrom, kmsClient, query } from '../identity/wire';

const US = 'us-east-1';
const EU = 'eu-west-1';
const DAY = 86_400_000;
const SERVICES = [
  'backup', 'dynamodb', 'ebs', 'elasticfilesystem', 'glue', 'kinesis', 'lambda', 'logs', 'rds', 'redshift', 's3',
  'secretsmanager', 'sns', 'sqs', 'ssm',
];

describe('AWS managed keys', () => {
  let server: TestServer;
  let kms: KMSClient;
  let eu: KMSClient;
  const services = new Map<string, { us: KMSClient; eu: KMSClient }>();
  const aliasArn = (name: string, region = US): string => `arn:aws:kms:${region}:${server.accountId}:${name}`;

  before(async () => {
    server = await startServer({ workers: 2, args: ['--regions', `${US},${EU}`] });
    kms = server.client();
    eu = server.client({ region: EU });
  });
  after(async () => {
    kms?.destroy();
    eu?.destroy();
    for (const c of services.values()) {
      c.us.destroy();
      c.eu.destroy();
    }
    await server?.stop();
    if (server !== undefined) removeDir(server.dataDir);
  });

  /**
   * Clients acting as `service` would: an IAM user tagged keyhold:ViaService=<service>, whose calls
   * carry kms:ViaService <service>.<region>.amazonaws.com.
   */
  async function viaService(service: string): Promise<{ us: KMSClient; eu: KMSClient }> {
    const have = services.get(service);
    if (have !== undefined) return have;
    const root = server.credentials;
    const user = `${service}-service`;
    const created = await query(server.port, 'iam', 'CreateUser', { UserName: user }, root);
    assert.equal(created.status, 200, created.body);
    // The keyhold: tag namespace is the operator's: only the CLI on the data directory sets it.
    const tagged = await keyhold(['principals', 'tag', '--data-dir', server.dataDir, '--account-id', server.accountId, '--user', user, '--tag', `keyhold:ViaService=${service}`]);
    assert.equal(tagged.code, 0, tagged.stderr);
    const key = await query(server.port, 'iam', 'CreateAccessKey', { UserName: user }, root);
    assert.equal(key.status, 200, key.body);
    const creds = credsFrom(key.body);
    const clients = { us: kmsClient(server.endpoint, creds, US), eu: kmsClient(server.endpoint, creds, EU) };
    services.set(service, clients);
    return clients;
  }

  async function allAliases(client: KMSClient, limit: number): Promise<AliasListEntry[]> {
    const out: AliasListEntry[] = [];
    let Marker: string | undefined;
    for (;;) {
      const page = await client.send(new ListAliasesCommand({ Limit: limit, Marker }));
      assert.ok(page.Aliases!.length <= limit);
      out.push(...page.Aliases!);
      if (page.Truncated !== true) return out;
      Marker = page.NextMarker;
    }
  }

  test('ListAliases lists every predefined alias/aws/* alias before first use, without a target', async () => {
    const k = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    for (const name of ['alias/a-first', 'alias/aws-not-reserved', 'alias/zz-last']) {
      await kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: k.KeyId }));
    }
    const listed = await allAliases(kms, 4);
    const names = listed.map((a) => a.AliasName!);
    assert.deepEqual(names, [...names].sort(), 'ordered by name across pages');
    assert.equal(new Set(names).size, names.length, 'each alias exactly once');
    for (const s of SERVICES.filter((x) => !['s3', 'sqs', 'lambda', 'secretsmanager', 'dynamodb', 'ebs'].includes(x))) {
      const a = listed.find((x) => x.AliasName === `alias/aws/${s}`);
      assert.ok(a, `alias/aws/${s} is predefined`);
      assert.equal(a.AliasArn, aliasArn(`alias/aws/${s}`));
      assert.equal(a.TargetKeyId, undefined);
      assert.equal(a.CreationDate, undefined);
    }
    for (const name of ['alias/a-first', 'alias/aws-not-reserved', 'alias/zz-last']) {
      assert.equal(listed.find((a) => a.AliasName === name)?.TargetKeyId, k.KeyId);
    }
    // Filtered by a key: only that key's aliases.
    assert.deepEqual(
      (await kms.send(new ListAliasesCommand({ KeyId: k.KeyId }))).Aliases!.map((a) => a.AliasName),
      ['alias/a-first', 'alias/aws-not-reserved', 'alias/zz-last'],
    );
  });

  test('DescribeKey of a predefined alias creates the AWS managed key on first use', async () => {
    const before = Date.now();
    const m = (await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/s3' }))).KeyMetadata!;
    assert.match(m.KeyId!, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(m.Arn, `arn:aws:kms:${US}:${server.accountId}:key/${m.KeyId}`);
    assert.equal(m.AWSAccountId, server.accountId);
    assert.equal(m.KeyManager, 'AWS');
    assert.equal(m.Description, 'Default key that protects my S3 objects when no other key is defined');
    assert.equal(m.KeySpec, 'SYMMETRIC_DEFAULT');
    assert.equal(m.KeyUsage, 'ENCRYPT_DECRYPT');
    assert.equal(m.Origin, 'AWS_KMS');
    assert.equal(m.KeyState, 'Enabled');
    assert.equal(m.Enabled, true);
    assert.equal(m.MultiRegion, false);
    assert.equal(m.MultiRegionConfiguration, undefined);
    assert.deepEqual(m.EncryptionAlgorithms, ['SYMMETRIC_DEFAULT']);
    assert.match(m.CurrentKeyMaterialId!, /^[0-9a-f]{64}$/);
    assert.ok(m.CreationDate!.getTime() >= before - 1000 && m.CreationDate!.getTime() <= Date.now() + 1000);

    // The same key by alias name, alias ARN, key id and key ARN.
    for (const keyId of ['alias/aws/s3', aliasArn('alias/aws/s3'), m.KeyId!, m.Arn!]) {
      assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.KeyId, m.KeyId);
    }
    const listed = (await allAliases(kms, 100)).find((a) => a.AliasName === 'alias/aws/s3')!;
    assert.equal(listed.TargetKeyId, m.KeyId);
    assert.equal(listed.CreationDate!.getTime(), m.CreationDate!.getTime());
    assert.deepEqual((await kms.send(new ListAliasesCommand({ KeyId: m.KeyId }))).Aliases!.map((a) => a.AliasName), ['alias/aws/s3']);
    const keys = (await kms.send(new ListKeysCommand({ Limit: 1000 }))).Keys!.map((k) => k.KeyId);
    assert.ok(keys.includes(m.KeyId));
    assert.deepEqual((await kms.send(new ListResourceTagsCommand({ KeyId: m.KeyId }))).Tags, []);
    assert.deepEqual((await kms.send(new ListKeyPoliciesCommand({ KeyId: m.KeyId }))).PolicyNames, ['default']);
  });

  test('concurrent first uses in two worker processes create exactly one key', async () => {
    const sqs = (await viaService('sqs')).us;
    const calls = Array.from({ length: 24 }, (_, i) =>
      i % 3 === 0
        ? sqs.send(new EncryptCommand({ KeyId: 'alias/aws/sqs', Plaintext: Buffer.from('m') })).then((o) => o.KeyId!)
        : kms.send(new DescribeKeyCommand({ KeyId: i % 3 === 1 ? 'alias/aws/sqs' : aliasArn('alias/aws/sqs') })).then((o) => o.KeyMetadata!.Arn!),
    );
    const arns = new Set(await Promise.all(calls));
    assert.equal(arns.size, 1, `one key, got ${[...arns].join(', ')}`);
    const [arn] = [...arns];
    const sqsKeys: string[] = [];
    for (const k of (await kms.send(new ListKeysCommand({ Limit: 1000 }))).Keys!) {
      const d = (await kms.send(new DescribeKeyCommand({ KeyId: k.KeyId }))).KeyMetadata!;
      if (d.Description === 'Default key that protects my SQS messages when no other key is defined') sqsKeys.push(d.Arn!);
    }
    assert.deepEqual(sqsKeys, [arn]);
    assert.equal((await allAliases(kms, 100)).filter((a) => a.AliasName === 'alias/aws/sqs').length, 1);
  });

  test('GetKeyPolicy returns the fixed policy: use through the service by the account, metadata to the account', async () => {
    const m = (await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/ebs' }))).KeyMetadata!;
    const policy = (await kms.send(new GetKeyPolicyCommand({ KeyId: m.KeyId }))).Policy!;
    assert.deepEqual(JSON.parse(policy), {
      Version: '2012-10-17',
      Id: 'auto-ebs-1',
      Statement: [
        {
          Sid: 'Allow access through EBS for all principals in the account that are authorized to use EBS',
          Effect: 'Allow',
          Principal: { AWS: '*' },
          Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:CreateGrant', 'kms:DescribeKey'],
          Resource: '*',
          Condition: { StringEquals: { 'kms:CallerAccount': server.accountId, 'kms:ViaService': `ec2.${US}.amazonaws.com` } },
        },
        {
          Sid: 'Allow direct access to key metadata to the account',
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${server.accountId}:root` },
          Action: ['kms:Describe*', 'kms:Get*', 'kms:List*', 'kms:RevokeGrant'],
          Resource: '*',
        },
      ],
    });
    assert.match(policy, /^\{\n {2}"Version" : "2012-10-17",\n/, "GetKeyPolicy's formatting");
    const s3 = (await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/s3' }))).KeyMetadata!;
    const s3Policy = JSON.parse((await kms.send(new GetKeyPolicyCommand({ KeyId: s3.Arn }))).Policy!);
    assert.equal(s3Policy.Statement[0].Condition.StringEquals['kms:ViaService'], `s3.${US}.amazonaws.com`);
  });

  test('cryptographic calls through the alias create the key; only the owning service may use it', async () => {
    const lambda = (await viaService('lambda')).us;
    const enc = await lambda.send(new EncryptCommand({ KeyId: 'alias/aws/lambda', Plaintext: Buffer.from('env vars'), EncryptionContext: { fn: 'f' } }));
    const m = (await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/lambda' }))).KeyMetadata!;
    assert.equal(enc.KeyId, m.Arn);
    assert.equal(m.Description, 'Default key that protects my Lambda functions when no other key is defined');
    for (const KeyId of [undefined, 'alias/aws/lambda', aliasArn('alias/aws/lambda')]) {
      const dec = await lambda.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { fn: 'f' }, KeyId }));
      assert.equal(Buffer.from(dec.Plaintext!).toString(), 'env vars');
    }
    // The key policy allows use only through Lambda: not to the account directly, not through S3.
    const denied = (who: string, action: string): string =>
      `User: ${who} is not authorized to perform: kms:${action} on resource: ${m.Arn} because no resource-based policy allows the kms:${action} action`;
    const rootArn = `arn:aws:iam::${server.accountId}:root`;
    await rejects(kms.send(new EncryptCommand({ KeyId: 'alias/aws/lambda', Plaintext: Buffer.from('x') })), 'AccessDeniedException', denied(rootArn, 'Encrypt'));
    await rejects(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { fn: 'f' } })), 'AccessDeniedException', denied(rootArn, 'Decrypt'));
    const s3 = (await viaService('s3')).us;
    await rejects(
      s3.send(new EncryptCommand({ KeyId: 'alias/aws/lambda', Plaintext: Buffer.from('x') })),
      'AccessDeniedException',
      denied(`arn:aws:iam::${server.accountId}:user/s3-service`, 'Encrypt'),
    );

    // First use by alias ARN, through GenerateDataKey.
    const secrets = (await viaService('secretsmanager')).us;
    const dk = await secrets.send(new GenerateDataKeyCommand({ KeyId: aliasArn('alias/aws/secretsmanager'), KeySpec: 'AES_256' }));
    const sm = (await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/secretsmanager' }))).KeyMetadata!;
    assert.equal(dk.KeyId, sm.Arn);
    assert.deepEqual(Buffer.from((await secrets.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob }))).Plaintext!), Buffer.from(dk.Plaintext!));
    // Re-encryption within the service.
    const re = await lambda.send(new ReEncryptCommand({ CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: { fn: 'f' }, DestinationKeyId: 'alias/aws/lambda' }));
    assert.equal(re.KeyId, m.Arn);
    assert.equal(Buffer.from((await lambda.send(new DecryptCommand({ CiphertextBlob: re.CiphertextBlob }))).Plaintext!).toString(), 'env vars');
  });

  test('an AWS managed key rotates every 365 days', async () => {
    const m = (await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/rds' }))).KeyMetadata!;
    const status = await kms.send(new GetKeyRotationStatusCommand({ KeyId: m.KeyId }));
    assert.equal(status.KeyRotationEnabled, true);
    assert.equal(status.RotationPeriodInDays, 365);
    assert.equal(status.NextRotationDate!.getTime(), m.CreationDate!.getTime() + 365 * DAY);
  });

  test('every management call AWS refuses on an AWS managed key fails with AccessDeniedException', async () => {
    const m = (await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/ssm' }))).KeyMetadata!;
    const denied = (action: string): string =>
      `User: arn:aws:iam::${server.accountId}:root is not authorized to perform: kms:${action} on resource: ${m.Arn} because no resource-based policy allows the kms:${action} action`;
    const customer = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/points-elsewhere', TargetKeyId: customer.KeyId }));
    const policyBefore = (await kms.send(new GetKeyPolicyCommand({ KeyId: m.KeyId }))).Policy;
    const cases: [string, () => Promise<unknown>][] = [
      ['ScheduleKeyDeletion', () => kms.send(new ScheduleKeyDeletionCommand({ KeyId: m.KeyId, PendingWindowInDays: 7 }))],
      ['CancelKeyDeletion', () => kms.send(new CancelKeyDeletionCommand({ KeyId: m.KeyId }))],
      ['DisableKey', () => kms.send(new DisableKeyCommand({ KeyId: m.Arn }))],
      ['EnableKey', () => kms.send(new EnableKeyCommand({ KeyId: m.KeyId }))],
      ['PutKeyPolicy', () => kms.send(new PutKeyPolicyCommand({ KeyId: m.KeyId, Policy: policyBefore }))],
      ['UpdateKeyDescription', () => kms.send(new UpdateKeyDescriptionCommand({ KeyId: m.KeyId, Description: 'mine now' }))],
      ['TagResource', () => kms.send(new TagResourceCommand({ KeyId: m.KeyId, Tags: [{ TagKey: 'k', TagValue: 'v' }] }))],
      ['UntagResource', () => kms.send(new UntagResourceCommand({ KeyId: m.KeyId, TagKeys: ['k'] }))],
      ['CreateAlias', () => kms.send(new CreateAliasCommand({ AliasName: 'alias/my-ssm', TargetKeyId: m.KeyId }))],
      ['UpdateAlias', () => kms.send(new UpdateAliasCommand({ AliasName: 'alias/points-elsewhere', TargetKeyId: m.KeyId }))],
      ['EnableKeyRotation', () => kms.send(new EnableKeyRotationCommand({ KeyId: m.KeyId, RotationPeriodInDays: 90 }))],
      ['DisableKeyRotation', () => kms.send(new DisableKeyRotationCommand({ KeyId: m.KeyId }))],
      ['RotateKeyOnDemand', () => kms.send(new RotateKeyOnDemandCommand({ KeyId: m.KeyId }))],
      ['ReplicateKey', () => kms.send(new ReplicateKeyCommand({ KeyId: m.KeyId, ReplicaRegion: EU }))],
      ['UpdatePrimaryRegion', () => kms.send(new UpdatePrimaryRegionCommand({ KeyId: m.KeyId, PrimaryRegion: EU }))],
      [
        'ImportKeyMaterial',
        () =>
          kms.send(
            new ImportKeyMaterialCommand({
              KeyId: m.KeyId,
              ImportToken: Buffer.alloc(64, 1),
              EncryptedKeyMaterial: Buffer.alloc(256, 1),
              ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
            }),
          ),
      ],
      ['DeleteImportedKeyMaterial', () => kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: m.KeyId }))],
    ];
    for (const [action, call] of cases) {
      await rejects(call(), 'AccessDeniedException', denied(action));
    }
    // Nothing changed.
    const after = (await kms.send(new DescribeKeyCommand({ KeyId: m.KeyId }))).KeyMetadata!;
    assert.equal(after.KeyState, 'Enabled');
    assert.equal(after.Description, m.Description);
    assert.equal((await kms.send(new GetKeyPolicyCommand({ KeyId: m.KeyId }))).Policy, policyBefore);
    assert.deepEqual((await kms.send(new ListResourceTagsCommand({ KeyId: m.KeyId }))).Tags, []);
    assert.equal((await kms.send(new GetKeyRotationStatusCommand({ KeyId: m.KeyId }))).RotationPeriodInDays, 365);
    assert.deepEqual((await kms.send(new ListAliasesCommand({ KeyId: m.KeyId }))).Aliases!.map((a) => a.AliasName), ['alias/aws/ssm']);
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: 'alias/points-elsewhere' }))).KeyMetadata!.KeyId, customer.KeyId);

    // The alias/aws/ names themselves cannot be created, re-pointed or deleted.
    const reserved = 'Alias names beginning with "alias/aws/" are reserved for AWS managed keys.';
    await rejects(kms.send(new CreateAliasCommand({ AliasName: 'alias/aws/ssm', TargetKeyId: customer.KeyId })), 'NotAuthorizedException', reserved);
    await rejects(kms.send(new UpdateAliasCommand({ AliasName: 'alias/aws/ssm', TargetKeyId: customer.KeyId })), 'NotAuthorizedException', reserved);
    await rejects(kms.send(new DeleteAliasCommand({ AliasName: 'alias/aws/ssm' })), 'NotAuthorizedException', reserved);
    await rejects(kms.send(new DeleteAliasCommand({ AliasName: 'alias/aws/glue' })), 'NotAuthorizedException', reserved);
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/ssm' }))).KeyMetadata!.KeyId, m.KeyId);
  });

  test('only predefined aliases of the caller\'s own account create keys, and each Region has its own', async () => {
    await rejects(
      kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/not-a-service' })),
      'NotFoundException',
      `Alias ${aliasArn('alias/aws/not-a-service')} is not found.`,
    );
    const foreign = `arn:aws:kms:${US}:111122223333:alias/aws/kinesis`;
    await rejects(kms.send(new DescribeKeyCommand({ KeyId: foreign })), 'NotFoundException', `Alias ${foreign} is not found.`);
    // Operations that take only key ids or key ARNs do not resolve (or create) through aliases.
    await rejects(kms.send(new GetKeyPolicyCommand({ KeyId: 'alias/aws/kinesis' })), 'NotFoundException', 'Invalid keyId alias/aws/kinesis');
    assert.equal((await allAliases(kms, 100)).find((a) => a.AliasName === 'alias/aws/kinesis')!.TargetKeyId, undefined);

    const usKey = (await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/glue' }))).KeyMetadata!;
    const euKey = (await eu.send(new DescribeKeyCommand({ KeyId: 'alias/aws/glue' }))).KeyMetadata!;
    assert.notEqual(euKey.KeyId, usKey.KeyId);
    assert.equal(euKey.Arn, `arn:aws:kms:${EU}:${server.accountId}:key/${euKey.KeyId}`);
    const euPolicy = JSON.parse((await eu.send(new GetKeyPolicyCommand({ KeyId: euKey.KeyId }))).Policy!);
    assert.equal(euPolicy.Statement[0].Condition.StringEquals['kms:ViaService'], `glue.${EU}.amazonaws.com`);
    assert.equal((await allAliases(eu, 100)).find((a) => a.AliasName === 'alias/aws/glue')!.AliasArn, aliasArn('alias/aws/glue', EU));
    // Single-Region keys: a ciphertext of the us-east-1 key does not open in eu-west-1.
    const glue = await viaService('glue');
    const ct = (await glue.us.send(new EncryptCommand({ KeyId: 'alias/aws/glue', Plaintext: Buffer.from('g') }))).CiphertextBlob!;
    await rejects(
      glue.eu.send(new DecryptCommand({ CiphertextBlob: ct })),
      'AccessDeniedException',
      'The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.',
    );
  });
});
