/**
 * Multi-Region keys through @aws-sdk/client-kms, one client per Region, against one deployment
 * serving us-east-1, eu-west-1 and ap-southeast-2: CreateKey MultiRegion, ReplicateKey,
 * DescribeKey's MultiRegionConfiguration, cross-Region decryption, independent per-Region
 * properties, UpdatePrimaryRegion, the deletion rules for a primary with replicas (on an injected
 * clock), rotation reaching replicas, AWS's errors (name and message), and a disaster test: the
 * deployment stops serving us-east-1 and eu-west-1 decrypts what us-east-1 encrypted.
 */
import assert from 'node:assert/strict';
import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  GetParametersForImportCommand,
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
  type KeyMetadata,
} from '@aws-sdk/client-kms';
import { ManualClock } from '../../src/clock';
import { deletionJob } from '../../src/lifecycle/deletion-job';
import { rejects } from '../helpers/assertions';
import { removeDir, startServer, tempDir, type TestServer } from '../helpers/server';
import { openServerStore } from '../helpers/server-store';

const US = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-southeast-2';
const REGIONS = [US, EU, AP] as const;
type Region = (typeof REGIONS)[number];
const DAY = 86_400_000;
const quiet = { info: () => undefined, error: () => undefined };

function policyFor(accountId: string, sid: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Id: sid,
    Statement: [{ Sid: sid, Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: 'kms:*', Resource: '*' }],
  });
}

