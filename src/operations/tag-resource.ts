/**
 * TagResource: adds or overwrites tags on a customer managed key, at most 50 per key
 * (kms-reference.md §6 TagList, §12.2).
 */
import { ServiceError } from '../errors';
import { assertCustomerManaged } from '../keys/aws-managed';
import { addTags } from '../keys/guarded-writes';
import { assertKeyState } from '../keys/key-states';
import type { TagRecord } from '../store/records';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import type { TransactionRunner } from '../store/store';
import { MAX_TAGS_PER_KEY, validateTags } from './tags';
import { authorizeKms, requestTagConditions } from './authorize';
import type { KmsAuthorizationStore } from './authorize';
import { KMS_OUTPUTS, type TagResourceOutput } from '../model/kms-outputs';

interface TagResourceInput {
  KeyId: string;
  Tags: TagRecord[];
}

export const tagResource: Operation<TagResourceInput, TagResourceOutput, KmsAuthorizationStore & TransactionRunner> = {
  name: 'TagResource',
  output: KMS_OUTPUTS.TagResource,
  readOnly: false,
  input: KMS_INPUTS.TagResource,
  async invoke(input, ctx, svc) {
    const { key } = await svc.keyring.resolve(input.KeyId, 'key', ctx.caller, ctx.region, 'kms:TagResource');
    await authorizeKms(ctx, svc, { action: 'kms:TagResource', key, conditions: requestTagConditions(input.Tags) });
    assertCustomerManaged(key, 'kms:TagResource', ctx.caller);
    assertKeyState(key, 'modify');
    validateTags(input.Tags);
    // The limit over the key's current tags and its state are decided in one transaction (issue 13).
    const tags = input.Tags.map((t) => ({ TagKey: t.TagKey, TagValue: t.TagValue }));
    const outcome = await addTags(svc.store, key.arn, tags, MAX_TAGS_PER_KEY, (current) => assertKeyState(current, 'modify'));
    if (outcome === 'limit-exceeded') {
      throw new ServiceError('LimitExceededException', `The request would give ${key.arn} more than ${MAX_TAGS_PER_KEY} tags.`);
    }
    if (outcome === 'no-key') throw new ServiceError('NotFoundException', `Key '${key.arn}' does not exist`);
    return undefined;
  },
};
