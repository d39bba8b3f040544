/**
 * Shared steps of the operations on asymmetric and HMAC keys (Sign, Verify, GetPublicKey,
 * GenerateMac, VerifyMac, and the RSA halves of Encrypt/Decrypt/ReEncrypt): resolve the key,
 * authorize the action with the request's condition keys, then check state, usage and
 * algorithm in AWS's order.
 */
import { noteKey } from '../audit/notes';
import { ServiceError } from '../errors';
import { assertKeyState } from '../keys/key-states';
import type { ResolvedKey } from '../keys/keyring';
import { algorithmsFor } from '../keys/key-specs';
import type { KeyRecord } from '../store/records';
import { authorizeKms, type KmsAuthorization } from './authorize';
import type { RequestContext, Services } from './operation';
import type { KmsAuthorizationStore } from './authorize';

/** Resolves `keyId`, notes it for the audit record, and authorizes `auth.action` on it. */
export async function resolveAndAuthorize(
  keyId: string,
  auth: Omit<KmsAuthorization, 'key' | 'requestAlias'>,
  ctx: RequestContext,
  svc: Services<KmsAuthorizationStore>,
): Promise<ResolvedKey> {
  const resolved = await svc.keyring.resolve(keyId, 'key-or-alias', ctx.caller, ctx.region, auth.action);
  noteKey(ctx.audit, resolved.key.arn);
  await authorizeKms(ctx, svc, { ...auth, key: resolved.key, requestAlias: resolved.requestAlias });
  return resolved;
}

/** InvalidKeyUsageException for a key whose KeyUsage does not allow the operation. */
export function wrongUsage(key: KeyRecord): ServiceError {
  return new ServiceError('InvalidKeyUsageException', `${key.arn} key usage is ${key.keyUsage} which is not valid for this operation.`);
}

/**
 * Checks that `key` is usable (state), has `usage` (else InvalidKeyUsageException), and that
 * `algorithm` is one its spec supports for that usage (src/keys/key-specs.ts).
 */
export function assertKeyUse(key: KeyRecord, usage: string, algorithm: string): void {
  assertKeyState(key, 'use');
  if (key.keyUsage !== usage) throw wrongUsage(key);
  if (!algorithmsFor(key.keySpec, usage).includes(algorithm)) {
    throw new ServiceError('InvalidKeyUsageException', `Algorithm ${algorithm} is incompatible with key spec ${key.keySpec}.`);
  }
}
