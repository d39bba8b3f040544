/**
 * Rotation, import (BYOK), multi-Region keys and AWS managed keys through the AWS CLI v2 (Debian
 * package `awscli`, /usr/bin/aws), configured as the README says: the shared-credentials file of
 * the first start and `--endpoint-url`. Nothing is skipped: without /usr/bin/aws this test fails.
 *
 * The Debian CLI (2.9.19, January 2023) predates RotateKeyOnDemand, ListKeyRotations, the
 * RotationPeriodInDays parameter and the newer GetKeyRotationStatus/ImportKeyMaterial/
 * DeleteImportedKeyMaterial outputs. The test therefore gives the CLI a KMS model with these
 * additions, the way the CLI supports APIs newer than itself: `aws configure add-model`, which
 * installs a model in ~/.aws/models (here a temporary HOME). The model is the CLI's own bundled
 * kms/2014-11-01/service-2.json with the members and operations of the current KMS API reference
 * added (see `patchedKmsModel`); every other command runs on the CLI's own definitions.
 *
 * Import follows AWS's developer guide: get-parameters-for-import, wrap the material with the
 * openssl commands of "Encrypt the key material" (test/helpers/openssl-import.ts), then
 * import-key-material with fileb:// files.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertAwsCliInstalled, AwsCli } from '../helpers/aws-cli';
import { opensslRandomMaterial, opensslWrap } from '../helpers/openssl-import';
import { startServer, stopAndRemove, type TestServer } from '../helpers/server';

/** The KMS model bundled with /usr/bin/aws (Debian package awscli). */
const BUNDLED_KMS_MODEL = '/usr/lib/python3/dist-packages/awscli/botocore/data/kms/2014-11-01/service-2.json';
const US = 'us-east-1';
const EU = 'eu-west-1';
const DAY = 86_400_000;

type Json = Record<string, any>;

/**
 * The CLI's bundled KMS model plus what the KMS API reference added since: EnableKeyRotation
 * RotationPeriodInDays (90–2560); GetKeyRotationStatus KeyId, RotationPeriodInDays,
 * NextRotationDate, OnDemandRotationStartDate; RotateKeyOnDemand; ListKeyRotations;
 * ImportKeyMaterial and DeleteImportedKeyMaterial outputs KeyId and KeyMaterialId. Only members
 * the CLI would otherwise refuse to send or drop from responses are added.
 */
