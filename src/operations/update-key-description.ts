/** UpdateKeyDescription: replaces a key's description; refused while the key is pending deletion. */
import { assertCustomerManaged } from '../keys/aws-managed';
import { changeKey } from './key-transition';
import type { Operation } from './operation';
import { S, structure } from './shape';
import { authorizeKms } from './authorize';

interface UpdateKeyDescriptionInput {
  KeyId: string;
  Description: string;
}


export const updateKeyDescription: Operation<UpdateKeyDescriptionInput> = {
  name: 'UpdateKeyDescription',
  readOnly: false,
  input: structure({ KeyId: S.keyId(), Description: S.description(true) }),
  async invoke(input, ctx, svc) {
    const { key } = await svc.keyring.resolve(input.KeyId, 'key', ctx.caller, ctx.region, 'kms:UpdateKeyDescription');
    await authorizeKms(ctx, svc, { action: 'kms:UpdateKeyDescription', key });
    assertCustomerManaged(key, 'kms:UpdateKeyDescription', ctx.caller);
    await changeKey(svc, key, 'modify', () => ({ description: input.Description }));
    return undefined;
  },
};
