/**
 * DeleteImportedKeyMaterial: deletes imported key material — the current material, or the one a
 * KeyMaterialId names — so the key is unusable until the same material is imported again. The key
 * becomes PendingImport, except that a key pending deletion keeps its state (AWS API reference);
 * ValidTo is cleared. A key that has no material left is not changed (§8: "No effect").
 */
import { KMS_INPUTS } from '../model/kms-inputs';
import { ServiceError } from '../errors';
import { assertCustomerManaged } from '../keys/aws-managed';
import { assertKeyState } from '../keys/key-states';
import type { KeyRecord, KeyState } from '../store/store';
import { assertExternalOrigin } from './get-parameters-for-import';
import type { Operation, Services } from './operation';
import type { TransactionRunner } from '../store/store';
import { authorizeKms } from './authorize';
import type { KmsAuthorizationStore } from './authorize';

import { KMS_OUTPUTS, type DeleteImportedKeyMaterialOutput } from '../model/kms-outputs';

/** The repositories this operation depends on (issue 13). */
type Deps = KmsAuthorizationStore & TransactionRunner;

interface DeleteImportedKeyMaterialInput {
  KeyId: string;
  KeyMaterialId?: string;
}

/** States in which deleting material leaves the state as it is. */
const KEEPS_STATE: readonly KeyState[] = ['PendingDeletion', 'PendingReplicaDeletion', 'PendingImport'];

/**
 * Deletes the material in one transaction on the locked key (issue 13); returns the
 * KeyMaterialId it concerned (undefined if none was ever imported).
 */
async function deleteMaterial(key: KeyRecord, keyMaterialId: string | undefined, svc: Services<Deps>): Promise<string | undefined> {
  try {
    return await deleteMaterialOnce(key, keyMaterialId, svc);
  } finally {
  }
}

function deleteMaterialOnce(key: KeyRecord, keyMaterialId: string | undefined, svc: Services<Deps>): Promise<string | undefined> {
  return svc.store.transaction(async (tx) => {
    const current = await tx.keys.lock(key.arn);
    if (current === undefined) throw new ServiceError('NotFoundException', `Key '${key.arn}' does not exist`);
    assertKeyState(current, 'delete-material');
    const versions = await tx.keys.listVersions(current.arn);
    const target = versions.find((v) => (keyMaterialId === undefined ? v.version === current.currentVersion : v.materialId === keyMaterialId));
    if (target === undefined) {
      if (keyMaterialId === undefined) return undefined;
      throw new ServiceError('NotFoundException', `Key material ${keyMaterialId} is not associated with ${current.arn}.`);
    }
    const state: KeyState = KEEPS_STATE.includes(current.state) ? current.state : 'PendingImport';
    if (target.wrappedMaterial === null && state === current.state && current.validTo === null) return target.materialId;
    await tx.keys.update(current.arn, { state, validTo: null });
    await tx.keys.setMaterial(current.arn, target.version, null);
    return target.materialId;
  });
}

export const deleteImportedKeyMaterial: Operation<DeleteImportedKeyMaterialInput, DeleteImportedKeyMaterialOutput, Deps> = {
  name: 'DeleteImportedKeyMaterial',
  output: KMS_OUTPUTS.DeleteImportedKeyMaterial,
  readOnly: false,
  input: KMS_INPUTS.DeleteImportedKeyMaterial,
  async invoke(input, ctx, svc) {
    const { key } = await svc.keyring.resolve(input.KeyId, 'key', ctx.caller, ctx.region, 'kms:DeleteImportedKeyMaterial');
    await authorizeKms(ctx, svc, { action: 'kms:DeleteImportedKeyMaterial', key });
    assertCustomerManaged(key, 'kms:DeleteImportedKeyMaterial', ctx.caller);
    assertExternalOrigin(key);
    const materialId = await deleteMaterial(key, input.KeyMaterialId, svc);
    return materialId === undefined ? { KeyId: key.arn } : { KeyId: key.arn, KeyMaterialId: materialId };
  },
};