function patchedKmsModel(): string {
  const model = JSON.parse(readFileSync(BUNDLED_KMS_MODEL, 'utf8')) as Json;
  const shapes = model.shapes as Json;
  const ops = model.operations as Json;
  const add = (name: string, shape: Json): void => {
    if (shapes[name] === undefined) shapes[name] = shape;
  };
  const member = (shape: string, name: string, target: string): void => {
    shapes[shape].members[name] ??= { shape: target };
  };
  const operation = (name: string): void => {
    ops[name] ??= {
      name,
      http: { method: 'POST', requestUri: '/' },
      input: { shape: `${name}Request` },
      output: { shape: `${name}Response` },
      errors: [
        { shape: 'NotFoundException' },
        { shape: 'DisabledException' },
        { shape: 'InvalidArnException' },
        { shape: 'KMSInternalException' },
        { shape: 'KMSInvalidStateException' },
        { shape: 'UnsupportedOperationException' },
      ],
    };
  };

  add('RotationPeriodInDaysType', { type: 'integer', box: true, min: 90, max: 2560 });
  member('EnableKeyRotationRequest', 'RotationPeriodInDays', 'RotationPeriodInDaysType');
  member('GetKeyRotationStatusResponse', 'KeyId', 'KeyIdType');
  member('GetKeyRotationStatusResponse', 'RotationPeriodInDays', 'RotationPeriodInDaysType');
  member('GetKeyRotationStatusResponse', 'NextRotationDate', 'DateType');
  member('GetKeyRotationStatusResponse', 'OnDemandRotationStartDate', 'DateType');

  add('RotateKeyOnDemandRequest', { type: 'structure', required: ['KeyId'], members: { KeyId: { shape: 'KeyIdType' } } });
  add('RotateKeyOnDemandResponse', { type: 'structure', members: { KeyId: { shape: 'KeyIdType' } } });
  operation('RotateKeyOnDemand');

  add('BackingKeyIdType', { type: 'string', min: 64, max: 64, pattern: '^[a-f0-9]+$' });
  add('IncludeKeyMaterial', { type: 'string', enum: ['ALL_KEY_MATERIAL', 'ROTATIONS_ONLY'] });
  add('RotationType', { type: 'string', enum: ['AUTOMATIC', 'ON_DEMAND'] });
  add('ImportState', { type: 'string', enum: ['IMPORTED', 'PENDING_IMPORT'] });
  add('KeyMaterialState', { type: 'string', enum: ['NON_CURRENT', 'CURRENT', 'PENDING_ROTATION', 'PENDING_MULTI_REGION_IMPORT_AND_ROTATION'] });
  add('RotationsListEntry', {
    type: 'structure',
    members: {
      KeyId: { shape: 'KeyIdType' },
      KeyMaterialId: { shape: 'BackingKeyIdType' },
      ImportState: { shape: 'ImportState' },
      KeyMaterialState: { shape: 'KeyMaterialState' },
      ExpirationModel: { shape: 'ExpirationModelType' },
      ValidTo: { shape: 'DateType' },
      RotationDate: { shape: 'DateType' },
      RotationType: { shape: 'RotationType' },
    },
  });
  add('RotationsList', { type: 'list', member: { shape: 'RotationsListEntry' } });
  add('ListKeyRotationsRequest', {
    type: 'structure',
    required: ['KeyId'],
    members: {
      KeyId: { shape: 'KeyIdType' },
      IncludeKeyMaterial: { shape: 'IncludeKeyMaterial' },
      Limit: { shape: 'LimitType' },
      Marker: { shape: 'MarkerType' },
    },
  });
  add('ListKeyRotationsResponse', {
    type: 'structure',
    members: { Rotations: { shape: 'RotationsList' }, NextMarker: { shape: 'MarkerType' }, Truncated: { shape: 'BooleanType' } },
  });
  operation('ListKeyRotations');

  member('ImportKeyMaterialResponse', 'KeyId', 'KeyIdType');
  member('ImportKeyMaterialResponse', 'KeyMaterialId', 'BackingKeyIdType');
  add('DeleteImportedKeyMaterialResponse', {
    type: 'structure',
    members: { KeyId: { shape: 'KeyIdType' }, KeyMaterialId: { shape: 'BackingKeyIdType' } },
  });
  ops.DeleteImportedKeyMaterial.output ??= { shape: 'DeleteImportedKeyMaterialResponse' };
  return JSON.stringify(model);
}

