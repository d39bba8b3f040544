/**
 * Issue 13: ImportKeyMaterial, RotateKeyOnDemand and ReplicateKey decide in one transaction on
 * the locked key rows (src/operations/import-key-material.ts, src/keys/rotate.ts,
 * src/operations/replicate-key.ts), with no re-check loop in the operation. These races go
 * through the wire to two worker processes on one SQLite file, SDK retries off, so every count
 * below is the server's own decision: concurrent imports of different material into one key (one
 * wins, the others are told the material differs), of the same material (all succeed with one
 * version), concurrent on-demand rotations (each success adds exactly one version), and
 * concurrent ReplicateKey calls racing rotations of their primary (one replica, holding every
 * version the primary has).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GetParametersForImportCommand,
  ImportKeyMaterialCommand,
  KMSClient,
  ListKeyRotationsCommand,
  ReplicateKeyCommand,
  RotateKeyOnDemandCommand,
} from '@aws-sdk/client-kms';
import { opensslRandomMaterial, opensslWrap } from '../helpers/openssl-import';
import { startServer, stopAndRemove, type TestServer } from '../helpers/server';

const US = 'us-east-1';
const EU = 'eu-west-1';

let server: TestServer;
let kms: KMSClient;
let kmsEu: KMSClient;

before(async () => {
  server = await startServer({ workers: 2, region: US, args: ['--regions', `${US},${EU}`] });
  // No SDK retries: each call is one request, so the outcomes below are the server's decisions.
  const options = { endpoint: server.endpoint, credentials: server.credentials, maxAttempts: 1 };
  kms = new KMSClient({ ...options, region: US });
  kmsEu = new KMSClient({ ...options, region: EU });
});
after(async () => {
  kms?.destroy();
  kmsEu?.destroy();
  await stopAndRemove(server, { exitCode: 0 });
});

/** Counts fulfilled calls; every rejection must be `name` with `message`. */
function settle(results: PromiseSettledResult<unknown>[], name: string, message: string): number {
  let ok = 0;
  for (const r of results) {
    if (r.status === 'fulfilled') ok++;
    else {
      const e = r.reason as Error;
      assert.equal(e.name, name, `unexpected ${e.name}: ${e.message}`);
      assert.equal(e.message, message);
    }
  }
  return ok;
}

/** GetParametersForImport and openssl wrapping of `material` under its own token. */
async function wrapped(keyId: string, material: Buffer): Promise<{ ImportToken: Uint8Array; EncryptedKeyMaterial: Buffer }> {
  const p = await kms.send(new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
  return { ImportToken: p.ImportToken!, EncryptedKeyMaterial: opensslWrap('RSAES_OAEP_SHA_256', p.PublicKey!, material) };
}

async function roundTrip(client: KMSClient, keyId: string, text: string): Promise<void> {
  const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from(text) }));
  const out = await client.send(new DecryptCommand({ CiphertextBlob }));
  assert.equal(Buffer.from(out.Plaintext!).toString(), text);
}

