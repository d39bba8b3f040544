/**
 * ListAliases: the aliases of the caller's account in this region, optionally only those of one
 * key, ordered by name and paginated (Limit 1–100, default 50).
 */
import { aliasArn } from '../keys/arn';
import { epochSeconds, type Operation } from './operation';
import { page, pageLimit } from './pagination';
import { S, structure } from './shape';

interface ListAliasesInput {
  KeyId?: string;
  Limit?: number;
  Marker?: string;
}

export const listAliases: Operation<ListAliasesInput> = {
  name: 'ListAliases',
  readOnly: true,
  input: structure({ KeyId: S.keyId(false), Limit: S.limit(), Marker: S.marker() }),
  async invoke(input, ctx, svc) {
    const limit = pageLimit(input.Limit, 100, 50);
    const { accountId } = ctx.caller;
    const keyId =
      input.KeyId === undefined
        ? undefined
        : (await svc.keyring.resolve(input.KeyId, 'key', ctx.caller, ctx.region, 'kms:ListAliases')).key.arn;
    const p = await page(
      input.Marker,
      limit,
      (after, n) => svc.store.listAliases(accountId, ctx.region, keyId, { after, limit: n }),
      (a) => a.aliasName,
    );
    return {
      Aliases: p.items.map((a) => ({
        AliasName: a.aliasName,
        AliasArn: aliasArn(a.region, a.accountId, a.aliasName),
        TargetKeyId: a.targetKeyId,
        CreationDate: epochSeconds(a.creationDate),
        LastUpdatedDate: epochSeconds(a.lastUpdatedDate),
      })),
      Truncated: p.Truncated,
      ...(p.NextMarker !== undefined ? { NextMarker: p.NextMarker } : {}),
    };
  },
};
