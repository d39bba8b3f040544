/**
 * Key rotation through @aws-sdk/client-kms over a real socket: EnableKeyRotation,
 * DisableKeyRotation, GetKeyRotationStatus, RotateKeyOnDemand and ListKeyRotations — settings,
 * on-demand rotation keeping old ciphertexts readable, the per-key limit, the 20-minute conflict,
 * the key-state matrix rows (kms-reference.md §8) and multi-Region keys (the primary's rotation
 * reaches its replica; the setting is shared and managed on the primary only).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CancelKeyDeletionCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ListKeyRotationsCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
  type RotationsListEntry,
} from '@aws-sdk/client-kms';
import { rejects, validation } from '../helpers/assertions';
import { addFakeReplica } from '../helpers/fake-replica';
import { removeDir, startServer, type TestServer } from '../helpers/server';
import { openServerStore } from '../helpers/server-store';

const DAY = 86_400_000;

function near(actual: Date | undefined, expectedMs: number, slackMs = 60_000): void {
  assert.ok(actual instanceof Date, 'a date is present');
  assert.ok(Math.abs(actual.getTime() - expectedMs) <= slackMs, `${actual.toISOString()} is not near ${new Date(expectedMs).toISOString()}`);
}

describe('key rotation through the AWS SDK', () => {
  let server: TestServer;
  let kms: KMSClient;
  let eu: KMSClient;

  before(async () => {
    server = await startServer({ args: ['--regions', 'us-east-1,eu-west-1'] });
    kms = server.client();
    eu = server.client({ region: 'eu-west-1' });
  });
  after(async () => {
    kms.destroy();
    eu.destroy();
    await server.stop();
    removeDir(server.dataDir);
  });

  async function newKey(extra: { MultiRegion?: boolean; Origin?: 'EXTERNAL' } = {}): Promise<{ id: string; arn: string }> {
    const md = (await kms.send(new CreateKeyCommand(extra))).KeyMetadata!;
    return { id: md.KeyId!, arn: md.Arn! };
  }

  async function materialId(client: KMSClient, keyId: string): Promise<string> {
    return (await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.CurrentKeyMaterialId!;
  }

  test('a new key has rotation off; EnableKeyRotation defaults to 365 days from the enable date', async () => {
    const { id, arn } = await newKey();
    const off = await kms.send(new GetKeyRotationStatusCommand({ KeyId: id }));
    assert.equal(off.KeyRotationEnabled, false);
    assert.equal(off.KeyId, arn);
    assert.equal(off.RotationPeriodInDays, undefined);
    assert.equal(off.NextRotationDate, undefined);
    const at = Date.now();
    await kms.send(new EnableKeyRotationCommand({ KeyId: id }));
    const on = await kms.send(new GetKeyRotationStatusCommand({ KeyId: arn }));
    assert.equal(on.KeyRotationEnabled, true);
    assert.equal(on.KeyId, arn);
    assert.equal(on.RotationPeriodInDays, 365);
    near(on.NextRotationDate, at + 365 * DAY);
    assert.equal(on.OnDemandRotationStartDate, undefined);
  });

  test('EnableKeyRotation with a new period keeps the anchor; enabling again with the same period changes nothing', async () => {
    const { id } = await newKey();
    await kms.send(new EnableKeyRotationCommand({ KeyId: id, RotationPeriodInDays: 90 }));
    const first = await kms.send(new GetKeyRotationStatusCommand({ KeyId: id }));
    assert.equal(first.RotationPeriodInDays, 90);
    const anchor = first.NextRotationDate!.getTime() - 90 * DAY;
    await kms.send(new EnableKeyRotationCommand({ KeyId: id, RotationPeriodInDays: 90 }));
    assert.equal((await kms.send(new GetKeyRotationStatusCommand({ KeyId: id }))).NextRotationDate!.getTime(), first.NextRotationDate!.getTime());
    await kms.send(new EnableKeyRotationCommand({ KeyId: id, RotationPeriodInDays: 2560 }));
    const moved = await kms.send(new GetKeyRotationStatusCommand({ KeyId: id }));
    assert.equal(moved.RotationPeriodInDays, 2560);
    assert.equal(moved.NextRotationDate!.getTime(), anchor + 2560 * DAY);
  });

  test('EnableKeyRotation rejects a RotationPeriodInDays outside 90–2560 with ValidationException', async () => {
    const { id } = await newKey();
    await rejects(
      kms.send(new EnableKeyRotationCommand({ KeyId: id, RotationPeriodInDays: 89 })),
      'ValidationException',
      validation('rotationPeriodInDays', 'have value greater than or equal to 90', 89),
    );
    await rejects(
      kms.send(new EnableKeyRotationCommand({ KeyId: id, RotationPeriodInDays: 2561 })),
      'ValidationException',
      validation('rotationPeriodInDays', 'have value less than or equal to 2560', 2561),
    );
    assert.equal((await kms.send(new GetKeyRotationStatusCommand({ KeyId: id }))).KeyRotationEnabled, false);
  });

  test('DisableKeyRotation turns rotation off and re-enabling starts a new schedule', async () => {
    const { id } = await newKey();
    await kms.send(new EnableKeyRotationCommand({ KeyId: id, RotationPeriodInDays: 180 }));
    await kms.send(new DisableKeyRotationCommand({ KeyId: id }));
    const off = await kms.send(new GetKeyRotationStatusCommand({ KeyId: id }));
    assert.equal(off.KeyRotationEnabled, false);
    assert.equal(off.RotationPeriodInDays, undefined);
    assert.equal(off.NextRotationDate, undefined);
    await kms.send(new DisableKeyRotationCommand({ KeyId: id })); // idempotent
    const at = Date.now();
    await kms.send(new EnableKeyRotationCommand({ KeyId: id }));
    near((await kms.send(new GetKeyRotationStatusCommand({ KeyId: id }))).NextRotationDate, at + 365 * DAY);
  });

  test('rotation operations take a key id or key ARN only, not an alias (NotFoundException)', async () => {
    const { arn } = await newKey();
    const missing = arn.replace(/key\/.*/, 'key/11111111-2222-3333-4444-555555555555');
    await rejects(kms.send(new EnableKeyRotationCommand({ KeyId: 'alias/whatever' })), 'NotFoundException', 'Invalid keyId alias/whatever');
    await rejects(kms.send(new GetKeyRotationStatusCommand({ KeyId: missing })), 'NotFoundException', `Key '${missing}' does not exist`);
    await rejects(kms.send(new RotateKeyOnDemandCommand({ KeyId: missing })), 'NotFoundException', `Key '${missing}' does not exist`);
    await rejects(kms.send(new ListKeyRotationsCommand({ KeyId: missing })), 'NotFoundException', `Key '${missing}' does not exist`);
    await rejects(kms.send(new DisableKeyRotationCommand({ KeyId: missing })), 'NotFoundException', `Key '${missing}' does not exist`);
  });

  test('RotateKeyOnDemand makes new material current, keeps the old readable and leaves the schedule alone', async () => {
    const { id, arn } = await newKey();
    await kms.send(new EnableKeyRotationCommand({ KeyId: id }));
    const before = await kms.send(new GetKeyRotationStatusCommand({ KeyId: id }));
    const m1 = await materialId(kms, id);
    const old = await kms.send(new EncryptCommand({ KeyId: id, Plaintext: Buffer.from('before rotation') }));

    const t0 = Date.now();
    const out = await kms.send(new RotateKeyOnDemandCommand({ KeyId: id }));
    // The key ID, as AWS answers (KMS Developer Guide, ct-rotatekeyondemand's responseElements).
    assert.equal(out.KeyId, arn.split('/').pop());
    const m2 = await materialId(kms, id);
    assert.match(m2, /^[0-9a-f]{64}$/);
    assert.notEqual(m2, m1);
    const after = await kms.send(new GetKeyRotationStatusCommand({ KeyId: id }));
    assert.equal(after.NextRotationDate!.getTime(), before.NextRotationDate!.getTime(), 'on-demand rotation keeps the automatic schedule');
    assert.equal(after.OnDemandRotationStartDate, undefined, 'the rotation completed before the response');

    const neu = await kms.send(new EncryptCommand({ KeyId: id, Plaintext: Buffer.from('after rotation') }));
    assert.equal(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: old.CiphertextBlob }))).Plaintext!).toString(), 'before rotation');
    assert.equal(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: neu.CiphertextBlob }))).Plaintext!).toString(), 'after rotation');

    const rotations = (await kms.send(new ListKeyRotationsCommand({ KeyId: id }))).Rotations!;
    assert.equal(rotations.length, 1);
    const r = rotations[0] as RotationsListEntry;
    assert.equal(r.KeyId, id);
    assert.equal(r.KeyMaterialId, m2);
    assert.equal(r.KeyMaterialState, 'CURRENT');
    assert.equal(r.RotationType, 'ON_DEMAND');
    near(r.RotationDate, t0);

    const all = await kms.send(new ListKeyRotationsCommand({ KeyId: arn, IncludeKeyMaterial: 'ALL_KEY_MATERIAL' }));
    assert.equal(all.Truncated, false);
    assert.deepEqual(
      all.Rotations!.map((e) => [e.KeyMaterialId, e.KeyMaterialState, e.RotationType]),
      [[m1, 'NON_CURRENT', undefined], [m2, 'CURRENT', 'ON_DEMAND']],
    );
    assert.equal(all.Rotations![0]!.RotationDate, undefined, 'the first material has no rotation date');
  });

  test('RotateKeyOnDemand works with automatic rotation off; ListKeyRotations of a never-rotated key is empty', async () => {
    const { id } = await newKey();
    const listed = await kms.send(new ListKeyRotationsCommand({ KeyId: id }));
    assert.deepEqual(listed.Rotations, []);
    assert.equal(listed.Truncated, false);
    assert.equal(listed.NextMarker, undefined);
    assert.equal((await kms.send(new ListKeyRotationsCommand({ KeyId: id, IncludeKeyMaterial: 'ALL_KEY_MATERIAL' }))).Rotations!.length, 1);
    await kms.send(new RotateKeyOnDemandCommand({ KeyId: id }));
    assert.equal((await kms.send(new GetKeyRotationStatusCommand({ KeyId: id }))).KeyRotationEnabled, false);
    assert.equal((await kms.send(new ListKeyRotationsCommand({ KeyId: id }))).Rotations!.length, 1);
  });

  test('RotateKeyOnDemand allows 25 rotations per key, then LimitExceededException; ListKeyRotations pages through them', async () => {
    const { id, arn } = await newKey();
    const cts: { ct: Uint8Array; text: string }[] = [];
    for (let i = 0; i < 25; i++) {
      const text = `generation ${i}`;
      cts.push({ ct: (await kms.send(new EncryptCommand({ KeyId: id, Plaintext: Buffer.from(text) }))).CiphertextBlob!, text });
      await kms.send(new RotateKeyOnDemandCommand({ KeyId: id }));
    }
    await rejects(
      kms.send(new RotateKeyOnDemandCommand({ KeyId: id })),
      'LimitExceededException',
      `${arn} has reached the limit of 25 on-demand rotations per key.`,
    );
    for (const { ct, text } of cts) {
      assert.equal(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: ct }))).Plaintext!).toString(), text);
    }

    const seen: RotationsListEntry[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const p = await kms.send(new ListKeyRotationsCommand({ KeyId: id, Limit: 10, Marker: marker }));
      pages += 1;
      assert.ok(p.Rotations!.length <= 10);
      seen.push(...p.Rotations!);
      if (p.Truncated === true) assert.equal(typeof p.NextMarker, 'string');
      else assert.equal(p.NextMarker, undefined);
      marker = p.Truncated === true ? p.NextMarker : undefined;
    } while (marker !== undefined);
    assert.equal(pages, 3);
    assert.equal(seen.length, 25);
    assert.equal(new Set(seen.map((e) => e.KeyMaterialId)).size, 25);
    assert.deepEqual(seen.map((e) => e.KeyMaterialState), [...Array(24).fill('NON_CURRENT'), 'CURRENT']);
    assert.ok(seen.every((e) => e.RotationType === 'ON_DEMAND'));
    const dates = seen.map((e) => e.RotationDate!.getTime());
    assert.deepEqual(dates, [...dates].sort((a, b) => a - b), 'oldest first');
    assert.equal(seen[24]!.KeyMaterialId, await materialId(kms, arn));
  });

  test('ListKeyRotations validates Limit and Marker', async () => {
    const { id } = await newKey();
    await rejects(kms.send(new ListKeyRotationsCommand({ KeyId: id, Limit: 0 })), 'ValidationException', validation('limit', 'have value greater than or equal to 1', 0));
    await rejects(kms.send(new ListKeyRotationsCommand({ KeyId: id, Limit: 1001 })), 'ValidationException', validation('limit', 'have value less than or equal to 1000', 1001));
    await rejects(kms.send(new ListKeyRotationsCommand({ KeyId: id, Marker: 'not-a-marker' })), 'InvalidMarkerException', 'The marker is not valid.');
    await rejects(
      kms.send(new ListKeyRotationsCommand({ KeyId: id, IncludeKeyMaterial: 'SOME' as 'ALL_KEY_MATERIAL' })),
      'ValidationException',
      validation('includeKeyMaterial', 'satisfy enum value set: [ALL_KEY_MATERIAL, ROTATIONS_ONLY]', 'SOME'),
    );
  });

  test('RotateKeyOnDemand is refused with ConflictException while an automatic rotation is due within 20 minutes', async () => {
    const { id, arn } = await newKey();
    await kms.send(new EnableKeyRotationCommand({ KeyId: id }));
    const store = openServerStore(server.dataDir);
    try {
      await store.updateKey(arn, { nextRotationDate: Date.now() + 19 * 60_000 });
      const m = await materialId(kms, id);
      await rejects(
        kms.send(new RotateKeyOnDemandCommand({ KeyId: id })),
        'ConflictException',
        `${arn} cannot be rotated on demand now: a rotation of this key is in progress or an automatic rotation is scheduled to begin within the next 20 minutes.`,
      );
      assert.equal(await materialId(kms, id), m);
      await store.updateKey(arn, { nextRotationDate: Date.now() + 25 * 60_000 });
      await kms.send(new RotateKeyOnDemandCommand({ KeyId: id }));
      assert.notEqual(await materialId(kms, id), m);
    } finally {
      await store.close();
    }
  });

  test('concurrent RotateKeyOnDemand calls never share a version: each wins or gets ConflictException', async () => {
    const { id } = await newKey();
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => kms.send(new RotateKeyOnDemandCommand({ KeyId: id }))));
    const won = results.filter((r) => r.status === 'fulfilled').length;
    for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as Error).name, 'ConflictException');
    assert.ok(won >= 1);
    const listed = (await kms.send(new ListKeyRotationsCommand({ KeyId: id }))).Rotations!;
    assert.equal(listed.length, won);
    assert.equal(new Set(listed.map((e) => e.KeyMaterialId)).size, won);
  });

  test('a Disabled key: EnableKeyRotation, DisableKeyRotation and RotateKeyOnDemand fail with DisabledException; the status stays', async () => {
    const { id, arn } = await newKey();
    await kms.send(new EnableKeyRotationCommand({ KeyId: id }));
    await kms.send(new DisableKeyCommand({ KeyId: id }));
    await rejects(kms.send(new EnableKeyRotationCommand({ KeyId: id })), 'DisabledException', `${arn} is disabled.`);
    await rejects(kms.send(new DisableKeyRotationCommand({ KeyId: id })), 'DisabledException', `${arn} is disabled.`);
    await rejects(kms.send(new RotateKeyOnDemandCommand({ KeyId: id })), 'DisabledException', `${arn} is disabled.`);
    const status = await kms.send(new GetKeyRotationStatusCommand({ KeyId: id }));
    assert.equal(status.KeyRotationEnabled, true);
    assert.equal(status.RotationPeriodInDays, 365);
    assert.equal((await kms.send(new ListKeyRotationsCommand({ KeyId: id }))).Truncated, false);
    await kms.send(new EnableKeyCommand({ KeyId: id }));
    await kms.send(new RotateKeyOnDemandCommand({ KeyId: id }));
  });

  test('a key pending deletion reports rotation false, refuses changes with KMSInvalidStateException, and gets its status back on cancel', async () => {
    const { id, arn } = await newKey();
    await kms.send(new EnableKeyRotationCommand({ KeyId: id, RotationPeriodInDays: 400 }));
    const before = await kms.send(new GetKeyRotationStatusCommand({ KeyId: id }));
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: id, PendingWindowInDays: 7 }));
    const pending = await kms.send(new GetKeyRotationStatusCommand({ KeyId: id }));
    assert.equal(pending.KeyRotationEnabled, false);
    assert.equal(pending.RotationPeriodInDays, undefined);
    assert.equal(pending.NextRotationDate, undefined);
    await rejects(kms.send(new EnableKeyRotationCommand({ KeyId: id })), 'KMSInvalidStateException', `${arn} is pending deletion.`);
    await rejects(kms.send(new DisableKeyRotationCommand({ KeyId: id })), 'KMSInvalidStateException', `${arn} is pending deletion.`);
    await rejects(kms.send(new RotateKeyOnDemandCommand({ KeyId: id })), 'KMSInvalidStateException', `${arn} is pending deletion.`);
    assert.deepEqual((await kms.send(new ListKeyRotationsCommand({ KeyId: id }))).Rotations, []);
    await kms.send(new CancelKeyDeletionCommand({ KeyId: id }));
    const restored = await kms.send(new GetKeyRotationStatusCommand({ KeyId: id }));
    assert.equal(restored.KeyRotationEnabled, true);
    assert.equal(restored.RotationPeriodInDays, 400);
    assert.equal(restored.NextRotationDate!.getTime(), before.NextRotationDate!.getTime());
  });

  test('keys with imported material (origin EXTERNAL) cannot rotate: UnsupportedOperationException', async () => {
    const { id, arn } = await newKey({ Origin: 'EXTERNAL' });
    const msg = `${arn} origin is EXTERNAL which is not valid for this operation.`;
    await rejects(kms.send(new EnableKeyRotationCommand({ KeyId: id })), 'UnsupportedOperationException', msg);
    await rejects(kms.send(new DisableKeyRotationCommand({ KeyId: id })), 'UnsupportedOperationException', msg);
    await rejects(kms.send(new GetKeyRotationStatusCommand({ KeyId: id })), 'UnsupportedOperationException', msg);
    await rejects(kms.send(new RotateKeyOnDemandCommand({ KeyId: id })), 'UnsupportedOperationException', msg);
    // ListKeyRotations does serve EXTERNAL keys (their materials carry an import state).
    assert.deepEqual((await kms.send(new ListKeyRotationsCommand({ KeyId: id }))).Rotations, []);
  });

  test('multi-Region: the setting is shared and managed on the primary; a rotation of the primary reaches the replica', async () => {
    const primary = await newKey({ MultiRegion: true });
    const replicaArn = await addFakeReplica(server.dataDir, primary.arn, 'eu-west-1');
    const old = await kms.send(new EncryptCommand({ KeyId: primary.id, Plaintext: Buffer.from('made in us-east-1') }));

    await rejects(
      eu.send(new EnableKeyRotationCommand({ KeyId: primary.id })),
      'UnsupportedOperationException',
      `${replicaArn} is a multi-Region replica key; manage its rotation on the primary key in us-east-1.`,
    );
    await rejects(
      eu.send(new RotateKeyOnDemandCommand({ KeyId: replicaArn })),
      'UnsupportedOperationException',
      `${replicaArn} is a multi-Region replica key; manage its rotation on the primary key in us-east-1.`,
    );
    await kms.send(new EnableKeyRotationCommand({ KeyId: primary.id, RotationPeriodInDays: 200 }));
    const onReplica = await eu.send(new GetKeyRotationStatusCommand({ KeyId: primary.id }));
    assert.equal(onReplica.KeyRotationEnabled, true);
    assert.equal(onReplica.KeyId, replicaArn);
    assert.equal(onReplica.RotationPeriodInDays, 200);

    await kms.send(new RotateKeyOnDemandCommand({ KeyId: primary.arn }));
    const current = await materialId(kms, primary.id);
    assert.equal(await materialId(eu, primary.id), current, 'the replica has the same current material');
    assert.deepEqual(
      (await eu.send(new ListKeyRotationsCommand({ KeyId: primary.id }))).Rotations!.map((e) => [e.KeyMaterialId, e.KeyMaterialState]),
      [[current, 'CURRENT']],
    );
    // Ciphertexts cross Regions in both directions, under old and new material.
    const fromEu = await eu.send(new EncryptCommand({ KeyId: primary.id, Plaintext: Buffer.from('made in eu-west-1') }));
    assert.equal(Buffer.from((await eu.send(new DecryptCommand({ CiphertextBlob: old.CiphertextBlob }))).Plaintext!).toString(), 'made in us-east-1');
    assert.equal(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: fromEu.CiphertextBlob }))).Plaintext!).toString(), 'made in eu-west-1');

    await kms.send(new DisableKeyRotationCommand({ KeyId: primary.id }));
    assert.equal((await eu.send(new GetKeyRotationStatusCommand({ KeyId: primary.id }))).KeyRotationEnabled, false);
  });
});