describe('AWS CLI v2: rotation, import, multi-Region and AWS managed keys', () => {
  let server: TestServer;
  let cli: AwsCli;

  /** Runs aws and expects the service error `name`: exit code 254, the name in stderr, no stdout. */
  async function fails(args: string[], name: string, message?: string): Promise<void> {
    const r = await cli.run(args);
    assert.equal(r.code, 254, `aws ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
    assert.match(r.stderr, new RegExp(`\\(${name}\\)`), r.stderr);
    if (message !== undefined) assert.ok(r.stderr.includes(message), `stderr lacks ${JSON.stringify(message)}:\n${r.stderr}`);
    assert.equal(r.stdout, '');
  }
  const arnIn = (region: string, keyId: string): string => `arn:aws:kms:${region}:${server.accountId}:key/${keyId}`;
  const near = (iso: string, expectedMs: number, slackMs = 120_000): void =>
    assert.ok(Math.abs(Date.parse(iso) - expectedMs) <= slackMs, `${iso} is not near ${new Date(expectedMs).toISOString()}`);

  before(async () => {
    assertAwsCliInstalled();
    assert.ok(existsSync(BUNDLED_KMS_MODEL), `${BUNDLED_KMS_MODEL} is missing: the Debian package awscli is expected`);
    server = await startServer({ args: ['--regions', `${US},${EU}`] });
    // Only the credentials file and --endpoint-url (plus ~/.aws/models, below). No AWS_* from
    // the outer environment, no ~/.aws of the user.
    cli = new AwsCli(() => server);
    const model = cli.file('kms-service-2.json', Buffer.from(patchedKmsModel()));
    await cli.ok(['configure', 'add-model', '--service-name', 'kms', '--service-model', `file://${model}`]);
    assert.ok(existsSync(join(cli.home, '.aws', 'models', 'kms', '2014-11-01', 'service-2.json')), 'add-model installed the model');
  });
  after(async () => {
    await stopAndRemove(server, { exitCode: 0 });
    cli?.remove();
  });

  test('rotation: enable-key-rotation --rotation-period-in-days, get-key-rotation-status, rotate-key-on-demand, list-key-rotations, disable-key-rotation', async () => {
    const key = (await cli.json(['kms', 'create-key', '--description', 'cli rotation'])).KeyMetadata;

    const enabledAt = Date.now();
    assert.equal((await cli.ok(['kms', 'enable-key-rotation', '--key-id', key.KeyId, '--rotation-period-in-days', '180'])).trim(), '');
    const status = await cli.json(['kms', 'get-key-rotation-status', '--key-id', key.KeyId]);
    assert.equal(status.KeyRotationEnabled, true);
    assert.equal(status.KeyId, key.Arn);
    assert.equal(status.RotationPeriodInDays, 180);
    near(status.NextRotationDate, enabledAt + 180 * DAY);

    const rotated = await cli.json(['kms', 'rotate-key-on-demand', '--key-id', key.KeyId]);
    assert.deepEqual(rotated, { KeyId: key.KeyId });
    const rotations = await cli.json(['kms', 'list-key-rotations', '--key-id', key.KeyId]);
    assert.equal(rotations.Truncated, false);
    assert.equal(rotations.Rotations.length, 1);
    assert.equal(rotations.Rotations[0].KeyId, key.KeyId);
    assert.equal(rotations.Rotations[0].RotationType, 'ON_DEMAND');
    assert.equal(rotations.Rotations[0].KeyMaterialState, 'CURRENT');
    near(rotations.Rotations[0].RotationDate, Date.now());
    // (Old ciphertexts decrypting after rotation is test/conformance/rotation.test.ts's subject.)

    assert.equal((await cli.ok(['kms', 'disable-key-rotation', '--key-id', key.KeyId])).trim(), '');
    const off = await cli.json(['kms', 'get-key-rotation-status', '--key-id', key.KeyId]);
    assert.equal(off.KeyRotationEnabled, false);
    assert.equal(off.NextRotationDate, undefined);

    // The CLI checks only the minimum of an integer; the server refuses 2561 and more.
    await fails(['kms', 'enable-key-rotation', '--key-id', key.KeyId, '--rotation-period-in-days', '3000'], 'ValidationException');
  });

  test('import: create-key --origin EXTERNAL, get-parameters-for-import, openssl wrap, import-key-material, delete-imported-key-material', async () => {
    const key = (await cli.json(['kms', 'create-key', '--origin', 'EXTERNAL', '--description', 'cli import'])).KeyMetadata;
    assert.equal(key.KeyState, 'PendingImport');
    assert.equal(key.Origin, 'EXTERNAL');

    const params = await cli.json([
      'kms', 'get-parameters-for-import', '--key-id', key.KeyId,
      '--wrapping-algorithm', 'RSA_AES_KEY_WRAP_SHA_256', '--wrapping-key-spec', 'RSA_3072',
    ]);
    assert.equal(params.KeyId, key.Arn);
    near(params.ParametersValidTo, Date.now() + DAY);
    const material = opensslRandomMaterial(32);
    const wrapped = opensslWrap('RSA_AES_KEY_WRAP_SHA_256', Buffer.from(params.PublicKey, 'base64'), material);
    const token = cli.file('ImportToken.bin', Buffer.from(params.ImportToken, 'base64'));
    const encrypted = cli.file('EncryptedKeyMaterial.bin', wrapped);

    const validTo = new Date(Date.now() + 30 * DAY);
    validTo.setUTCMilliseconds(0);
    const imported = await cli.json([
      'kms', 'import-key-material', '--key-id', key.KeyId,
      '--encrypted-key-material', `fileb://${encrypted}`, '--import-token', `fileb://${token}`,
      '--expiration-model', 'KEY_MATERIAL_EXPIRES', '--valid-to', validTo.toISOString(),
    ]);
    assert.equal(imported.KeyId, key.Arn);
    assert.match(imported.KeyMaterialId, /^[a-f0-9]{64}$/);
    const enabled = (await cli.json(['kms', 'describe-key', '--key-id', key.KeyId])).KeyMetadata;
    assert.equal(enabled.KeyState, 'Enabled');
    assert.equal(enabled.ExpirationModel, 'KEY_MATERIAL_EXPIRES');
    assert.equal(Date.parse(enabled.ValidTo), validTo.getTime());

    const pt = cli.file('import-plain.bin', Buffer.from('under imported material'));
    const ct = (await cli.json(['kms', 'encrypt', '--key-id', key.KeyId, '--plaintext', `fileb://${pt}`])).CiphertextBlob as string;
    assert.ok(ct.length > 0);

    const deleted = await cli.json(['kms', 'delete-imported-key-material', '--key-id', key.KeyId]);
    assert.deepEqual(deleted, { KeyId: key.Arn, KeyMaterialId: imported.KeyMaterialId });
    const pending = (await cli.json(['kms', 'describe-key', '--key-id', key.KeyId])).KeyMetadata;
    assert.equal(pending.KeyState, 'PendingImport');
    assert.equal(pending.Enabled, false);
    assert.equal(pending.ValidTo, undefined);

    await fails(['kms', 'encrypt', '--key-id', key.KeyId, '--plaintext', `fileb://${pt}`], 'KMSInvalidStateException', `${key.Arn} is pending import.`);
  });

  test('multi-Region: create-key --multi-region, replicate-key --replica-region, describe-key --region, update-primary-region', async () => {
    const primary = (await cli.json(['kms', 'create-key', '--multi-region', '--description', 'cli mrk'])).KeyMetadata;
    assert.match(primary.KeyId, /^mrk-[0-9a-f]{32}$/);
    assert.equal(primary.MultiRegion, true);
    assert.equal(primary.MultiRegionConfiguration.MultiRegionKeyType, 'PRIMARY');

    const replicated = await cli.json([
      'kms', 'replicate-key', '--key-id', primary.KeyId, '--replica-region', EU,
      '--description', 'cli replica', '--tags', 'TagKey=site,TagValue=eu',
    ]);
    assert.equal(replicated.ReplicaKeyMetadata.Arn, arnIn(EU, primary.KeyId));
    assert.equal(replicated.ReplicaKeyMetadata.KeyState, 'Enabled');
    assert.deepEqual(replicated.ReplicaTags, [{ TagKey: 'site', TagValue: 'eu' }]);
    assert.equal(typeof replicated.ReplicaPolicy, 'string');

    const replica = (await cli.json(['kms', 'describe-key', '--key-id', primary.KeyId, '--region', EU])).KeyMetadata;
    assert.equal(replica.Arn, arnIn(EU, primary.KeyId));
    assert.equal(replica.Description, 'cli replica');
    assert.deepEqual(replica.MultiRegionConfiguration, {
      MultiRegionKeyType: 'REPLICA',
      PrimaryKey: { Arn: primary.Arn, Region: US },
      ReplicaKeys: [{ Arn: arnIn(EU, primary.KeyId), Region: EU }],
    });

    assert.equal((await cli.ok(['kms', 'update-primary-region', '--key-id', primary.KeyId, '--primary-region', EU])).trim(), '');
    const promoted = (await cli.json(['kms', 'describe-key', '--key-id', primary.KeyId, '--region', EU])).KeyMetadata;
    assert.equal(promoted.KeyState, 'Enabled');
    assert.deepEqual(promoted.MultiRegionConfiguration, {
      MultiRegionKeyType: 'PRIMARY',
      PrimaryKey: { Arn: arnIn(EU, primary.KeyId), Region: EU },
      ReplicaKeys: [{ Arn: primary.Arn, Region: US }],
    });

    // us-east-1 already holds the (now replica) key.
    await fails(['kms', 'replicate-key', '--key-id', primary.KeyId, '--replica-region', US, '--region', EU], 'AlreadyExistsException');
  });

  test('AWS managed key: describe-key --key-id alias/aws/s3 creates it on first use; management calls are refused', async () => {
    const m = (await cli.json(['kms', 'describe-key', '--key-id', 'alias/aws/s3'])).KeyMetadata;
    assert.equal(m.KeyManager, 'AWS');
    assert.equal(m.KeyState, 'Enabled');
    assert.equal(m.Arn, arnIn(US, m.KeyId));
    assert.equal(m.MultiRegion, false);
    assert.equal(m.Description, 'Default key that protects my S3 objects when no other key is defined');

    await fails(['kms', 'disable-key', '--key-id', m.KeyId], 'AccessDeniedException');
  });
});