describe('multi-Region keys', () => {
  let server: TestServer;
  const kms = {} as Record<Region, KMSClient>;
  const arnIn = (region: Region, keyId: string): string => `arn:aws:kms:${region}:${server.accountId}:key/${keyId}`;

  before(async () => {
    server = await startServer({ args: ['--regions', REGIONS.join(',')] });
    for (const r of REGIONS) kms[r] = server.client({ region: r });
  });
  after(async () => {
    for (const r of REGIONS) kms[r]?.destroy();
    await server?.stop();
    if (server !== undefined) removeDir(server.dataDir);
  });

  /** A new multi-Region primary in `region`. */
  async function newPrimary(region: Region = US, description = 'primary'): Promise<KeyMetadata> {
    return (await kms[region].send(new CreateKeyCommand({ MultiRegion: true, Description: description }))).KeyMetadata!;
  }

  async function describe_(region: Region, keyId: string): Promise<KeyMetadata> {
    return (await kms[region].send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
  }

  test('ReplicateKey makes a replica with the primary id, spec, usage and origin and its own policy, description and tags', async () => {
    const p = await newPrimary(US, 'the primary');
    assert.match(p.KeyId!, /^mrk-[0-9a-f]{32}$/);
    assert.equal(p.MultiRegionConfiguration!.MultiRegionKeyType, 'PRIMARY');
    const policy = policyFor(server.accountId, 'replica-policy');
    const out = await kms[US].send(
      new ReplicateKeyCommand({
        KeyId: p.KeyId,
        ReplicaRegion: EU,
        Policy: policy,
        Description: 'the EU replica',
        Tags: [{ TagKey: 'team', TagValue: 'eu' }],
      }),
    );
    const r = out.ReplicaKeyMetadata!;
    assert.equal(r.KeyId, p.KeyId);
    assert.equal(r.Arn, arnIn(EU, p.KeyId!));
    assert.equal(r.AWSAccountId, server.accountId);
    assert.equal(r.KeyState, 'Enabled'); // AWS shows Creating for a few seconds; Keyhold finishes first
    assert.equal(r.Enabled, true);
    assert.equal(r.Description, 'the EU replica');
    assert.equal(r.KeySpec, p.KeySpec);
    assert.equal(r.KeyUsage, p.KeyUsage);
    assert.equal(r.Origin, 'AWS_KMS');
    assert.equal(r.KeyManager, 'CUSTOMER');
    assert.equal(r.MultiRegion, true);
    assert.equal(r.CurrentKeyMaterialId, p.CurrentKeyMaterialId);
    assert.deepEqual(r.EncryptionAlgorithms, ['SYMMETRIC_DEFAULT']);
    assert.deepEqual(r.MultiRegionConfiguration, {
      MultiRegionKeyType: 'REPLICA',
      PrimaryKey: { Arn: p.Arn, Region: US },
      ReplicaKeys: [{ Arn: r.Arn, Region: EU }],
    });
    assert.equal(out.ReplicaPolicy, policy);
    assert.deepEqual(out.ReplicaTags, [{ TagKey: 'team', TagValue: 'eu' }]);

    // Without Policy and Tags: the default key policy and no tags (not the primary's).
    const ap = await kms[US].send(new ReplicateKeyCommand({ KeyId: p.Arn, ReplicaRegion: AP }));
    assert.equal(ap.ReplicaKeyMetadata!.Description, '');
    assert.deepEqual(ap.ReplicaTags, []);
    const defaultPolicy = (await kms[US].send(new GetKeyPolicyCommand({ KeyId: p.KeyId }))).Policy;
    assert.equal(ap.ReplicaPolicy, defaultPolicy);
    assert.equal((await kms[AP].send(new GetKeyPolicyCommand({ KeyId: p.KeyId }))).Policy, defaultPolicy);
    assert.equal((await kms[EU].send(new GetKeyPolicyCommand({ KeyId: p.KeyId }))).Policy, policy);
    assert.deepEqual((await kms[EU].send(new ListResourceTagsCommand({ KeyId: p.KeyId }))).Tags, [{ TagKey: 'team', TagValue: 'eu' }]);

    // The replica is a key of its Region and not of the others.
    const euKeys = (await kms[EU].send(new ListKeysCommand({ Limit: 1000 }))).Keys!.map((k) => k.KeyArn);
    assert.ok(euKeys.includes(arnIn(EU, p.KeyId!)));
    assert.ok(!euKeys.includes(p.Arn));
  });

  test('DescribeKey shows the same primary and replicas in every Region', async () => {
    const p = await newPrimary();
    await kms[US].send(new ReplicateKeyCommand({ KeyId: p.KeyId, ReplicaRegion: EU }));
    await kms[US].send(new ReplicateKeyCommand({ KeyId: p.KeyId, ReplicaRegion: AP }));
    const replicas = [
      { Arn: arnIn(AP, p.KeyId!), Region: AP },
      { Arn: arnIn(EU, p.KeyId!), Region: EU },
    ];
    for (const region of REGIONS) {
      const m = await describe_(region, p.KeyId!);
      assert.equal(m.Arn, arnIn(region, p.KeyId!));
      assert.equal(m.MultiRegion, true);
      assert.equal(m.MultiRegionConfiguration!.MultiRegionKeyType, region === US ? 'PRIMARY' : 'REPLICA');
      assert.deepEqual(m.MultiRegionConfiguration!.PrimaryKey, { Arn: p.Arn, Region: US });
      assert.deepEqual(
        [...m.MultiRegionConfiguration!.ReplicaKeys!].sort((a, b) => a.Region!.localeCompare(b.Region!)),
        replicas,
      );
    }
  });

  test('a ciphertext made in one Region decrypts with the related key in another', async () => {
    const p = await newPrimary();
    await kms[US].send(new ReplicateKeyCommand({ KeyId: p.KeyId, ReplicaRegion: EU }));
    await kms[US].send(new ReplicateKeyCommand({ KeyId: p.KeyId, ReplicaRegion: AP }));
    const context = { purpose: 'cross-region' };
    const plaintext = Buffer.from('made in us-east-1');
    const ct = (await kms[US].send(new EncryptCommand({ KeyId: p.KeyId, Plaintext: plaintext, EncryptionContext: context }))).CiphertextBlob!;

    // KeyId omitted: the replica in the request's Region is found from the blob.
    const a = await kms[EU].send(new DecryptCommand({ CiphertextBlob: ct, EncryptionContext: context }));
    assert.deepEqual(Buffer.from(a.Plaintext!), plaintext);
    assert.equal(a.KeyId, arnIn(EU, p.KeyId!));
    // By the replica's ARN, and by the shared key id.
    const b = await kms[AP].send(new DecryptCommand({ CiphertextBlob: ct, EncryptionContext: context, KeyId: arnIn(AP, p.KeyId!) }));
    assert.deepEqual(Buffer.from(b.Plaintext!), plaintext);
    assert.equal(b.KeyId, arnIn(AP, p.KeyId!));
    const c = await kms[EU].send(new DecryptCommand({ CiphertextBlob: ct, EncryptionContext: context, KeyId: p.KeyId }));
    assert.deepEqual(Buffer.from(c.Plaintext!), plaintext);
    // The encryption context is still bound in the other Region.
    await rejects(
      kms[EU].send(new DecryptCommand({ CiphertextBlob: ct, EncryptionContext: { purpose: 'other' } })),
      'InvalidCiphertextException',
      'The ciphertext is invalid, was altered, or was made with a different encryption context.',
    );
    // A key ARN of another Region does not name a key here.
    await rejects(
      kms[EU].send(new DecryptCommand({ CiphertextBlob: ct, EncryptionContext: context, KeyId: p.Arn })),
      'NotFoundException',
      `Invalid arn ${p.Arn}: the key is not in region ${EU}`,
    );

    // And the other way round: a data key made by a replica opens in the primary's Region.
    const dk = await kms[AP].send(new GenerateDataKeyCommand({ KeyId: arnIn(AP, p.KeyId!), KeySpec: 'AES_256' }));
    const back = await kms[US].send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob }));
    assert.deepEqual(Buffer.from(back.Plaintext!), Buffer.from(dk.Plaintext!));
    assert.equal(back.KeyId, p.Arn);

    // An unrelated key with no replica in eu-west-1: its ciphertexts stay in us-east-1.
    const single = (await kms[US].send(new CreateKeyCommand({}))).KeyMetadata!;
    const singleCt = (await kms[US].send(new EncryptCommand({ KeyId: single.KeyId, Plaintext: plaintext }))).CiphertextBlob!;
    await rejects(
      kms[EU].send(new DecryptCommand({ CiphertextBlob: singleCt })),
      'AccessDeniedException',
      'The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.',
    );
  });

  test('policy, description, tags, aliases and key state are independent per Region', async () => {
    const p = await newPrimary(US, 'us description');
    await kms[US].send(new ReplicateKeyCommand({ KeyId: p.KeyId, ReplicaRegion: EU, Description: 'eu description' }));
    const id = p.KeyId!;

    await kms[EU].send(new UpdateKeyDescriptionCommand({ KeyId: id, Description: 'eu changed' }));
    assert.equal((await describe_(EU, id)).Description, 'eu changed');
    assert.equal((await describe_(US, id)).Description, 'us description');

    await kms[EU].send(new TagResourceCommand({ KeyId: id, Tags: [{ TagKey: 'where', TagValue: 'eu' }] }));
    await kms[US].send(new TagResourceCommand({ KeyId: id, Tags: [{ TagKey: 'where', TagValue: 'us' }] }));
    assert.deepEqual((await kms[EU].send(new ListResourceTagsCommand({ KeyId: id }))).Tags, [{ TagKey: 'where', TagValue: 'eu' }]);
    assert.deepEqual((await kms[US].send(new ListResourceTagsCommand({ KeyId: id }))).Tags, [{ TagKey: 'where', TagValue: 'us' }]);

    const euPolicy = policyFor(server.accountId, 'eu-only');
    await kms[EU].send(new PutKeyPolicyCommand({ KeyId: id, Policy: euPolicy }));
    assert.equal((await kms[EU].send(new GetKeyPolicyCommand({ KeyId: id }))).Policy, euPolicy);
    assert.notEqual((await kms[US].send(new GetKeyPolicyCommand({ KeyId: id }))).Policy, euPolicy);

    // The same alias name points at the related key in each Region.
    const alias = `alias/mrk-${randomBytes(4).toString('hex')}`;
    await kms[US].send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: id }));
    await rejects(kms[EU].send(new DescribeKeyCommand({ KeyId: alias })), 'NotFoundException', `Alias arn:aws:kms:${EU}:${server.accountId}:${alias} is not found.`);
    await kms[EU].send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: id }));
    assert.equal((await describe_(EU, alias)).Arn, arnIn(EU, id));
    assert.equal((await describe_(US, alias)).Arn, p.Arn);

    // Disabling the replica leaves the primary usable, and the other way round.
    await kms[EU].send(new DisableKeyCommand({ KeyId: id }));
    const ct = (await kms[US].send(new EncryptCommand({ KeyId: id, Plaintext: Buffer.from('x') }))).CiphertextBlob!;
    await rejects(kms[EU].send(new DecryptCommand({ CiphertextBlob: ct })), 'DisabledException', `${arnIn(EU, id)} is disabled.`);
    await kms[EU].send(new EnableKeyCommand({ KeyId: id }));
    await kms[US].send(new DisableKeyCommand({ KeyId: id }));
    assert.equal(Buffer.from((await kms[EU].send(new DecryptCommand({ CiphertextBlob: ct }))).Plaintext!).toString(), 'x');
    assert.equal((await describe_(US, id)).KeyState, 'Disabled');
    assert.equal((await describe_(EU, id)).KeyState, 'Enabled');
  });

  test('ReplicateKey refuses what AWS refuses, with its errors', async () => {
    const p = await newPrimary();
    const id = p.KeyId!;
    await kms[US].send(new ReplicateKeyCommand({ KeyId: id, ReplicaRegion: EU }));
    const single = (await kms[US].send(new CreateKeyCommand({}))).KeyMetadata!;

    await rejects(
      kms[US].send(new ReplicateKeyCommand({ KeyId: single.KeyId, ReplicaRegion: EU })),
      'UnsupportedOperationException',
      `${single.Arn} is not a multi-Region key.`,
    );
    await rejects(
      kms[EU].send(new ReplicateKeyCommand({ KeyId: id, ReplicaRegion: AP })),
      'UnsupportedOperationException',
      `${arnIn(EU, id)} is not a multi-Region primary key. Its primary key is in ${US}.`,
    );
    await rejects(
      kms[US].send(new ReplicateKeyCommand({ KeyId: id, ReplicaRegion: EU })),
      'AlreadyExistsException',
      `Key '${arnIn(EU, id)}' already exists`,
    );
    await rejects(
      kms[US].send(new ReplicateKeyCommand({ KeyId: id, ReplicaRegion: US })),
      'ValidationException',
      `ReplicaRegion ${US} is the Region of the primary key ${p.Arn}; a replica must be in a different Region.`,
    );
    await rejects(
      kms[US].send(new ReplicateKeyCommand({ KeyId: id, ReplicaRegion: 'ca-central-1' })),
      'UnsupportedOperationException',
      'The replica Region ca-central-1 is not a Region this Keyhold deployment serves (--regions).',
    );
    await rejects(
      kms[US].send(new ReplicateKeyCommand({ KeyId: id, ReplicaRegion: 'Mars' })),
      'ValidationException',
      "1 validation error detected: Value 'Mars' at 'replicaRegion' failed to satisfy constraint: Member must satisfy regular expression pattern: ^([a-z]+-){2,3}\\d+$",
    );
    await rejects(
      kms[US].send(new ReplicateKeyCommand({ KeyId: id, ReplicaRegion: 'abcdefghijklmnop-abcdefghijklmnop-1' })),
      'ValidationException',
      "1 validation error detected: Value 'abcdefghijklmnop-abcdefghijklmnop-1' at 'replicaRegion' failed to satisfy constraint: Member must have length less than or equal to 32",
    );
    await rejects(
      kms[US].send(new ReplicateKeyCommand({ KeyId: id, ReplicaRegion: undefined as unknown as string })),
      'ValidationException',
      "1 validation error detected: Value null at 'replicaRegion' failed to satisfy constraint: Member must not be null",
    );
    const missing = `mrk-${randomBytes(16).toString('hex')}`;
    await rejects(
      kms[US].send(new ReplicateKeyCommand({ KeyId: missing, ReplicaRegion: AP })),
      'NotFoundException',
      `Key '${arnIn(US, missing)}' does not exist`,
    );
    await rejects(
      kms[US].send(new ReplicateKeyCommand({ KeyId: 'alias/anything', ReplicaRegion: AP })),
      'NotFoundException',
      'Invalid keyId alias/anything',
    );
    await rejects(
      kms[US].send(new ReplicateKeyCommand({ KeyId: id, ReplicaRegion: AP, Tags: [{ TagKey: 'aws:x', TagValue: 'y' }] })),
      'TagException',
      'Tag keys beginning with aws: are reserved.',
    );
    // Policy is validated as CreateKey validates it.
    const badPolicy = '{"Statement": "not a list"';
    const createErr = await kms[US].send(new CreateKeyCommand({ Policy: badPolicy })).then(
      () => assert.fail('CreateKey accepted a malformed policy'),
      (e: Error) => e,
    );
    assert.equal(createErr.name, 'MalformedPolicyDocumentException');
    await rejects(kms[US].send(new ReplicateKeyCommand({ KeyId: id, ReplicaRegion: AP, Policy: badPolicy })), createErr.name, createErr.message);

    // Key states (kms-reference.md §8, row ReplicateKey).
    await kms[US].send(new DisableKeyCommand({ KeyId: id }));
    await rejects(kms[US].send(new ReplicateKeyCommand({ KeyId: id, ReplicaRegion: AP })), 'DisabledException', `${p.Arn} is disabled.`);
    await kms[US].send(new EnableKeyCommand({ KeyId: id }));
    // None of the refusals left a replica behind.
    await rejects(kms[AP].send(new DescribeKeyCommand({ KeyId: id })), 'NotFoundException', `Key '${arnIn(AP, id)}' does not exist`);
  });

  test('UpdatePrimaryRegion swaps the primary and replica roles in every Region', async () => {
    const p = await newPrimary();
    const id = p.KeyId!;
    await kms[US].send(new ReplicateKeyCommand({ KeyId: id, ReplicaRegion: EU }));
    await kms[US].send(new ReplicateKeyCommand({ KeyId: id, ReplicaRegion: AP }));
    const ct = (await kms[US].send(new EncryptCommand({ KeyId: id, Plaintext: Buffer.from('before') }))).CiphertextBlob!;

    const out = await kms[US].send(new UpdatePrimaryRegionCommand({ KeyId: p.Arn, PrimaryRegion: EU }));
    assert.deepEqual(Object.keys(out).filter((k) => k !== '$metadata'), []);
    for (const region of REGIONS) {
      const m = await describe_(region, id);
      assert.equal(m.KeyState, 'Enabled', `${region} is not left Updating`);
      assert.equal(m.MultiRegionConfiguration!.MultiRegionKeyType, region === EU ? 'PRIMARY' : 'REPLICA');
      assert.deepEqual(m.MultiRegionConfiguration!.PrimaryKey, { Arn: arnIn(EU, id), Region: EU });
      assert.deepEqual(
        m.MultiRegionConfiguration!.ReplicaKeys!.map((k) => k.Region).sort(),
        [AP, US],
      );
    }
    // Only the new primary replicates and updates the primary Region now.
    await rejects(
      kms[US].send(new ReplicateKeyCommand({ KeyId: id, ReplicaRegion: EU })),
      'UnsupportedOperationException',
      `${p.Arn} is not a multi-Region primary key. Its primary key is in ${EU}.`,
    );
    await rejects(
      kms[US].send(new UpdatePrimaryRegionCommand({ KeyId: id, PrimaryRegion: AP })),
      'UnsupportedOperationException',
      `${p.Arn} is not a multi-Region primary key. Its primary key is in ${EU}.`,
    );
    // Material, ciphertexts and ARNs are unaffected.
    assert.equal(Buffer.from((await kms[AP].send(new DecryptCommand({ CiphertextBlob: ct }))).Plaintext!).toString(), 'before');
    assert.equal(Buffer.from((await kms[EU].send(new DecryptCommand({ CiphertextBlob: ct }))).Plaintext!).toString(), 'before');
    // And back.
    await kms[EU].send(new UpdatePrimaryRegionCommand({ KeyId: id, PrimaryRegion: US }));
    assert.equal((await describe_(US, id)).MultiRegionConfiguration!.MultiRegionKeyType, 'PRIMARY');
    assert.equal((await describe_(EU, id)).MultiRegionConfiguration!.MultiRegionKeyType, 'REPLICA');
  });

  test('UpdatePrimaryRegion refuses what AWS refuses, with its errors', async () => {
    const p = await newPrimary();
    const id = p.KeyId!;
    await kms[US].send(new ReplicateKeyCommand({ KeyId: id, ReplicaRegion: EU }));
    const single = (await kms[US].send(new CreateKeyCommand({}))).KeyMetadata!;

    await rejects(
      kms[US].send(new UpdatePrimaryRegionCommand({ KeyId: id, PrimaryRegion: AP })),
      'NotFoundException',
      `Key '${arnIn(AP, id)}' does not exist`,
    );
    await rejects(
      kms[US].send(new UpdatePrimaryRegionCommand({ KeyId: id, PrimaryRegion: US })),
      'ValidationException',
      `${p.Arn} is already the primary key; PrimaryRegion must name the Region of one of its replicas.`,
    );
    await rejects(
      kms[US].send(new UpdatePrimaryRegionCommand({ KeyId: single.KeyId, PrimaryRegion: EU })),
      'UnsupportedOperationException',
      `${single.Arn} is not a multi-Region key.`,
    );
    await rejects(
      kms[US].send(new UpdatePrimaryRegionCommand({ KeyId: id, PrimaryRegion: 'nowhere' })),
      'ValidationException',
      "1 validation error detected: Value 'nowhere' at 'primaryRegion' failed to satisfy constraint: Member must satisfy regular expression pattern: ^([a-z]+-){2,3}\\d+$",
    );
    // Both keys must be Enabled when it starts (developer guide, multi-region-update).
    await kms[EU].send(new DisableKeyCommand({ KeyId: id }));
    await rejects(kms[US].send(new UpdatePrimaryRegionCommand({ KeyId: id, PrimaryRegion: EU })), 'DisabledException', `${arnIn(EU, id)} is disabled.`);
    await kms[EU].send(new EnableKeyCommand({ KeyId: id }));
    await kms[US].send(new DisableKeyCommand({ KeyId: id }));
    await rejects(kms[US].send(new UpdatePrimaryRegionCommand({ KeyId: id, PrimaryRegion: EU })), 'DisabledException', `${p.Arn} is disabled.`);
    await kms[US].send(new EnableKeyCommand({ KeyId: id }));
    assert.equal((await describe_(EU, id)).MultiRegionConfiguration!.MultiRegionKeyType, 'REPLICA');
  });

  test('a primary with replicas waits in PendingReplicaDeletion; its window starts when the last replica is deleted', async () => {
    const p = await newPrimary();
    const id = p.KeyId!;
    await kms[US].send(new ReplicateKeyCommand({ KeyId: id, ReplicaRegion: EU }));
    await kms[US].send(new ReplicateKeyCommand({ KeyId: id, ReplicaRegion: AP }));
    const ct = (await kms[US].send(new EncryptCommand({ KeyId: id, Plaintext: Buffer.from('kept') }))).CiphertextBlob!;

    const sched = await kms[US].send(new ScheduleKeyDeletionCommand({ KeyId: id, PendingWindowInDays: 7 }));
    assert.equal(sched.KeyId, p.Arn);
    assert.equal(sched.KeyState, 'PendingReplicaDeletion');
    assert.equal(sched.PendingWindowInDays, 7);
    assert.equal(sched.DeletionDate, undefined, 'no deletion date until the last replica is deleted');
    let m = await describe_(US, id);
    assert.equal(m.KeyState, 'PendingReplicaDeletion');
    assert.equal(m.Enabled, false);
    assert.equal(m.PendingDeletionWindowInDays, 7);
    assert.equal(m.DeletionDate, undefined);

    // Unusable and not replicable; the replicas are unaffected.
    await rejects(kms[US].send(new EncryptCommand({ KeyId: id, Plaintext: Buffer.from('x') })), 'KMSInvalidStateException', `${p.Arn} is pending replica deletion.`);
    await rejects(kms[US].send(new ReplicateKeyCommand({ KeyId: id, ReplicaRegion: EU })), 'KMSInvalidStateException', `${p.Arn} is pending replica deletion.`);
    await rejects(kms[US].send(new ScheduleKeyDeletionCommand({ KeyId: id })), 'KMSInvalidStateException', `${p.Arn} is pending replica deletion.`);
    assert.equal(Buffer.from((await kms[EU].send(new DecryptCommand({ CiphertextBlob: ct }))).Plaintext!).toString(), 'kept');

    // CancelKeyDeletion works from PendingReplicaDeletion, leaving the key Disabled.
    await kms[US].send(new CancelKeyDeletionCommand({ KeyId: id }));
    m = await describe_(US, id);
    assert.equal(m.KeyState, 'Disabled');
    assert.equal(m.PendingDeletionWindowInDays, undefined);
    await kms[US].send(new ScheduleKeyDeletionCommand({ KeyId: id, PendingWindowInDays: 7 }));

    // Deleting a replica needs nothing from the primary: schedule both replicas.
    const euDate = (await kms[EU].send(new ScheduleKeyDeletionCommand({ KeyId: id, PendingWindowInDays: 7 }))).DeletionDate!.getTime();
    const apSched = await kms[AP].send(new ScheduleKeyDeletionCommand({ KeyId: id, PendingWindowInDays: 10 }));
    assert.equal(apSched.KeyState, 'PendingDeletion');
    const apDate = apSched.DeletionDate!.getTime();

    const store = openServerStore(server.dataDir);
    try {
      const clock = new ManualClock(euDate);
      const job = deletionJob(store, quiet);
      assert.equal(await job.runOnce(clock.now()), 1, 'the EU replica is deleted');
      await rejects(kms[EU].send(new DescribeKeyCommand({ KeyId: id })), 'NotFoundException', `Key '${arnIn(EU, id)}' does not exist`);
      m = await describe_(US, id);
      assert.equal(m.KeyState, 'PendingReplicaDeletion', 'one replica is left');
      assert.deepEqual(m.MultiRegionConfiguration!.ReplicaKeys, [{ Arn: arnIn(AP, id), Region: AP }]);

      clock.set(apDate + 1000);
      assert.equal(await job.runOnce(clock.now()), 1, 'the last replica is deleted');
      m = await describe_(US, id);
      assert.equal(m.KeyState, 'PendingDeletion');
      assert.equal(m.DeletionDate!.getTime(), clock.now() + 7 * DAY, 'the window starts when the last replica goes');
      assert.equal(m.PendingDeletionWindowInDays, 7);
      assert.deepEqual(m.MultiRegionConfiguration!.ReplicaKeys, []);

      clock.advance(7 * DAY - 1);
      assert.equal(await job.runOnce(clock.now()), 0, 'not a millisecond early');
      clock.advance(1);
      assert.equal(await job.runOnce(clock.now()), 1);
      await rejects(kms[US].send(new DescribeKeyCommand({ KeyId: id })), 'NotFoundException', `Key '${p.Arn}' does not exist`);
    } finally {
      await store.close();
    }
  });

  test('the deletion job never deletes a primary that still has a replica', async () => {
    const p = await newPrimary();
    const id = p.KeyId!;
    await kms[US].send(new ReplicateKeyCommand({ KeyId: id, ReplicaRegion: EU }));
    // As if a ReplicateKey had raced ScheduleKeyDeletion: the primary is due although a replica exists.
    const store = openServerStore(server.dataDir);
    try {
      const due = Date.now() - 1000;
      assert.ok(await store.updateKey(p.Arn!, { state: 'PendingDeletion', deletionDate: due, pendingWindowInDays: 7 }, ['Enabled']));
      assert.equal(await deletionJob(store, quiet).runOnce(Date.now()), 0);
    } finally {
      await store.close();
    }
    const m = await describe_(US, id);
    assert.equal(m.KeyState, 'PendingReplicaDeletion');
    assert.equal(m.DeletionDate, undefined);
    assert.equal(m.PendingDeletionWindowInDays, 7);
    assert.equal((await describe_(EU, id)).KeyState, 'Enabled');
  });

  test('PendingReplicaDeletion follows the key state matrix (kms-reference.md §8)', async () => {
    const p = await newPrimary();
    const id = p.KeyId!;
    await kms[US].send(new ReplicateKeyCommand({ KeyId: id, ReplicaRegion: EU }));
    const other = (await kms[US].send(new CreateKeyCommand({}))).KeyMetadata!;
    const suffix = randomBytes(4).toString('hex');
    await kms[US].send(new CreateAliasCommand({ AliasName: `alias/prd-src-${suffix}`, TargetKeyId: id }));
    await kms[US].send(new CreateAliasCommand({ AliasName: `alias/prd-other-${suffix}`, TargetKeyId: other.KeyId }));
    const ct = (await kms[US].send(new EncryptCommand({ KeyId: id, Plaintext: Buffer.from('x') }))).CiphertextBlob!;
    const policy = (await kms[US].send(new GetKeyPolicyCommand({ KeyId: id }))).Policy!;
    await kms[US].send(new ScheduleKeyDeletionCommand({ KeyId: id, PendingWindowInDays: 7 }));

    const invalid = `${p.Arn} is pending replica deletion.`;
    const refused: [string, () => Promise<unknown>][] = [
      ['Encrypt', () => kms[US].send(new EncryptCommand({ KeyId: id, Plaintext: Buffer.from('x') }))],
      ['Decrypt', () => kms[US].send(new DecryptCommand({ CiphertextBlob: ct }))],
      ['GenerateDataKey', () => kms[US].send(new GenerateDataKeyCommand({ KeyId: id, KeySpec: 'AES_256' }))],
      ['ReEncrypt', () => kms[US].send(new ReEncryptCommand({ CiphertextBlob: ct, DestinationKeyId: other.KeyId }))],
      ['DisableKey', () => kms[US].send(new DisableKeyCommand({ KeyId: id }))],
      ['EnableKey', () => kms[US].send(new EnableKeyCommand({ KeyId: id }))],
      ['UpdateKeyDescription', () => kms[US].send(new UpdateKeyDescriptionCommand({ KeyId: id, Description: 'd' }))],
      ['TagResource', () => kms[US].send(new TagResourceCommand({ KeyId: id, Tags: [{ TagKey: 'a', TagValue: 'b' }] }))],
      ['UntagResource', () => kms[US].send(new UntagResourceCommand({ KeyId: id, TagKeys: ['a'] }))],
      ['CreateAlias', () => kms[US].send(new CreateAliasCommand({ AliasName: `alias/prd-new-${suffix}`, TargetKeyId: id }))],
      ['UpdateAlias (as target)', () => kms[US].send(new UpdateAliasCommand({ AliasName: `alias/prd-other-${suffix}`, TargetKeyId: id }))],
      ['ReplicateKey', () => kms[US].send(new ReplicateKeyCommand({ KeyId: id, ReplicaRegion: AP }))],
      ['UpdatePrimaryRegion', () => kms[US].send(new UpdatePrimaryRegionCommand({ KeyId: id, PrimaryRegion: EU }))],
      ['ScheduleKeyDeletion', () => kms[US].send(new ScheduleKeyDeletionCommand({ KeyId: id }))],
      ['EnableKeyRotation', () => kms[US].send(new EnableKeyRotationCommand({ KeyId: id }))],
      ['RotateKeyOnDemand', () => kms[US].send(new RotateKeyOnDemandCommand({ KeyId: id }))],
    ];
    for (const [op, call] of refused) {
      await assert.rejects(call(), (e: Error) => {
        assert.equal(e.name, 'KMSInvalidStateException', `${op}: ${e.name}: ${e.message}`);
        assert.equal(e.message, invalid, op);
        return true;
      });
    }
    const allowed: [string, () => Promise<unknown>][] = [
      ['DescribeKey', () => kms[US].send(new DescribeKeyCommand({ KeyId: id }))],
      ['GetKeyPolicy', () => kms[US].send(new GetKeyPolicyCommand({ KeyId: id }))],
      ['PutKeyPolicy', () => kms[US].send(new PutKeyPolicyCommand({ KeyId: id, Policy: policy }))],
      ['ListResourceTags', () => kms[US].send(new ListResourceTagsCommand({ KeyId: id }))],
      ['ListAliases', () => kms[US].send(new ListAliasesCommand({ KeyId: id }))],
      ['ListKeyPolicies', () => kms[US].send(new ListKeyPoliciesCommand({ KeyId: id }))],
      ['GetKeyRotationStatus', () => kms[US].send(new GetKeyRotationStatusCommand({ KeyId: id }))],
      ['UpdateAlias (as source)', () => kms[US].send(new UpdateAliasCommand({ AliasName: `alias/prd-src-${suffix}`, TargetKeyId: other.KeyId }))],
      ['DeleteAlias', () => kms[US].send(new DeleteAliasCommand({ AliasName: `alias/prd-src-${suffix}` }))],
    ];
    for (const [op, call] of allowed) await call().catch((e: Error) => assert.fail(`${op} failed: ${e.name}: ${e.message}`));
    assert.equal((await describe_(US, id)).KeyState, 'PendingReplicaDeletion');
    assert.equal((await kms[US].send(new GetKeyRotationStatusCommand({ KeyId: id }))).KeyRotationEnabled, false);
    await kms[US].send(new CancelKeyDeletionCommand({ KeyId: id }));
    assert.equal((await describe_(US, id)).KeyState, 'Disabled');
  });

  test('a primary without replicas, and a replica, are scheduled for deletion as single-Region keys are', async () => {
    const lone = await newPrimary();
    const s1 = await kms[US].send(new ScheduleKeyDeletionCommand({ KeyId: lone.KeyId, PendingWindowInDays: 7 }));
    assert.equal(s1.KeyState, 'PendingDeletion');
    assert.ok(s1.DeletionDate instanceof Date);

    const p = await newPrimary();
    await kms[US].send(new ReplicateKeyCommand({ KeyId: p.KeyId, ReplicaRegion: EU }));
    const s2 = await kms[EU].send(new ScheduleKeyDeletionCommand({ KeyId: p.KeyId, PendingWindowInDays: 7 }));
    assert.equal(s2.KeyState, 'PendingDeletion');
    assert.equal((await describe_(US, p.KeyId!)).KeyState, 'Enabled');
    // After UpdatePrimaryRegion the former primary is a replica and may go first.
    const q = await newPrimary();
    await kms[US].send(new ReplicateKeyCommand({ KeyId: q.KeyId, ReplicaRegion: AP }));
    await kms[US].send(new UpdatePrimaryRegionCommand({ KeyId: q.KeyId, PrimaryRegion: AP }));
    assert.equal((await kms[US].send(new ScheduleKeyDeletionCommand({ KeyId: q.KeyId, PendingWindowInDays: 7 }))).KeyState, 'PendingDeletion');
    assert.equal((await kms[AP].send(new ScheduleKeyDeletionCommand({ KeyId: q.KeyId, PendingWindowInDays: 7 }))).KeyState, 'PendingReplicaDeletion');
  });

  test('rotating the primary on demand gives every replica the new material', async () => {
    const p = await newPrimary();
    const id = p.KeyId!;
    await kms[US].send(new ReplicateKeyCommand({ KeyId: id, ReplicaRegion: EU }));
    const before = (await kms[US].send(new EncryptCommand({ KeyId: id, Plaintext: Buffer.from('v1') }))).CiphertextBlob!;
    await kms[US].send(new RotateKeyOnDemandCommand({ KeyId: id }));
    const usMaterial = (await describe_(US, id)).CurrentKeyMaterialId;
    assert.notEqual(usMaterial, p.CurrentKeyMaterialId);
    assert.equal((await describe_(EU, id)).CurrentKeyMaterialId, usMaterial);
    const afterRotation = (await kms[US].send(new EncryptCommand({ KeyId: id, Plaintext: Buffer.from('v2') }))).CiphertextBlob!;
    for (const [ct, text] of [[before, 'v1'], [afterRotation, 'v2']] as const) {
      assert.equal(Buffer.from((await kms[EU].send(new DecryptCommand({ CiphertextBlob: ct }))).Plaintext!).toString(), text);
    }
    // A replica made after the rotation gets both versions, and the shared automatic-rotation
    // setting, which stays with the key set when the primary moves.
    await kms[US].send(new EnableKeyRotationCommand({ KeyId: id, RotationPeriodInDays: 180 }));
    const status = await kms[US].send(new GetKeyRotationStatusCommand({ KeyId: id }));
    await kms[US].send(new ReplicateKeyCommand({ KeyId: id, ReplicaRegion: AP }));
    for (const [ct, text] of [[before, 'v1'], [afterRotation, 'v2']] as const) {
      assert.equal(Buffer.from((await kms[AP].send(new DecryptCommand({ CiphertextBlob: ct }))).Plaintext!).toString(), text);
    }
    await kms[US].send(new UpdatePrimaryRegionCommand({ KeyId: id, PrimaryRegion: AP }));
    const apStatus = await kms[AP].send(new GetKeyRotationStatusCommand({ KeyId: id }));
    assert.equal(apStatus.KeyRotationEnabled, true);
    assert.equal(apStatus.RotationPeriodInDays, 180);
    assert.equal(apStatus.NextRotationDate!.getTime(), status.NextRotationDate!.getTime());
  });

  test('a replica of a primary with imported material waits for the same material', async () => {
    const p = (await kms[US].send(new CreateKeyCommand({ MultiRegion: true, Origin: 'EXTERNAL' }))).KeyMetadata!;
    const id = p.KeyId!;
    const material = randomBytes(32);
    const importInto = async (region: Region, bytes: Buffer): Promise<void> => {
      const params = await kms[region].send(
        new GetParametersForImportCommand({ KeyId: id, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }),
      );
      const wrapped = publicEncrypt(
        { key: createPublicKey({ key: Buffer.from(params.PublicKey!), format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
        bytes,
      );
      await kms[region].send(
        new ImportKeyMaterialCommand({
          KeyId: id,
          ImportToken: params.ImportToken,
          EncryptedKeyMaterial: wrapped,
          ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
        }),
      );
    };
    await rejects(kms[US].send(new ReplicateKeyCommand({ KeyId: id, ReplicaRegion: EU })), 'KMSInvalidStateException', `${p.Arn} is pending import.`);
    await importInto(US, material);
    const r = (await kms[US].send(new ReplicateKeyCommand({ KeyId: id, ReplicaRegion: EU }))).ReplicaKeyMetadata!;
    assert.equal(r.Origin, 'EXTERNAL');
    assert.equal(r.KeyState, 'PendingImport');
    assert.equal(r.Enabled, false);
    const ct = (await kms[US].send(new EncryptCommand({ KeyId: id, Plaintext: Buffer.from('imported') }))).CiphertextBlob!;
    await rejects(kms[EU].send(new DecryptCommand({ CiphertextBlob: ct })), 'KMSInvalidStateException', `${r.Arn} is pending import.`);
    // Other material is refused; the primary's material enables the replica.
    await assert.rejects(importInto(EU, randomBytes(32)), (e: Error) => e.name === 'IncorrectKeyMaterialException');
    await importInto(EU, material);
    assert.equal((await describe_(EU, id)).KeyState, 'Enabled');
    assert.equal(Buffer.from((await kms[EU].send(new DecryptCommand({ CiphertextBlob: ct }))).Plaintext!).toString(), 'imported');
    material.fill(0);
  });
});

describe('disaster: a Region stops being served', () => {
  test('after a restart without us-east-1, its clients are refused and eu-west-1 decrypts its ciphertexts', async () => {
    const dataDir = tempDir();
    let server = await startServer({ dataDir, args: ['--regions', REGIONS.join(',')] });
    let us = server.client({ region: US });
    let eu = server.client({ region: EU });
    let ct: Uint8Array;
    let dataKey: { plaintext: Uint8Array; blob: Uint8Array };
    let keyId: string;
    try {
      const p = (await us.send(new CreateKeyCommand({ MultiRegion: true, Description: 'survives us-east-1' }))).KeyMetadata!;
      keyId = p.KeyId!;
      await us.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: EU }));
      ct = (await us.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('written in us-east-1'), EncryptionContext: { app: 'dr' } })))
        .CiphertextBlob!;
      const dk = await us.send(new GenerateDataKeyCommand({ KeyId: keyId, NumberOfBytes: 32 }));
      dataKey = { plaintext: dk.Plaintext!, blob: dk.CiphertextBlob! };
    } finally {
      us.destroy();
      eu.destroy();
      assert.equal(await server.stop(), 0);
    }

    server = await startServer({ dataDir, region: EU, args: ['--regions', `${EU},${AP}`] });
    us = server.client({ region: US });
    eu = server.client({ region: EU });
    try {
      await rejects(
        us.send(new DescribeKeyCommand({ KeyId: keyId })),
        'InvalidSignatureException',
        "Credential should be scoped to a valid region, not 'us-east-1'. ",
      );
      const out = await eu.send(new DecryptCommand({ CiphertextBlob: ct, EncryptionContext: { app: 'dr' } }));
      assert.equal(Buffer.from(out.Plaintext!).toString(), 'written in us-east-1');
      assert.equal(out.KeyId, `arn:aws:kms:${EU}:${server.accountId}:key/${keyId}`);
      const dk = await eu.send(new DecryptCommand({ CiphertextBlob: dataKey.blob, KeyId: keyId }));
      assert.deepEqual(Buffer.from(dk.Plaintext!), Buffer.from(dataKey.plaintext));
      // eu-west-1 still knows where its primary lives, and keeps encrypting.
      const m = (await eu.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
      assert.equal(m.MultiRegionConfiguration!.PrimaryKey!.Region, US);
      const fresh = (await eu.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('written in eu-west-1') }))).CiphertextBlob!;
      assert.equal(Buffer.from((await eu.send(new DecryptCommand({ CiphertextBlob: fresh }))).Plaintext!).toString(), 'written in eu-west-1');
    } finally {
      us.destroy();
      eu.destroy();
      await server.stop();
      removeDir(dataDir);
    }
  });
});