test('8 concurrent ImportKeyMaterial calls of different material into one key: exactly one wins, the others are told the material differs', async () => {
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL' }));
  const keyId = KeyMetadata!.KeyId!;
  const materials = Array.from({ length: 8 }, () => opensslRandomMaterial(32));
  const requests = await Promise.all(materials.map((m) => wrapped(keyId, m)));
  const results = await Promise.allSettled(
    requests.map((r) => kms.send(new ImportKeyMaterialCommand({ KeyId: keyId, ...r, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }))),
  );
  const ok = settle(results, 'IncorrectKeyMaterialException', 'The key material in the request is not the key material that was previously imported into this KMS key.');
  assert.equal(ok, 1);
  const winner = results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<{ KeyMaterialId?: string }>;
  const meta = (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
  assert.equal(meta.KeyState, 'Enabled');
  assert.equal(meta.CurrentKeyMaterialId, winner.value.KeyMaterialId);
  await roundTrip(kms, keyId, 'imported once');
});

test('8 concurrent ImportKeyMaterial calls of the same material into one key all succeed with one version', async () => {
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL' }));
  const keyId = KeyMetadata!.KeyId!;
  const material = opensslRandomMaterial(32);
  const requests = await Promise.all(Array.from({ length: 8 }, () => wrapped(keyId, material)));
  const results = await Promise.all(
    requests.map((r) => kms.send(new ImportKeyMaterialCommand({ KeyId: keyId, ...r, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }))),
  );
  const ids = new Set(results.map((r) => r.KeyMaterialId));
  assert.equal(ids.size, 1);
  const meta = (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
  assert.equal(meta.KeyState, 'Enabled');
  assert.equal(meta.CurrentKeyMaterialId, [...ids][0]);
  const versions = await kms.send(new ListKeyRotationsCommand({ KeyId: keyId, IncludeKeyMaterial: 'ALL_KEY_MATERIAL' }));
  assert.deepEqual(versions.Rotations!.map((r) => r.KeyMaterialId), [...ids], 'a reimport adds no version');
  await roundTrip(kms, keyId, 'imported by eight');
});

test('12 concurrent RotateKeyOnDemand calls on one key: each success adds exactly one version, every other call is a ConflictException', async () => {
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({}));
  const keyId = KeyMetadata!.KeyId!;
  const arn = KeyMetadata!.Arn!;
  const before = (await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('before') }))).CiphertextBlob!;
  const results = await Promise.allSettled(Array.from({ length: 12 }, () => kms.send(new RotateKeyOnDemandCommand({ KeyId: keyId }))));
  const ok = settle(
    results,
    'ConflictException',
    `${arn} cannot be rotated on demand now: a rotation of this key is in progress or an automatic rotation is scheduled to begin within the next 20 minutes.`,
  );
  assert.ok(ok >= 1, 'at least one rotation wins');
  const rotations = (await kms.send(new ListKeyRotationsCommand({ KeyId: keyId }))).Rotations!;
  assert.equal(rotations.length, ok);
  assert.ok(rotations.every((r) => r.RotationType === 'ON_DEMAND'));
  assert.equal(new Set(rotations.map((r) => r.KeyMaterialId)).size, ok, 'one distinct version per success');
  const meta = (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
  assert.equal(meta.CurrentKeyMaterialId, rotations[rotations.length - 1]!.KeyMaterialId);
  assert.equal(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: before }))).Plaintext!).toString(), 'before');
  await roundTrip(kms, keyId, 'after the rotations');
});

test('6 concurrent ReplicateKey calls to one Region racing 4 rotations of the primary: one replica, with every version of the primary', async () => {
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({ MultiRegion: true }));
  const keyId = KeyMetadata!.KeyId!;
  const replicaArn = `arn:aws:kms:${EU}:${server.accountId}:key/${keyId}`;
  const before = (await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('before the race') }))).CiphertextBlob!;
  const replications = Array.from({ length: 6 }, () => kms.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: EU })));
  const rotations = Array.from({ length: 4 }, () => kms.send(new RotateKeyOnDemandCommand({ KeyId: keyId })));
  const [replicated, rotated] = await Promise.all([Promise.allSettled(replications), Promise.allSettled(rotations)]);
  assert.equal(settle(replicated, 'AlreadyExistsException', `Key '${replicaArn}' already exists`), 1);
  const rotatedOk = settle(
    rotated,
    'ConflictException',
    `${KeyMetadata!.Arn!} cannot be rotated on demand now: a rotation of this key is in progress or an automatic rotation is scheduled to begin within the next 20 minutes.`,
  );
  assert.ok(rotatedOk >= 1);
  const primary = (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
  const replica = (await kmsEu.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
  assert.equal(replica.KeyState, 'Enabled');
  assert.equal(replica.CurrentKeyMaterialId, primary.CurrentKeyMaterialId, 'the replica has the primary\'s current version');
  // Ciphertexts of the first and of the current version decrypt in the replica's Region.
  assert.equal(Buffer.from((await kmsEu.send(new DecryptCommand({ CiphertextBlob: before, KeyId: replicaArn }))).Plaintext!).toString(), 'before the race');
  const now = (await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('after the race') }))).CiphertextBlob!;
  assert.equal(Buffer.from((await kmsEu.send(new DecryptCommand({ CiphertextBlob: now, KeyId: replicaArn }))).Plaintext!).toString(), 'after the race');
});
