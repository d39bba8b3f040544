/**
 * What the five grant operations share: member shapes from the KMS model (kms-reference.md §6
 * PrincipalIdType, GrantIdType, GrantNameType), the wire GrantListEntry (§3.2), paging over
 * grant positions, and the errors for a grant id that names no grant.
 */
import { ServiceError } from '../errors';
import type { GrantRecord } from '../store/records';
import { grantPosition, parseGrantPosition, type PageRequest } from '../store/store';
import { page } from './pagination';
import type { StringShape } from './shape';

/** PrincipalIdType: GranteePrincipal, RetiringPrincipal (and the service principal members, whose model pattern is not published). */
export const principalShape = (): StringShape => ({ type: 'string', min: 1, max: 256, pattern: /^[\w+=,.@:/-]+$/ });
/** GrantIdType. */
export const grantIdShape = (required = false): StringShape => ({ type: 'string', min: 1, max: 128, required });
/** GrantTokenType. */
export const grantTokenShape = (): StringShape => ({ type: 'string', min: 1, max: 8192 });

/** A grant id that names no grant of the key (RetireGrant by KeyId and GrantId, RevokeGrant, ListGrants' filter). */
export function invalidGrantId(): ServiceError {
  return new ServiceError('InvalidGrantIdException', 'The grant ID does not identify a grant on this KMS key.');
}

/** The wire GrantListEntry of a grant (ListGrants, ListRetirableGrants). */
export function grantListEntry(g: GrantRecord): Record<string, unknown> {
  const partition = g.keyArn.split(':')[1] ?? 'aws';
  return {
    KeyId: g.keyArn,
    GrantId: g.grantId,
    // AWS lists an unnamed grant with "Name": "" (grant-manage.html, "Viewing grants").
    Name: g.name ?? '',
    CreationDate: g.creationDate,
    ...(g.granteePrincipal !== null ? { GranteePrincipal: g.granteePrincipal } : {}),
    ...(g.granteeServicePrincipal !== null ? { GranteeServicePrincipal: g.granteeServicePrincipal } : {}),
    ...(g.retiringPrincipal !== null ? { RetiringPrincipal: g.retiringPrincipal } : {}),
    ...(g.retiringServicePrincipal !== null ? { RetiringServicePrincipal: g.retiringServicePrincipal } : {}),
    IssuingAccount: `arn:${partition}:iam::${g.issuingAccount}:root`,
    Operations: [...g.operations],
    ...(g.constraints !== null ? { Constraints: g.constraints } : {}),
  };
}

/** One ListGrants-shaped page of grants by creation time; a marker that is not a grant position is InvalidMarkerException. */
export async function grantPage(
  marker: string | undefined,
  limit: number,
  fetch: (page: PageRequest) => Promise<GrantRecord[]>,
): Promise<Record<string, unknown>> {
  const p = await page(
    marker,
    limit,
    (after, n) => {
      if (after !== undefined && parseGrantPosition(after) === undefined) {
        throw new ServiceError('InvalidMarkerException', 'The marker is not valid.');
      }
      return fetch({ ...(after !== undefined ? { after } : {}), limit: n });
    },
    grantPosition,
  );
  return {
    Grants: p.items.map(grantListEntry),
    Truncated: p.Truncated,
    ...(p.NextMarker !== undefined ? { NextMarker: p.NextMarker } : {}),
  };
}
