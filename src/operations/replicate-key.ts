/**
 * ReplicateKey: a replica of a multi-Region primary key in another Region this deployment serves
 * (kms-reference.md §14.3; API reference ReplicateKey). The replica shares the primary's key id,
 * key spec, key usage, origin, rotation setting and every version's material (unwrapped and
 * wrapped again for the replica's ARN, which the wrapping binds); its policy, description, tags,
 * aliases and state are its own.
 *
 * Departures from AWS, by design: AWS returns the replica in the transient `Creating` state and
 * finishes asynchronously; Keyhold writes the replica and all its material in one transaction
 * before answering (docs/architecture.md §1.1), so ReplicaKeyMetadata already shows `Enabled`. A replica of a
 * primary with imported material gets the primary's version rows without material and waits in
 * `PendingImport` for the same material to be imported into it, as AWS requires.
 */
import { KMS_INPUTS } from '../model/kms-inputs';
import { ServiceError } from '../errors';
import { keyArn } from '../keys/arn';
import { assertCustomerManaged } from '../keys/aws-managed';
import { assertKeyState } from '../keys/key-states';
import { newKeyRecord } from '../keys/new-key';
import { defaultKeyPolicy } from '../policy/key-policy';
import type { KeyRecord, KeyVersionRecord, TagRecord } from '../store/store';
import { StalePreparation, transactionAfter } from '../store/transaction';
import { authorizeKms, requestTagConditions } from './authorize';
import type { KmsAuthorizationStore } from './authorize';

import { keyMetadata } from './key-metadata';
import type { Operation, Services } from './operation';
import type { KeyReader, KeyVersionRepository, TransactionRunner } from '../store/store';
import { checkNewKeyPolicy } from './policy-lockout';
import { type StringShape } from './shape';
import { validateTags } from './tags';
import { KMS_OUTPUTS, type ReplicateKeyOutput } from '../model/kms-outputs';

/** The repositories this operation depends on (issue 13). */
type Deps = KmsAuthorizationStore & Pick<KeyReader, 'getKey' | 'listRelatedKeys'> & Pick<KeyVersionRepository, 'listKeyVersions'> & TransactionRunner;

interface ReplicateKeyInput {
  KeyId: string;
  ReplicaRegion: string;
  Policy?: string;
  BypassPolicyLockoutSafetyCheck?: boolean;
  Description?: string;
  Tags?: TagRecord[];
}

/** RegionType (ReplicaRegion, PrimaryRegion): kms-reference.md §6. */
export function regionShape(): StringShape {
  return { type: 'string', min: 1, max: 32, pattern: /^([a-z]+-){2,3}\d+$/, required: true };
}

/**
 * Throws UnsupportedOperationException unless `key` is a multi-Region primary key: only a
 * primary can be replicated or hand its role to a replica (ReplicateKey, UpdatePrimaryRegion).
 */
export function assertMultiRegionPrimary(key: KeyRecord): void {
  if (!key.multiRegion) {
    throw new ServiceError('UnsupportedOperationException', `${key.arn} is not a multi-Region key.`);
  }
  if (key.multiRegionKeyType !== 'PRIMARY') {
    throw new ServiceError(
      'UnsupportedOperationException',
      `${key.arn} is not a multi-Region primary key. Its primary key is in ${key.primaryRegion ?? 'another Region'}.`,
    );
  }
}

/** The NotFound/AlreadyExists message form AWS uses for a key ARN. */
function alreadyExists(arn: string): ServiceError {
  return new ServiceError('AlreadyExistsException', `Key '${arn}' already exists`);
}

/**
 * The primary's versions, re-wrapped for `replicaArn`. Material is copied only for AWS_KMS
 * keys; for imported material the rows keep their ids and lose the material, so the replica
 * accepts exactly the primary's material on import (ImportKeyMaterial matches by KeyMaterialId).
 */
