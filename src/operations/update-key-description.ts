/** UpdateKeyDescription: replaces a key's description; refused while the key is pending deletion. */
import { assertCustomerManaged } from '../keys/aws-managed';
import { changeKey } from './key-transition';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import type { TransactionRunner } from '../store/store';
import { authorizeKms } from './authorize';
import type { KmsAuthorizationStore } from './authorize';
import { KMS_OUTPUTS, type UpdateKeyDescriptionOutput } from '../model/kms-outputs';

interface UpdateKeyDescriptionInput {
  KeyId: string;
  Description: string;
}


export const updateKeyDescription: Operation<UpdateKeyDescriptionInput, UpdateKeyDescriptionOutput, KmsAuthorizationStore & TransactionRunner> = {
  name: 'UpdateKeyDescription',
  output: KMS_OUTPUTS.UpdateKeyDescription,
  readOnly: false,
  input: KMS_INPUTS.UpdateKeyDescription,
  async invoke(input, ctx, svc) {
    const { key } = await svc.keyring.resolve(input.KeyId, 'key', ctx.caller, ctx.region, 'kms:UpdateKeyDescription');
    await authorizeKms(ctx, svc, { action: 'kms:UpdateKeyDescription', key });
    assertCustomerManaged(key, 'kms:UpdateKeyDescription', ctx.caller);
    await changeKey(svc, key, 'modify', () => ({ description: input.Description }));
    return undefined;
  },
};
