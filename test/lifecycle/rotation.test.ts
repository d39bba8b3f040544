/**
 * Automatic rotation on an injected clock (issue 5): the rotation job runs on a ManualClock
 * against a running server's database across six simulated years — with a downtime gap, a key
 * disabled for two years, a key scheduled for deletion and cancelled, and a multi-Region key —
 * while the test encrypts through the server between passes. Every ciphertext made under any
 * version still decrypts at the end, each new encryption used the newest version, and
 * ListKeyRotations records exactly the rotations the AWS rules call for.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  CancelKeyDeletionCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ListKeyRotationsCommand,
  ScheduleKeyDeletionCommand,
  type RotationsListEntry,
} from '@aws-sdk/client-kms';
import { ManualClock } from '../../src/clock';
import { parseCiphertextHeader } from '../../src/crypto/symmetric-ciphertext';
import type { Caller } from '../../src/identity/caller';
import { Keyring } from '../../src/keys/keyring';
import { KeyPairGenerator } from '../../src/keys/key-pair-generator';
import { SoftwareBackend } from '../../src/keys/software-backend';
import { rotationJob } from '../../src/lifecycle/rotation-job';
import { Scheduler } from '../../src/lifecycle/scheduler';
import { disableKey } from '../../src/operations/disable-key';
import { enableKey } from '../../src/operations/enable-key';
import { enableKeyRotation } from '../../src/operations/enable-key-rotation';
import type { RequestContext, Services } from '../../src/operations/operation';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import { openLocalRootOfTrust } from '../../src/trust/local';
import { addFakeReplica } from '../helpers/fake-replica';
import { removeDir, startServer, type TestServer } from '../helpers/server';

const DAY = 86_400_000;
const quiet = { info: () => undefined, error: () => undefined };

interface Sample {
  readonly ct: Uint8Array;
  readonly text: string;
}

/** What the test expects of one key, kept by the AWS rules independently of the server. */
interface Model {
  readonly name: string;
  readonly id: string;
  readonly arn: string;
  readonly period: number | null;
  /** Rotating keys only: Enabled, rotation on, not pending deletion. */
  active: boolean;
  next: number;
  readonly rotatedAt: number[];
  readonly samples: Sample[];
  material: string;
}

async function listAll(kms: KMSClient, keyId: string, include?: 'ALL_KEY_MATERIAL'): Promise<RotationsListEntry[]> {
  const out: RotationsListEntry[] = [];
  let marker: string | undefined;
  do {
    const p = await kms.send(new ListKeyRotationsCommand({ KeyId: keyId, Limit: 7, Marker: marker, IncludeKeyMaterial: include }));
    out.push(...p.Rotations!);
    marker = p.Truncated === true ? p.NextMarker : undefined;
  } while (marker !== undefined);
  return out;
}

