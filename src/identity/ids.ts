/**
 * Identifiers in AWS's shapes: IAM unique ids (IAM User Guide, reference_identifiers
 * "Unique identifiers": AIDA users, AROA roles, AGPA groups, ANPA managed policies; AKIA long-term
 * and ASIA temporary access keys), 12-digit account ids, and Organizations ids
 * (o-, r-, p-, car- with the lengths of the Organizations model's patterns).
 */
import { randomBytes, randomInt } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const LOWER36 = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** The prefixes of IAM unique ids and access key ids, by what they identify. */
export const ID_PREFIX = Object.freeze({
  user: 'AIDA',
  role: 'AROA',
  group: 'AGPA',
  managedPolicy: 'ANPA',
  accessKey: 'AKIA',
  temporaryAccessKey: 'ASIA',
} as const);

function randomFrom(alphabet: string, n: number): string {
  const bytes = randomBytes(n);
  let s = '';
  // 32 and 36 symbols: `% length` over a byte is uniform for 32 and nearly so for 36 (ids, not secrets).
  for (const b of bytes) s += alphabet[b % alphabet.length];
  return s;
}

/** A unique id: prefix + 17 base32 characters (21 in all, as AWS's). */
export function newUniqueId(prefix: (typeof ID_PREFIX)[keyof typeof ID_PREFIX]): string {
  return prefix + randomFrom(BASE32, 17);
}

/** A temporary access key id: ASIA + 16 base32 characters. */
export function newTemporaryAccessKeyId(): string {
  return ID_PREFIX.temporaryAccessKey + randomFrom(BASE32, 16);
}

/** A random 12-digit account id (no leading zero). */
export function newAccountId(): string {
  return String(randomInt(100_000_000_000, 999_999_999_999));
}

/** o-[a-z0-9]{10} */
export function newOrganizationId(): string {
  return 'o-' + randomFrom(LOWER36, 10);
}

/** r-[0-9a-z]{4} */
export function newRootId(): string {
  return 'r-' + randomFrom(LOWER36, 4);
}

/** p-[0-9a-z]{8} */
export function newOrgPolicyId(): string {
  return 'p-' + randomFrom(LOWER36, 8);
}

/** car-[a-z0-9]{8,32} (CreateAccount request ids) */
export function newCreateAccountRequestId(): string {
  return 'car-' + randomFrom(LOWER36, 32);
}
