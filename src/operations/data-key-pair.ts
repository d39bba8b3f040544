/**
 * Shared body of GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext: a fresh key pair
 * of a DataKeyPairSpec, generated off the request thread; the PKCS#8 DER private key encrypted
 * under a symmetric encryption key (a blob plain Decrypt opens), the DER public key, and — for
 * GenerateDataKeyPair — the private key in plaintext. `Recipient` (Nitro Enclaves attestation)
 * is refused: Keyhold runs in no enclave that could attest (docs/compatibility.md).
 */
import type { EncryptionContext } from '../crypto/encryption-context';
import { ServiceError } from '../errors';
import { keySpecFacts } from '../keys/key-specs';
import type { RequestContext, Services } from './operation';
import type { KmsAuthorizationStore } from './authorize';
import { dryRunSucceeded, encryptUnder, resolveForUse } from './symmetric';

/** Input of both data-key-pair operations. */
export interface DataKeyPairInput {
  EncryptionContext?: EncryptionContext;
  KeyId: string;
  KeyPairSpec: string;
  GrantTokens?: string[];
  Recipient?: Record<string, unknown>;
  DryRun?: boolean;
}

/** A generated pair; the caller wipes `privateKey`. */
export interface GeneratedPair {
  readonly privateKey: Buffer;
  readonly privateKeyCiphertext: Buffer;
  readonly publicKey: Buffer;
  readonly keyArn: string;
}

/** Generates a data key pair and encrypts its private key under the named symmetric key. */
export async function generateDataKeyPair(input: DataKeyPairInput, action: string, ctx: RequestContext, svc: Services<KmsAuthorizationStore>): Promise<GeneratedPair> {
  if (input.Recipient !== undefined) {
    throw new ServiceError(
      'UnsupportedOperationException',
      'Recipient (a Nitro Enclaves attestation document) is not supported by this Keyhold server: it runs in no enclave.',
    );
  }
  const { key } = await resolveForUse(input.KeyId, action, undefined, ctx, svc, {
    encryptionContext: input.EncryptionContext,
    grantTokens: input.GrantTokens,
    conditions: { 'kms:DataKeyPairSpec': input.KeyPairSpec },
  });
  const facts = keySpecFacts(input.KeyPairSpec);
  if (facts.unsupported !== undefined || facts.generation === undefined) {
    throw new ServiceError('UnsupportedOperationException', `KeyPairSpec ${input.KeyPairSpec} ${facts.unsupported ?? 'is not supported'}.`);
  }
  if (input.DryRun === true) throw dryRunSucceeded();
  const pair = await svc.backend.generateDataKeyPair(facts);
  try {
    const privateKeyCiphertext = await encryptUnder(key, pair.privateKey, input.EncryptionContext, svc);
    return { ...pair, privateKeyCiphertext, keyArn: key.arn };
  } catch (e) {
    pair.privateKey.fill(0);
    throw e;
  }
}
