/** DisableKey: an Enabled key becomes Disabled (kms-reference.md §8, row DisableKey). */
import { assertCustomerManaged } from '../keys/aws-managed';
import { changeKey } from './key-transition';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import type { TransactionRunner } from '../store/store';
import { authorizeKms } from './authorize';
import type { KmsAuthorizationStore } from './authorize';
import { KMS_OUTPUTS, type DisableKeyOutput } from '../model/kms-outputs';

interface DisableKeyInput {
  KeyId: string;
}


export const disableKey: Operation<DisableKeyInput, DisableKeyOutput, KmsAuthorizationStore & TransactionRunner> = {
  name: 'DisableKey',
  output: KMS_OUTPUTS.DisableKey,
  readOnly: false,
  input: KMS_INPUTS.DisableKey,
  async invoke(input, ctx, svc) {
    const { key } = await svc.keyring.resolve(input.KeyId, 'key', ctx.caller, ctx.region, 'kms:DisableKey');
    await authorizeKms(ctx, svc, { action: 'kms:DisableKey', key });
    assertCustomerManaged(key, 'kms:DisableKey', ctx.caller);
    // Unavailable: succeeds, but the state changes only when the key store reconnects (§8 [12]).
    await changeKey(svc, key, 'toggle', (k) => (k.state === 'Disabled' || k.state === 'Unavailable' ? undefined : { state: 'Disabled' }));
    return undefined;
  },
};
