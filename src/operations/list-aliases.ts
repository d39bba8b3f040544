/**
 * ListAliases: the aliases of the caller's account in this region, optionally only those of one
 * key, ordered by name and paginated (Limit 1–100, default 50).
 */
import { KMS_INPUTS } from '../model/kms-inputs';
import { aliasArn } from '../keys/arn';
import { withPredefinedAliases } from '../keys/aws-managed';
import type { Operation } from './operation';
import { page, pageLimit } from './pagination';
import { authorizeKms } from './authorize';
import type { KmsAuthorizationStore } from './authorize';
import { KMS_OUTPUTS, type ListAliasesOutput } from '../model/kms-outputs';

interface ListAliasesInput {
  KeyId?: string;
  Limit?: number;
  Marker?: string;
}

export const listAliases: Operation<ListAliasesInput, ListAliasesOutput, KmsAuthorizationStore> = {
  name: 'ListAliases',
  output: KMS_OUTPUTS.ListAliases,
  readOnly: true,
  input: KMS_INPUTS.ListAliases,
  async invoke(input, ctx, svc) {
    await authorizeKms(ctx, svc, { action: 'kms:ListAliases' });
    const limit = pageLimit(input.Limit, 100, 50);
    const { accountId } = ctx.caller;
    const keyId =
      input.KeyId === undefined
        ? undefined
        : (await svc.keyring.resolve(input.KeyId, 'key', ctx.caller, ctx.region, 'kms:ListAliases')).key.arn;
    const p = await page(
      input.Marker,
      limit,
      async (after, n) => {
        const stored = await svc.store.listAliases(accountId, ctx.region, keyId, { after, limit: n });
        // Unfiltered listings include the predefined alias/aws/* aliases, used or not (aws-managed.ts).
        return keyId === undefined ? withPredefinedAliases(stored, accountId, ctx.region, after, n) : stored;
      },
      (a) => a.aliasName,
    );
    return {
      Aliases: p.items.map((a) => ({
        AliasName: a.aliasName,
        AliasArn: aliasArn(a.region, a.accountId, a.aliasName),
        ...(a.targetKeyId !== undefined ? { TargetKeyId: a.targetKeyId } : {}),
        ...(a.creationDate !== undefined ? { CreationDate: a.creationDate } : {}),
        ...(a.lastUpdatedDate !== undefined ? { LastUpdatedDate: a.lastUpdatedDate } : {}),
      })),
      Truncated: p.Truncated,
      ...(p.NextMarker !== undefined ? { NextMarker: p.NextMarker } : {}),
    };
  },
};
