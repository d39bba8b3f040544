/**
 * CancelKeyDeletion: a key pending deletion becomes Disabled, not Enabled (kms-reference.md §3
 * row 1, §8 footnote [4]).
 */
import { assertCustomerManaged } from '../keys/aws-managed';
import { changeKey } from './key-transition';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import type { KeyVersionRepository, TransactionRunner } from '../store/store';
import { authorizeKms } from './authorize';
import type { KmsAuthorizationStore } from './authorize';
import { KMS_OUTPUTS, type CancelKeyDeletionOutput } from '../model/kms-outputs';

interface CancelKeyDeletionInput {
  KeyId: string;
}


export const cancelKeyDeletion: Operation<CancelKeyDeletionInput, CancelKeyDeletionOutput, KmsAuthorizationStore & KeyVersionRepository & TransactionRunner> = {
  name: 'CancelKeyDeletion',
  output: KMS_OUTPUTS.CancelKeyDeletion,
  readOnly: false,
  input: KMS_INPUTS.CancelKeyDeletion,
  async invoke(input, ctx, svc) {
    const { key } = await svc.keyring.resolve(input.KeyId, 'key', ctx.caller, ctx.region, 'kms:CancelKeyDeletion');
    await authorizeKms(ctx, svc, { action: 'kms:CancelKeyDeletion', key });
    assertCustomerManaged(key, 'kms:CancelKeyDeletion', ctx.caller);
    // Cancelling leaves the key Disabled, as AWS does (kms-reference.md §8) — except an imported
    // key without material, which can only return to PendingImport.
    const current = key.currentVersion === 0 ? undefined : await svc.store.getKeyVersion(key.arn, key.currentVersion);
    const state = key.origin === 'EXTERNAL' && (current === undefined || current.wrappedMaterial === null) ? 'PendingImport' : 'Disabled';
    await changeKey(svc, key, 'cancel-deletion', () => ({ state, deletionDate: null, pendingWindowInDays: null }));
    return { KeyId: key.arn };
  },
};