async function replicaVersions(primary: KeyRecord, replicaArn: string, svc: Services<Deps>): Promise<KeyVersionRecord[]> {
  const out: KeyVersionRecord[] = [];
  for (const v of await svc.store.listKeyVersions(primary.arn)) {
    const material = primary.origin === 'EXTERNAL' || v.wrappedMaterial === null ? undefined : await svc.keyring.material(primary, v.version);
    if (material === undefined) {
      out.push({ keyArn: replicaArn, version: v.version, materialId: v.materialId, wrappedMaterial: null, createdAt: v.createdAt, origin: v.origin });
    } else {
      // keyring.material returns its cached buffer: not ours to wipe.
      out.push({ ...(await svc.keyring.versionFor(replicaArn, v.version, v.origin, material, v.materialId)), createdAt: v.createdAt });
    }
  }
  return out;
}

/** The primary as read and its versions wrapped for the replica. */
interface ReplicaCopy {
  readonly primary: KeyRecord;
  readonly versions: readonly KeyVersionRecord[];
}

/** The replica row of `primary` (as locked) in `region`. */
function replicaRecord(primary: KeyRecord, arn: string, region: string, description: string, policy: string, now: number): KeyRecord {
  return newKeyRecord(
    {
      keyId: primary.keyId,
      arn,
      accountId: primary.accountId,
      region,
      keySpec: primary.keySpec,
      keyUsage: primary.keyUsage,
      origin: primary.origin,
      keyManager: 'CUSTOMER',
      state: primary.origin === 'EXTERNAL' ? 'PendingImport' : 'Enabled',
      description,
      policy,
      creationDate: now,
      currentVersion: primary.currentVersion,
    },
    {
      multiRegion: true,
      multiRegionKeyType: 'REPLICA',
      primaryRegion: primary.region,
      // Shared properties, kept on every row as keys/rotate.ts does: the rotation job skips
      // replicas, and a replica promoted by UpdatePrimaryRegion carries the schedule on.
      rotationEnabled: primary.rotationEnabled,
      rotationPeriodInDays: primary.rotationPeriodInDays,
      nextRotationDate: primary.nextRotationDate,
    },
  );
}

/** Creates the replica with its versions and tags in one transaction; returns it and its current material id. */
async function insertReplica(
  svc: Services<Deps>,
  arn: string,
  region: string,
  description: string,
  policy: string,
  tags: readonly TagRecord[],
  prepare: () => Promise<ReplicaCopy>,
): Promise<{ replica: KeyRecord; materialId: string | undefined }> {
  try {
    return await transactionAfter(svc.store, prepare, async (tx, copy) => {
      const rows = await tx.keys.lockRelated(copy.primary.accountId, copy.primary.keyId);
      const primary = rows.find((r) => r.arn === copy.primary.arn);
      if (primary === undefined) throw new ServiceError('NotFoundException', `Key '${copy.primary.arn}' does not exist`);
      assertMultiRegionPrimary(primary);
      assertKeyState(primary, 'replicate');
      if (rows.some((r) => r.region === region)) throw alreadyExists(arn);
      if (primary.currentVersion !== copy.primary.currentVersion) throw new StalePreparation(`${primary.arn} rotated`);
      const replica = replicaRecord(primary, arn, region, description, policy, svc.clock.now());
      const [first, ...rest] = copy.versions;
      await tx.keys.insert(replica, first ?? null, tags);
      for (const version of rest) await tx.keys.putVersion(version);
      return { replica, materialId: copy.versions.find((v) => v.version === replica.currentVersion)?.materialId };
    });
  } catch (e) {
    // An adapter whose row locks do not cover a row inserted meanwhile (PostgreSQL READ COMMITTED)
    // reports a concurrent ReplicateKey to the same Region as a duplicate key.
    if (!(e instanceof ServiceError) && (await svc.store.getKey(arn)) !== undefined) throw alreadyExists(arn);
    throw e;
  }
}

