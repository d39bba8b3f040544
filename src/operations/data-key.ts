/**
 * Shared body of GenerateDataKey and GenerateDataKeyWithoutPlaintext: exactly one of KeySpec
 * (AES_128 = 16 bytes, AES_256 = 32 bytes) or NumberOfBytes (1–1024).
 */
import type { EncryptionContext } from '../crypto/encryption-context';
import { fillRandom } from '../crypto/random-pool';
import { ServiceError } from '../errors';
import type { RequestContext, Services } from './operation';
import type { KmsAuthorizationStore } from './authorize';
import { dryRunSucceeded, encryptUnder, resolveForUse } from './symmetric';

/** Input of both data-key operations. */
export interface DataKeyInput {
  KeyId: string;
  EncryptionContext?: EncryptionContext;
  NumberOfBytes?: number;
  KeySpec?: string;
  GrantTokens?: string[];
  DryRun?: boolean;
}

const SPEC_BYTES: Readonly<Record<string, number>> = Object.freeze({ AES_128: 16, AES_256: 32 });

/** Generates a data key; returns it with its ciphertext. The caller wipes `plaintext`. */
export async function generateDataKey(
  input: DataKeyInput,
  action: string,
  ctx: RequestContext,
  svc: Services<KmsAuthorizationStore>,
): Promise<{ plaintext: Buffer; ciphertext: Buffer; keyArn: string }> {
  if (input.KeySpec === undefined && input.NumberOfBytes === undefined) {
    throw new ServiceError('ValidationException', 'Please specify either number of bytes or key spec.');
  }
  if (input.KeySpec !== undefined && input.NumberOfBytes !== undefined) {
    throw new ServiceError('ValidationException', 'Please specify either number of bytes or key spec, but not both.');
  }
  const { key } = await resolveForUse(input.KeyId, action, undefined, ctx, svc, {
    encryptionContext: input.EncryptionContext,
    grantTokens: input.GrantTokens,
  });
  if (input.DryRun === true) throw dryRunSucceeded();
  // From the CSPRNG pool (src/crypto/random-pool.ts: OS random bytes, each handed out once and
  // zeroed in the pool as taken): crypto.randomBytes(32) cost ~5.6 µs per call here, the pool
  // ~0.2 µs (issue 11, hot path). Its own buffer (Buffer.alloc), never a slice of a shared slab.
  const plaintext = Buffer.alloc(input.NumberOfBytes ?? (SPEC_BYTES[input.KeySpec as string] as number));
  fillRandom(plaintext, 0, plaintext.length);
  try {
    const ciphertext = await encryptUnder(key, plaintext, input.EncryptionContext, svc);
    return { plaintext, ciphertext, keyArn: key.arn };
  } catch (e) {
    plaintext.fill(0);
    throw e;
  }
}
