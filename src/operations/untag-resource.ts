/** UntagResource: removes tags from a key by tag key; keys it does not have are ignored. */
import { assertCustomerManaged } from '../keys/aws-managed';
import { assertKeyState } from '../keys/key-states';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import type { TagRepository } from '../store/store';
import { authorizeKms } from './authorize';
import type { KmsAuthorizationStore } from './authorize';
import { KMS_OUTPUTS, type UntagResourceOutput } from '../model/kms-outputs';

interface UntagResourceInput {
  KeyId: string;
  TagKeys: string[];
}

export const untagResource: Operation<UntagResourceInput, UntagResourceOutput, KmsAuthorizationStore & TagRepository> = {
  name: 'UntagResource',
  output: KMS_OUTPUTS.UntagResource,
  readOnly: false,
  input: KMS_INPUTS.UntagResource,
  async invoke(input, ctx, svc) {
    const { key } = await svc.keyring.resolve(input.KeyId, 'key', ctx.caller, ctx.region, 'kms:UntagResource');
    await authorizeKms(ctx, svc, { action: 'kms:UntagResource', key, conditions: { 'aws:TagKeys': input.TagKeys } });
    assertCustomerManaged(key, 'kms:UntagResource', ctx.caller);
    assertKeyState(key, 'modify');
    await svc.store.removeTags(key.arn, input.TagKeys);
    return undefined;
  },
};
