/**
 * ListGrants: the grants of one key by creation time, optionally only one grant id or one
 * grantee principal; Limit 1–100, default 50 (kms-reference.md §3 ListGrants, §3.2 GrantListEntry).
 * Allowed in every key state.
 */
import { noteKey } from '../audit/notes';
import { ServiceError } from '../errors';
import { grantIdShape, grantPage, invalidGrantId, principalShape } from './grant-common';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import { pageLimit } from './pagination';
import { authorizeKms } from './authorize';
import type { KmsAuthorizationStore } from './authorize';
import { KMS_OUTPUTS, type ListGrantsOutput } from '../model/kms-outputs';

interface ListGrantsInput {
  Limit?: number;
  Marker?: string;
  KeyId: string;
  GrantId?: string;
  GranteePrincipal?: string;
  GranteeServicePrincipal?: string;
}

export const listGrants: Operation<ListGrantsInput, ListGrantsOutput, KmsAuthorizationStore> = {
  name: 'ListGrants',
  output: KMS_OUTPUTS.ListGrants,
  readOnly: true,
  input: KMS_INPUTS.ListGrants,
  async invoke(input, ctx, svc) {
    const limit = pageLimit(input.Limit, 100, 50);
    if (input.GranteePrincipal !== undefined && input.GranteeServicePrincipal !== undefined) {
      throw new ServiceError('ValidationException', 'You can specify either GranteePrincipal or GranteeServicePrincipal, but not both.');
    }
    const { key } = await svc.keyring.resolve(input.KeyId, 'key', ctx.caller, ctx.region, 'kms:ListGrants');
    noteKey(ctx.audit, key.arn);
    await authorizeKms(ctx, svc, { action: 'kms:ListGrants', key });
    if (input.GranteeServicePrincipal !== undefined) {
      // "This filter is only usable by callers in a service principal" — and no Keyhold caller is one.
      throw new ServiceError(
        'AccessDeniedException',
        `User: ${ctx.caller.principalArn} is not authorized to filter grants by GranteeServicePrincipal: only AWS service principals may.`,
      );
    }
    if (input.GrantId !== undefined) {
      const g = await svc.store.getGrant(input.GrantId);
      if (g === undefined || g.keyArn !== key.arn) throw invalidGrantId();
    }
    const filter = {
      ...(input.GrantId !== undefined ? { grantId: input.GrantId } : {}),
      ...(input.GranteePrincipal !== undefined ? { granteePrincipal: input.GranteePrincipal } : {}),
    };
    return grantPage(input.Marker, limit, (page) => svc.store.listGrants(key.arn, filter, page));
  },
};
