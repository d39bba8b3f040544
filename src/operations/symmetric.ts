/**
 * Shared steps of the symmetric cryptographic operations (Encrypt, Decrypt, ReEncrypt,
 * GenerateDataKey*): resolving a usable key, encrypting under its current version, and
 * decrypting a blob with the one fixed error AWS gives for every failure.
 */
import {
  CiphertextError,
  decryptSymmetric,
  encryptSymmetric,
  parseCiphertextHeader,
  type CiphertextHeader,
} from '../crypto/symmetric-ciphertext';
import type { EncryptionContext } from '../crypto/encryption-context';
import { noteKey } from '../audit/notes';
import { ServiceError } from '../errors';
import { keyArn } from '../keys/arn';
import { assertKeyState } from '../keys/key-states';
import type { ResolvedKey } from '../keys/keyring';
import type { KeyRecord } from '../store/records';
import type { RequestContext, Services } from './operation';

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

/** Resolves a KeyId argument that names a key for symmetric use. */
export async function resolveForUse(
  keyId: string,
  action: string,
  algorithm: string | undefined,
  ctx: RequestContext,
  svc: Services,
): Promise<ResolvedKey> {
  const resolved = await svc.keyring.resolve(keyId, 'key-or-alias', ctx.caller, ctx.region, action);
  noteKey(ctx.audit, resolved.key.arn);
  assertSymmetricUse(resolved.key, algorithm);
  return resolved;
}

/** Encrypts under the key's current version. */
export async function encryptUnder(key: KeyRecord, plaintext: Buffer, context: EncryptionContext | undefined, svc: Services): Promise<Buffer> {
  const material = await svc.keyring.material(key, key.currentVersion);
  if (material === undefined) throw new ServiceError('KeyUnavailableException', `${key.arn} is unavailable.`);
  return encryptSymmetric(key.accountId, key.keyId, key.currentVersion, material, plaintext, context);
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
 * Finds the key that made a blob. With `keyIdArg`, that key must be the blob's key
 * (IncorrectKeyException otherwise).
 */
export async function keyForBlob(
  header: CiphertextHeader,
  keyIdArg: string | undefined,
  action: string,
  ctx: RequestContext,
  svc: Services,
): Promise<KeyRecord> {
  if (keyIdArg !== undefined) {
    const { key } = await svc.keyring.resolve(keyIdArg, 'key-or-alias', ctx.caller, ctx.region, action);
    noteKey(ctx.audit, key.arn);
    if (key.keyId !== header.keyId || key.accountId !== header.accountId) {
      throw new ServiceError('IncorrectKeyException', 'The key ID in the request does not identify a CMK that can perform this operation.');
    }
    return key;
  }
  const key = await svc.keyring.getKey(keyArn(ctx.region, header.accountId, header.keyId));
  if (key !== undefined) noteKey(ctx.audit, key.arn);
  if (key === undefined) {
    throw new ServiceError('AccessDeniedException', MISSING_KEY);
  }
  if (key.accountId !== ctx.caller.accountId) {
    throw new ServiceError(
      'AccessDeniedException',
      `User: ${ctx.caller.principalArn} is not authorized to perform: ${action} on resource: ${key.arn} because no resource-based policy allows the ${action} action`,
    );
  }
  return key;
}

/** Decrypts a blob made by `key`; every failure is one InvalidCiphertextException. */
export async function decryptWith(
  key: KeyRecord,
  blob: Buffer,
  header: CiphertextHeader,
  context: EncryptionContext | undefined,
  svc: Services,
): Promise<Buffer> {
  const material = await svc.keyring.material(key, header.version);
  if (material === undefined) throw new ServiceError('InvalidCiphertextException', INVALID_CIPHERTEXT);
  try {
    return decryptSymmetric(blob, header, material, context);
  } catch (e) {
    if (e instanceof CiphertextError) throw new ServiceError('InvalidCiphertextException', INVALID_CIPHERTEXT);
    throw e;
  }
}

/** The DryRun answer when a request would have succeeded. */
export function dryRunSucceeded(): ServiceError {
  return new ServiceError('DryRunOperationException', 'The request would have succeeded, but the DryRun option is set.');
}