async function currentMaterial(kms: KMSClient, keyId: string): Promise<string> {
  return (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.CurrentKeyMaterialId!;
}

async function decrypts(kms: KMSClient, s: Sample): Promise<void> {
  const out = await kms.send(new DecryptCommand({ CiphertextBlob: s.ct }));
  assert.equal(Buffer.from(out.Plaintext!).toString(), s.text);
}

test('the rotation job over six simulated years: every ciphertext decrypts, new ones use the newest material', async (t) => {
  const server: TestServer = await startServer({ args: ['--regions', 'us-east-1,eu-west-1'] });
  const kms = server.client();
  const eu = server.client({ region: 'eu-west-1' });
  const store = new SqliteStore({ path: join(server.dataDir, 'keyhold.db') });
  const trust = openLocalRootOfTrust({ dataDir: server.dataDir });
  try {
    const models: Model[] = [];
    const make = async (name: string, period: number | null, multiRegion = false): Promise<Model> => {
      const md = (await kms.send(new CreateKeyCommand({ MultiRegion: multiRegion, Description: name }))).KeyMetadata!;
      if (period !== null) await kms.send(new EnableKeyRotationCommand({ KeyId: md.KeyId, RotationPeriodInDays: period }));
      const status = await kms.send(new GetKeyRotationStatusCommand({ KeyId: md.KeyId }));
      const m: Model = {
        name, id: md.KeyId!, arn: md.Arn!, period, active: period !== null,
        next: status.NextRotationDate?.getTime() ?? Infinity, rotatedAt: [], samples: [], material: md.CurrentKeyMaterialId!,
      };
      models.push(m);
      return m;
    };
    const yearly = await make('yearly', 365);
    const quarterly = await make('quarterly', 90);
    const regional = await make('multi-Region', 180, true);
    const paused = await make('disabled for two years', 365);
    const doomed = await make('deletion scheduled, then cancelled', 400);
    const never = await make('rotation off', null);
    await addFakeReplica(server.dataDir, regional.arn, 'eu-west-1');
    const replicaSamples: Sample[] = [];

    const start = Date.now();
    const clock = new ManualClock(start);
    const keyring = new Keyring(store, trust, clock);
    const scheduler = new Scheduler([rotationJob(store, keyring, quiet)], clock, quiet, 1000);

    const events: Record<number, () => Promise<void>> = {
      12: async () => {
        await kms.send(new DisableKeyCommand({ KeyId: paused.id }));
        paused.active = false;
      },
      20: async () => {
        await kms.send(new ScheduleKeyDeletionCommand({ KeyId: doomed.id, PendingWindowInDays: 30 }));
        doomed.active = false;
      },
      30: async () => {
        await kms.send(new CancelKeyDeletionCommand({ KeyId: doomed.id })); // back as Disabled
        const s = await kms.send(new GetKeyRotationStatusCommand({ KeyId: doomed.id }));
        assert.equal(s.KeyRotationEnabled, true, 'the status is restored on cancel');
        await kms.send(new EnableKeyCommand({ KeyId: doomed.id }));
        doomed.active = true; // long overdue: rotates on this pass
      },
      36: async () => {
        await kms.send(new EnableKeyCommand({ KeyId: paused.id }));
        paused.active = true; // its material is two years old: rotates on this pass
      },
    };

    const STEPS = 70;
    let handledTotal = 0;
    for (let step = 1; step <= STEPS; step++) {
      // Step 50 is a 400-day outage: quarterly is four periods late and must rotate once only.
      clock.advance(step === 50 ? 400 * DAY : 30 * DAY);
      await events[step]?.();
      const now = clock.now();
      let expected = 0;
      for (const m of models) {
        if (m.active && m.period !== null && now >= m.next) {
          expected += 1;
          m.rotatedAt.push(now);
          m.next = now + m.period * DAY;
        }
      }
      const handled = await scheduler.runOnce();
      assert.equal(handled, expected, `step ${step}: rotations`);
      handledTotal += handled;

      for (const m of models) {
        // Checking every key on every step costs ~10 ms a request; look when something happened.
        const rotatedNow = m.rotatedAt.at(-1) === now;
        if (!rotatedNow && events[step] === undefined && step % 5 !== 0) continue;
        const status = await kms.send(new GetKeyRotationStatusCommand({ KeyId: m.id }));
        if (m.active && m.period !== null) {
          assert.equal(status.KeyRotationEnabled, true);
          assert.equal(status.NextRotationDate!.getTime(), m.next, `step ${step}: ${m.name} next rotation`);
        }
        if (m === doomed && !m.active && step >= 20 && step < 30) assert.equal(status.KeyRotationEnabled, false, 'pending deletion reads false');
        if (m === paused && !m.active) assert.equal(status.KeyRotationEnabled, true, 'a disabled key keeps its status');

        const material = await currentMaterial(kms, m.id);
        if (rotatedNow) assert.notEqual(material, m.material, `step ${step}: ${m.name} has new material`);
        else assert.equal(material, m.material, `step ${step}: ${m.name} keeps its material`);
        m.material = material;

        if (m === paused && !m.active) continue; // disabled: cannot encrypt
        if (m === doomed && !m.active) continue; // pending deletion
        const text = `${m.name} @ step ${step}`;
        const ct = (await kms.send(new EncryptCommand({ KeyId: m.id, Plaintext: Buffer.from(text) }))).CiphertextBlob!;
        assert.equal(parseCiphertextHeader(Buffer.from(ct)).version, 1 + m.rotatedAt.length, `${m.name} encrypts under the newest version`);
        m.samples.push({ ct, text });
      }
      if (step % 10 === 0) {
        const text = `made in eu-west-1 @ step ${step}`;
        replicaSamples.push({ ct: (await eu.send(new EncryptCommand({ KeyId: regional.id, Plaintext: Buffer.from(text) }))).CiphertextBlob!, text });
      }
    }

    // Six years: roughly 1/period of the elapsed time per key, and at least five rotations overall each.
    assert.ok(handledTotal > 40);
    assert.equal(quarterly.rotatedAt.filter((t, i, a) => i > 0 && t - (a[i - 1] as number) > 90 * DAY + 30 * DAY).length, 1, 'one catch-up after the outage');
    assert.ok(yearly.rotatedAt.length >= 5 && paused.rotatedAt.length >= 3 && doomed.rotatedAt.length >= 3);
    assert.equal(never.rotatedAt.length, 0);

    for (const m of models) {
      const rotations = await listAll(kms, m.id);
      assert.equal(rotations.length, m.rotatedAt.length, `${m.name}: one entry per rotation`);
      assert.deepEqual(rotations.map((r) => r.RotationDate!.getTime()), m.rotatedAt, `${m.name}: rotation dates`);
      assert.ok(rotations.every((r) => r.RotationType === 'AUTOMATIC' && r.KeyId === m.id));
      assert.deepEqual(
        rotations.map((r) => r.KeyMaterialState),
        rotations.map((_, i) => (i === rotations.length - 1 ? 'CURRENT' : 'NON_CURRENT')),
      );
      const all = await listAll(kms, m.id, 'ALL_KEY_MATERIAL');
      assert.equal(all.length, m.rotatedAt.length + 1);
      assert.equal(new Set(all.map((r) => r.KeyMaterialId)).size, all.length, 'every material is distinct');
      assert.equal(all.at(-1)!.KeyMaterialId, m.material);
      // Every ciphertext made under any version still decrypts.
      for (const s of m.samples) await decrypts(kms, s);
    }

    // The multi-Region key's rotations reached its replica: same current material, and
    // ciphertexts from either Region (made under many versions) decrypt in the other.
    assert.equal(await currentMaterial(eu, regional.id), regional.material);
    assert.equal((await listAll(eu, regional.id)).length, regional.rotatedAt.length);
    for (const s of regional.samples) await decrypts(eu, s);
    for (const s of replicaSamples) await decrypts(kms, s);
    const samples = models.reduce((n, m) => n + m.samples.length, replicaSamples.length);
    t.diagnostic(`${handledTotal} automatic rotations over ${Math.round((clock.now() - start) / DAY)} days; ${samples} ciphertexts decrypted`);
  } finally {
    kms.destroy();
    eu.destroy();
    await store.close();
    await trust.close();
    await server.stop();
    removeDir(server.dataDir);
  }
});

test('EnableKey: material older than the period rotates on the next pass; younger material keeps its schedule', async () => {
  const server = await startServer();
  const kms = server.client();
  const store = new SqliteStore({ path: join(server.dataDir, 'keyhold.db') });
  const trust = openLocalRootOfTrust({ dataDir: server.dataDir });
  try {
    const t0 = Date.now();
    const clock = new ManualClock(t0);
    const keyring = new Keyring(store, trust, clock);
    const svc: Services = { store, keyring, backend: new SoftwareBackend(keyring, new KeyPairGenerator(1)), trust, clock };
    const caller: Caller = {
      accountId: server.accountId, principalArn: `arn:aws:iam::${server.accountId}:root`, principalId: server.accountId,
      principalType: 'Root', userName: null, accessKeyId: server.credentials.accessKeyId,
    };
    const ctx: RequestContext = { caller, origin: { sourceIp: '127.0.0.1', userAgent: 'test', secureTransport: false }, region: 'us-east-1', requestId: 'r' };
    const scheduler = new Scheduler([rotationJob(store, keyring, quiet)], clock, quiet, 1000);

    // old: material made at t0, rotation switched on 300 days later, so its schedule says t0+665d.
    const old = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    // young: rotation on from the start (schedule t0+365d), disabled and re-enabled within the period.
    const young = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    await enableKeyRotation.invoke({ KeyId: young.KeyId! }, ctx, svc);
    clock.set(t0 + 300 * DAY);
    await enableKeyRotation.invoke({ KeyId: old.KeyId! }, ctx, svc);
    clock.set(t0 + 310 * DAY);
    await disableKey.invoke({ KeyId: old.KeyId! }, ctx, svc);
    await disableKey.invoke({ KeyId: young.KeyId! }, ctx, svc);

    clock.set(t0 + 330 * DAY);
    await enableKey.invoke({ KeyId: young.KeyId! }, ctx, svc);
    assert.equal(await scheduler.runOnce(), 0, 'material younger than the period: the original schedule resumes');
    assert.equal((await kms.send(new GetKeyRotationStatusCommand({ KeyId: young.KeyId }))).NextRotationDate!.getTime(), t0 + 365 * DAY);

    clock.set(t0 + 400 * DAY);
    await enableKey.invoke({ KeyId: old.KeyId! }, ctx, svc);
    assert.equal(await scheduler.runOnce(), 2, 'old material rotates at once; young is now due on its own schedule');
    for (const k of [old, young]) {
      const status = await kms.send(new GetKeyRotationStatusCommand({ KeyId: k.KeyId }));
      assert.equal(status.NextRotationDate!.getTime(), t0 + 765 * DAY);
      const rotations = await listAll(kms, k.KeyId!);
      assert.deepEqual(rotations.map((r) => [r.RotationType, r.RotationDate!.getTime()]), [['AUTOMATIC', t0 + 400 * DAY]]);
    }
    assert.equal(await scheduler.runOnce(), 0);
  } finally {
    kms.destroy();
    await store.close();
    await trust.close();
    await server.stop();
    removeDir(server.dataDir);
  }
});
