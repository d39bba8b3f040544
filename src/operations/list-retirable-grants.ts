/**
 * ListRetirableGrants: the grants in this Region, on keys of any account, whose retiring
 * principal is the given principal of the caller's own account; Limit 1–100, default 50
 * (kms-reference.md §3 ListRetirableGrants). The authorized resource is that principal, so a
 * principal of another account is refused as a missing resource-based allow.
 */
import { ServiceError } from '../errors';
import { isPrincipalArn, principalAccount } from '../keys/grants';
import { grantPage, principalShape } from './grant-common';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import { pageLimit } from './pagination';
import { authorizeKms } from './authorize';
import type { KmsAuthorizationStore } from './authorize';
import { KMS_OUTPUTS, type ListRetirableGrantsOutput } from '../model/kms-outputs';

interface ListRetirableGrantsInput {
  Limit?: number;
  Marker?: string;
  RetiringPrincipal?: string;
  RetiringServicePrincipal?: string;
}

const ACTION = 'kms:ListRetirableGrants';

export const listRetirableGrants: Operation<ListRetirableGrantsInput, ListRetirableGrantsOutput, KmsAuthorizationStore> = {
  name: 'ListRetirableGrants',
  output: KMS_OUTPUTS.ListRetirableGrants,
  readOnly: true,
  input: KMS_INPUTS.ListRetirableGrants,
  async invoke(input, ctx, svc) {
    const limit = pageLimit(input.Limit, 100, 50);
    if (input.RetiringPrincipal !== undefined && input.RetiringServicePrincipal !== undefined) {
      throw new ServiceError('ValidationException', 'You can specify either RetiringPrincipal or RetiringServicePrincipal, but not both.');
    }
    const { caller } = ctx;
    if (input.RetiringServicePrincipal !== undefined) {
      // "The RetiringServicePrincipal filter is only usable by callers in a service principal."
      throw new ServiceError(
        'AccessDeniedException',
        `User: ${caller.principalArn} is not authorized to list grants by RetiringServicePrincipal: only AWS service principals may.`,
      );
    }
    const principal = input.RetiringPrincipal;
    if (principal === undefined) {
      throw new ServiceError(
        'ValidationException',
        "1 validation error detected: Value null at 'retiringPrincipal' failed to satisfy constraint: Member must not be null",
      );
    }
    if (!isPrincipalArn(principal)) throw new ServiceError('InvalidArnException', 'RetiringPrincipal must be the ARN of an AWS principal.');
    if (principalAccount(principal) !== caller.accountId) {
      throw new ServiceError(
        'AccessDeniedException',
        `User: ${caller.principalArn} is not authorized to perform: ${ACTION} on resource: ${principal} because no resource-based policy allows the ${ACTION} action`,
      );
    }
    await authorizeKms(ctx, svc, { action: ACTION });
    return grantPage(input.Marker, limit, (page) => svc.store.listRetirableGrants(ctx.region, principal, page));
  },
};
