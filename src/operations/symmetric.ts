/**
 * Shared steps of the symmetric cryptographic operations (Encrypt, Decrypt, ReEncrypt,
 * GenerateDataKey*): resolving a usable key, encrypting under its current version, and
 * decrypting a blob with the one fixed error AWS gives for every failure.
 */
import { CiphertextError, parseCiphertextHeader, type CiphertextHeader } from '../crypto/symmetric-ciphertext';
import type { EncryptionContext } from '../crypto/encryption-context';
import { noteKey } from '../audit/notes';
import { ServiceError } from '../errors';
import { keyArn } from '../keys/arn';
import { assertKeyState } from '../keys/key-states';
import type { ResolvedKey } from '../keys/keyring';
import type { KeyRecord } from '../store/records';
import { authorizeKms, type KmsAuthorization } from './authorize';
import type { RequestContext, Services } from './operation';
import type { KmsAuthorizationStore } from './authorize';

/** The request facts a cryptographic operation's authorization takes (src/operations/authorize.ts). */
export type UseDetails = Pick<KmsAuthorization, 'encryptionContext' | 'grantTokens' | 'conditions'>;

/** The one message for every decryption failure (STYLE habit 4). */
export const INVALID_CIPHERTEXT = 'The ciphertext is invalid, was altered, or was made with a different encryption context.';
const MISSING_KEY =
  'The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.';

/** Checks that `key` can run a symmetric cryptographic operation with `algorithm`. */
export function assertSymmetricUse(key: KeyRecord, algorithm: string | undefined): void {
  assertKeyState(key, 'use');
  if (key.keyUsage !== 'ENCRYPT_DECRYPT' || key.keySpec !== 'SYMMETRIC_DEFAULT') {
    throw new ServiceError('InvalidKeyUsageException', `${key.arn} key usage is ${key.keyUsage} which is not valid for this operation.`);
  }
  if (algorithm !== undefined && algorithm !== 'SYMMETRIC_DEFAULT') {
    throw new ServiceError('InvalidKeyUsageException', `The encryption algorithm ${algorithm} is not valid for ${key.arn}.`);
  }
}

/** Resolves a KeyId argument that names a key for symmetric use, and authorizes `action` on it. */
export async function resolveForUse(
  keyId: string,
  action: string,
  algorithm: string | undefined,
  ctx: RequestContext,
  svc: Services<KmsAuthorizationStore>,
  details: UseDetails = {},
): Promise<ResolvedKey> {
  const resolved = await svc.keyring.resolve(keyId, 'key-or-alias', ctx.caller, ctx.region, action);
  noteKey(ctx.audit, resolved.key.arn);
  await authorizeKms(ctx, svc, {
    action,
    key: resolved.key,
    requestAlias: resolved.requestAlias,
    encryptionAlgorithm: algorithm ?? 'SYMMETRIC_DEFAULT',
    ...details,
  });
  assertSymmetricUse(resolved.key, algorithm);
  return resolved;
}

/** Encrypts under the key's current version. */
export async function encryptUnder(key: KeyRecord, plaintext: Buffer, context: EncryptionContext | undefined, svc: Services<unknown>): Promise<Buffer> {
  return svc.backend.encryptSymmetric({ key, version: key.currentVersion }, plaintext, context);
}

/** Reads a blob's header or throws InvalidCiphertextException. */
export function readHeader(blob: Buffer): CiphertextHeader {
  try {
    return parseCiphertextHeader(blob);
  } catch {
    throw new ServiceError('InvalidCiphertextException', INVALID_CIPHERTEXT);
  }
}

/**
 * Finds the key that made a blob, without authorizing (ReEncrypt authorizes both of its keys
 * together). Without `keyIdArg` the blob names the key, possibly of another account (§11);
 * with it, that key must be the blob's key (IncorrectKeyException otherwise); `resolved` is
 * `keyIdArg` already resolved by the caller, so it is not looked up twice.
 */
export async function findKeyForBlob(
  header: CiphertextHeader,
  keyIdArg: string | undefined,
  action: string,
  ctx: RequestContext,
  svc: Services<KmsAuthorizationStore>,
  resolved?: ResolvedKey,
): Promise<{ key: KeyRecord; requestAlias: string | undefined; incorrect: boolean }> {
  if (keyIdArg !== undefined) {
    const { key, requestAlias } = resolved ?? (await svc.keyring.resolve(keyIdArg, 'key-or-alias', ctx.caller, ctx.region, action));
    noteKey(ctx.audit, key.arn);
    return { key, requestAlias, incorrect: key.keyId !== header.keyId || key.accountId !== header.accountId };
  }
  const key = await svc.keyring.getKey(keyArn(ctx.region, header.accountId, header.keyId));
  if (key === undefined) throw new ServiceError('AccessDeniedException', MISSING_KEY);
  noteKey(ctx.audit, key.arn);
  return { key, requestAlias: undefined, incorrect: false };
}

/** The IncorrectKeyException of a KeyId that is not the blob's key. */
export function incorrectKey(): ServiceError {
  return new ServiceError('IncorrectKeyException', 'The key ID in the request does not identify a CMK that can perform this operation.');
}

/**
 * Finds the key that made a blob and authorizes `action` on it (Decrypt: resolved from the
 * ciphertext first, then authorized on that key's ARN — kms-reference.md §9.2).
 */
export async function keyForBlob(
  header: CiphertextHeader,
  keyIdArg: string | undefined,
  action: string,
  algorithm: string | undefined,
  ctx: RequestContext,
  svc: Services<KmsAuthorizationStore>,
  details: UseDetails = {},
  resolved?: ResolvedKey,
): Promise<KeyRecord> {
  const found = await findKeyForBlob(header, keyIdArg, action, ctx, svc, resolved);
  await authorizeKms(ctx, svc, {
    action,
    key: found.key,
    requestAlias: found.requestAlias,
    encryptionAlgorithm: algorithm ?? 'SYMMETRIC_DEFAULT',
    ...details,
  });
  if (found.incorrect) throw incorrectKey();
  return found.key;
}

/** Decrypts a blob made by `key`; every failure is one InvalidCiphertextException. */
export async function decryptWith(
  key: KeyRecord,
  blob: Buffer,
  header: CiphertextHeader,
  context: EncryptionContext | undefined,
  svc: Services<unknown>,
): Promise<Buffer> {
  let plaintext: Buffer | undefined;
  try {
    plaintext = await svc.backend.decryptSymmetric({ key, version: header.version }, blob, header, context);
  } catch (e) {
    if (e instanceof CiphertextError) throw new ServiceError('InvalidCiphertextException', INVALID_CIPHERTEXT);
    throw e;
  }
  if (plaintext === undefined) throw new ServiceError('InvalidCiphertextException', INVALID_CIPHERTEXT);
  return plaintext;
}

/** The DryRun answer when a request would have succeeded. */
export function dryRunSucceeded(): ServiceError {
  return new ServiceError('DryRunOperationException', 'The request would have succeeded, but the DryRun option is set.');
}
