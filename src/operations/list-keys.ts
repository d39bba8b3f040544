/** ListKeys: the key ids and ARNs of the caller's account in this region, paginated. */
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import type { KeyReader } from '../store/store';
import { page, pageLimit } from './pagination';
import { authorizeKms } from './authorize';
import type { KmsAuthorizationStore } from './authorize';
import { KMS_OUTPUTS, type ListKeysOutput } from '../model/kms-outputs';

interface ListKeysInput {
  Limit?: number;
  Marker?: string;
}

export const listKeys: Operation<ListKeysInput, ListKeysOutput, KmsAuthorizationStore & KeyReader> = {
  name: 'ListKeys',
  output: KMS_OUTPUTS.ListKeys,
  readOnly: true,
  input: KMS_INPUTS.ListKeys,
  async invoke(input, ctx, svc) {
    await authorizeKms(ctx, svc, { action: 'kms:ListKeys' });
    const limit = pageLimit(input.Limit, 1000, 100);
    const p = await page(
      input.Marker,
      limit,
      (after, n) => svc.store.listKeys(ctx.caller.accountId, ctx.region, { after, limit: n }),
      (k) => k.keyId,
    );
    return {
      Keys: p.items.map((k) => ({ KeyId: k.keyId, KeyArn: k.arn })),
      Truncated: p.Truncated,
      ...(p.NextMarker !== undefined ? { NextMarker: p.NextMarker } : {}),
    };
  },
};
