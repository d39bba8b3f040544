/** EnableKey: a Disabled key becomes Enabled (kms-reference.md §8, row EnableKey). */
import { assertCustomerManaged } from '../keys/aws-managed';
import { scheduleOnReenable } from '../keys/rotate';
import { changeKey } from './key-transition';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import type { KeyVersionRepository, TransactionRunner } from '../store/store';
import { authorizeKms } from './authorize';
import type { KmsAuthorizationStore } from './authorize';
import { KMS_OUTPUTS, type EnableKeyOutput } from '../model/kms-outputs';

interface EnableKeyInput {
  KeyId: string;
}


export const enableKey: Operation<EnableKeyInput, EnableKeyOutput, KmsAuthorizationStore & KeyVersionRepository & TransactionRunner> = {
  name: 'EnableKey',
  output: KMS_OUTPUTS.EnableKey,
  readOnly: false,
  input: KMS_INPUTS.EnableKey,
  async invoke(input, ctx, svc) {
    const { key } = await svc.keyring.resolve(input.KeyId, 'key', ctx.caller, ctx.region, 'kms:EnableKey');
    await authorizeKms(ctx, svc, { action: 'kms:EnableKey', key });
    assertCustomerManaged(key, 'kms:EnableKey', ctx.caller);
    // Material older than the rotation period rotates on the scheduler's next pass (rotate.ts).
    const rotation = await scheduleOnReenable(svc.store, key, svc.clock.now());
    // Unavailable: succeeds, but the state changes only when the key store reconnects (§8 [12]).
    await changeKey(svc, key, 'toggle', (k) => (k.state === 'Enabled' || k.state === 'Unavailable' ? undefined : { state: 'Enabled', ...rotation }));
    return undefined;
  },
};
