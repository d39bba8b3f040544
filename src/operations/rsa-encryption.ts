/**
 * The RSA half of Encrypt, Decrypt and ReEncrypt (ENCRYPT_DECRYPT keys of the RSA specs):
 * RSAES-OAEP with SHA-1 or SHA-256 (MGF1 with the same hash), raw OAEP ciphertext as AWS
 * returns it, AWS's plaintext limits (k - 2·hLen - 2 bytes), no encryption context
 * (asymmetric KMS keys do not support one), and the one InvalidCiphertextException message for
 * every decryption failure.
 */
import { ENCRYPTION_ALGORITHMS, oaepMaxPlaintext, type EncryptionAlgorithm } from '../crypto/algorithms';
import type { EncryptionContext } from '../crypto/encryption-context';
import { ServiceError } from '../errors';
import { keySpecFacts } from '../keys/key-specs';
import type { KeyRecord } from '../store/records';
import { assertKeyUse } from './key-use';
import type { Services } from './operation';
import { assertSymmetricUse, INVALID_CIPHERTEXT } from './symmetric';

/** Whether `key` encrypts with the symmetric ciphertext format (else: RSA). */
export function isSymmetric(key: KeyRecord): boolean {
  return key.keySpec === 'SYMMETRIC_DEFAULT';
}

/** Checks that `key` can encrypt/decrypt with `algorithm` (default SYMMETRIC_DEFAULT); returns its facts. */
export function assertEncryptionUse(key: KeyRecord, algorithm: string | undefined): EncryptionAlgorithm {
  if (isSymmetric(key)) {
    assertSymmetricUse(key, algorithm);
    return ENCRYPTION_ALGORITHMS.SYMMETRIC_DEFAULT as EncryptionAlgorithm;
  }
  const name = algorithm ?? 'SYMMETRIC_DEFAULT';
  assertKeyUse(key, 'ENCRYPT_DECRYPT', name);
  return ENCRYPTION_ALGORITHMS[name] as EncryptionAlgorithm;
}

function refuseContext(context: EncryptionContext | undefined): void {
  if (context !== undefined && Object.keys(context).length > 0) {
    throw new ServiceError('ValidationException', 'EncryptionContext is not supported with asymmetric KMS keys.');
  }
}

/** Encrypts to the key's public key. */
export async function rsaEncrypt(key: KeyRecord, alg: EncryptionAlgorithm, plaintext: Buffer, context: EncryptionContext | undefined, svc: Services<unknown>): Promise<Buffer> {
  refuseContext(context);
  const max = oaepMaxPlaintext(keySpecFacts(key.keySpec).bits, alg);
  if (plaintext.length > max) {
    throw new ServiceError('ValidationException', `Plaintext is too long for ${alg.name} with a ${key.keySpec} key: the maximum is ${max} bytes.`);
  }
  return svc.backend.encrypt({ key, version: key.currentVersion }, alg, plaintext);
}

/** Decrypts raw OAEP ciphertext; any failure is InvalidCiphertextException. */
export async function rsaDecrypt(key: KeyRecord, alg: EncryptionAlgorithm, ciphertext: Buffer, context: EncryptionContext | undefined, svc: Services<unknown>): Promise<Buffer> {
  refuseContext(context);
  const plaintext = await svc.backend.decrypt({ key, version: key.currentVersion }, alg, ciphertext);
  if (plaintext === undefined) throw new ServiceError('InvalidCiphertextException', INVALID_CIPHERTEXT);
  return plaintext;
}