export const replicateKey: Operation<ReplicateKeyInput, ReplicateKeyOutput, Deps> = {
  name: 'ReplicateKey',
  output: KMS_OUTPUTS.ReplicateKey,
  readOnly: false,
  input: KMS_INPUTS.ReplicateKey,
  async invoke(input, ctx, svc) {
    const region = input.ReplicaRegion;
    const { key: primary } = await svc.keyring.resolve(input.KeyId, 'key', ctx.caller, ctx.region, 'kms:ReplicateKey');
    const tags = input.Tags ?? [];
    validateTags(tags);
    // kms:ReplicateKey on the primary (its key policy); kms:CreateKey, and kms:TagResource to tag
    // the replica, in identity-based policies (kms-reference.md §3.1).
    const bypass = input.BypassPolicyLockoutSafetyCheck === true;
    await authorizeKms(ctx, svc, { action: 'kms:ReplicateKey', key: primary, conditions: { 'kms:ReplicaRegion': region } });
    const createConditions = {
      'kms:KeySpec': primary.keySpec,
      'kms:KeyUsage': primary.keyUsage,
      'kms:KeyOrigin': primary.origin,
      'kms:MultiRegion': true,
      'kms:MultiRegionKeyType': 'REPLICA',
      'kms:BypassPolicyLockoutSafetyCheck': bypass,
      ...(tags.length > 0 ? requestTagConditions(tags) : {}),
    };
    await authorizeKms(ctx, svc, { action: 'kms:CreateKey', conditions: createConditions });
    if (tags.length > 0) await authorizeKms(ctx, svc, { action: 'kms:TagResource', conditions: createConditions });
    assertCustomerManaged(primary, 'kms:ReplicateKey', ctx.caller);
    const policy = input.Policy ?? defaultKeyPolicy(ctx.caller.accountId);
    const arn = keyArn(region, primary.accountId, primary.keyId);
    if (input.Policy !== undefined) {
      const replicaFacts: KeyRecord = { ...primary, arn, region, policy, multiRegionKeyType: 'REPLICA', primaryRegion: primary.region };
      await checkNewKeyPolicy(ctx, svc, { text: policy, key: replicaFacts, bypass, newKeyTags: tags });
    }

    assertMultiRegionPrimary(primary);
    assertKeyState(primary, 'replicate');
    if (region === primary.region) {
      throw new ServiceError(
        'ValidationException',
        `ReplicaRegion ${region} is the Region of the primary key ${primary.arn}; a replica must be in a different Region.`,
      );
    }
    if (!(svc.regions ?? [ctx.region]).includes(region)) {
      throw new ServiceError('UnsupportedOperationException', `The replica Region ${region} is not a Region this Keyhold deployment serves (--regions).`);
    }
    // A cheap early answer before the material is copied; the transaction decides again under lock.
    if ((await svc.store.listRelatedKeys(primary.accountId, primary.keyId)).some((r) => r.region === region)) throw alreadyExists(arn);

    // One transaction locks every Region's row of the key and decides on them (issue 13): the
    // primary is still an Enabled primary, no replica is in `region` yet, and the primary still
    // has the versions copied — a rotation in between makes the copy stale, and it is made again
    // from the primary as it is now (`transactionAfter`), so a replica never misses a version.
    let source: KeyRecord | undefined = primary;
    const created = await insertReplica(svc, arn, region, input.Description ?? '', policy, tags, async () => {
      const p = source ?? (await svc.store.getKey(primary.arn));
      source = undefined;
      if (p === undefined) throw new ServiceError('NotFoundException', `Key '${primary.arn}' does not exist`);
      return { primary: p, versions: await replicaVersions(p, arn, svc) };
    });
    const related = await svc.store.listRelatedKeys(primary.accountId, primary.keyId);
    return {
      ReplicaKeyMetadata: keyMetadata(created.replica, created.materialId, related),
      ReplicaPolicy: policy,
      ReplicaTags: tags.map((t) => ({ TagKey: t.TagKey, TagValue: t.TagValue })),
    };
  },
};
