/** ListResourceTags: a key's tags ordered by tag key, paginated (Limit 1–50, default 50). */
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import { page, pageLimit } from './pagination';
import { authorizeKms } from './authorize';
import type { KmsAuthorizationStore } from './authorize';
import { KMS_OUTPUTS, type ListResourceTagsOutput } from '../model/kms-outputs';

interface ListResourceTagsInput {
  KeyId: string;
  Limit?: number;
  Marker?: string;
}

export const listResourceTags: Operation<ListResourceTagsInput, ListResourceTagsOutput, KmsAuthorizationStore> = {
  name: 'ListResourceTags',
  output: KMS_OUTPUTS.ListResourceTags,
  readOnly: true,
  input: KMS_INPUTS.ListResourceTags,
  async invoke(input, ctx, svc) {
    const limit = pageLimit(input.Limit, 50, 50);
    const { key } = await svc.keyring.resolve(input.KeyId, 'key', ctx.caller, ctx.region, 'kms:ListResourceTags');
    await authorizeKms(ctx, svc, { action: 'kms:ListResourceTags', key });
    const p = await page(
      input.Marker,
      limit,
      (after, n) => svc.store.listTags(key.arn, { after, limit: n }),
      (t) => t.TagKey,
    );
    return {
      Tags: p.items.map((t) => ({ TagKey: t.TagKey, TagValue: t.TagValue })),
      Truncated: p.Truncated,
      ...(p.NextMarker !== undefined ? { NextMarker: p.NextMarker } : {}),
    };
  },
};
