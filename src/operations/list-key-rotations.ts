/**
 * ListKeyRotations: a key's completed rotations, oldest first (kms-reference.md §3 row 37, §3.2
 * RotationsListEntry). By default (ROTATIONS_ONLY) only materials added by a rotation are listed;
 * ALL_KEY_MATERIAL adds the first material (which has no RotationDate or RotationType) and any
 * imported material still pending rotation. KeyMaterialState is CURRENT for the material new
 * encryptions use, NON_CURRENT for older ones (decryption only), PENDING_ROTATION for newer ones.
 */
import { KMS_INPUTS } from '../model/kms-inputs';
import { ServiceError } from '../errors';
import { assertRotatableKind } from '../keys/rotate';
import type { KeyRecord, KeyVersionRecord } from '../store/store';
import type { Operation } from './operation';
import type { KeyVersionRepository } from '../store/store';
import { page, pageLimit } from './pagination';
import { authorizeKms } from './authorize';
import type { KmsAuthorizationStore } from './authorize';
import { KMS_OUTPUTS, type ListKeyRotationsOutput } from '../model/kms-outputs';

interface ListKeyRotationsInput {
  KeyId: string;
  IncludeKeyMaterial?: 'ALL_KEY_MATERIAL' | 'ROTATIONS_ONLY';
  Limit?: number;
  Marker?: string;
}

/** Versions sort by number; the marker holds the last one listed, zero-padded. */
function sortKey(v: KeyVersionRecord): string {
  return String(v.version).padStart(10, '0');
}

function materialState(key: KeyRecord, v: KeyVersionRecord): string {
  if (v.version === key.currentVersion) return 'CURRENT';
  return v.version < key.currentVersion ? 'NON_CURRENT' : 'PENDING_ROTATION';
}

function entry(key: KeyRecord, v: KeyVersionRecord, first: boolean): Record<string, unknown> {
  const e: Record<string, unknown> = { KeyId: key.keyId, KeyMaterialId: v.materialId };
  if (key.origin === 'EXTERNAL') {
    e.ImportState = v.wrappedMaterial === null ? 'PENDING_IMPORT' : 'IMPORTED';
    if (key.expirationModel !== null) e.ExpirationModel = key.expirationModel;
    if (key.validTo !== null && key.expirationModel === 'KEY_MATERIAL_EXPIRES') e.ValidTo = key.validTo;
  }
  e.KeyMaterialState = materialState(key, v);
  if (!first && v.version <= key.currentVersion) {
    e.RotationDate = v.createdAt;
    e.RotationType = v.origin === 'AUTOMATIC' ? 'AUTOMATIC' : 'ON_DEMAND';
  }
  return e;
}

export const listKeyRotations: Operation<ListKeyRotationsInput, ListKeyRotationsOutput, KmsAuthorizationStore & KeyVersionRepository> = {
  name: 'ListKeyRotations',
  output: KMS_OUTPUTS.ListKeyRotations,
  readOnly: true,
  input: KMS_INPUTS.ListKeyRotations,
  async invoke(input, ctx, svc) {
    const limit = pageLimit(input.Limit, 1000, 100);
    const { key } = await svc.keyring.resolve(input.KeyId, 'key', ctx.caller, ctx.region, 'kms:ListKeyRotations');
    await authorizeKms(ctx, svc, { action: 'kms:ListKeyRotations', key });
    assertRotatableKind(key, true);
    const all = input.IncludeKeyMaterial === 'ALL_KEY_MATERIAL';
    const versions = await svc.store.listKeyVersions(key.arn);
    const firstVersion = versions[0]?.version;
    const listed = versions.filter((v) => all || (v.version !== firstVersion && v.version <= key.currentVersion));
    const p = await page(
      input.Marker,
      limit,
      async (after, n) => {
        if (after !== undefined && !/^\d{10}$/.test(after)) throw new ServiceError('InvalidMarkerException', 'The marker is not valid.');
        return listed.filter((v) => after === undefined || sortKey(v) > after).slice(0, n);
      },
      sortKey,
    );
    return {
      Rotations: p.items.map((v) => entry(key, v, v.version === firstVersion)),
      Truncated: p.Truncated,
      ...(p.NextMarker !== undefined ? { NextMarker: p.NextMarker } : {}),
    };
  },
};
