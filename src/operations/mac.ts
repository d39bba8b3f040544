/**
 * Shared body of GenerateMac and VerifyMac: authorization with kms:MacAlgorithm, then AWS's
 * checks of key usage (GENERATE_VERIFY_MAC) and algorithm (the one HMAC of the key's spec).
 */
import { MAC_ALGORITHMS, type MacAlgorithm } from '../crypto/algorithms';
import type { KeyRecord } from '../store/records';
import { assertKeyUse, resolveAndAuthorize } from './key-use';
import type { RequestContext, Services } from './operation';
import type { KmsAuthorizationStore } from './authorize';

/** Input members GenerateMac and VerifyMac share. */
export interface MacInput {
  KeyId: string;
  Message: Buffer;
  MacAlgorithm: string;
  GrantTokens?: string[];
  DryRun?: boolean;
}

/** The MacAlgorithmSpec enum of the KMS model. */
export const MAC_ALGORITHM_ENUM: readonly string[] = Object.freeze(Object.keys(MAC_ALGORITHMS));

/** Resolves, authorizes and checks a MAC request. */
export async function macRequest(input: MacInput, action: string, ctx: RequestContext, svc: Services<KmsAuthorizationStore>): Promise<{ key: KeyRecord; alg: MacAlgorithm }> {
  const { key } = await resolveAndAuthorize(
    input.KeyId,
    { action, grantTokens: input.GrantTokens, conditions: { 'kms:MacAlgorithm': input.MacAlgorithm } },
    ctx,
    svc,
  );
  assertKeyUse(key, 'GENERATE_VERIFY_MAC', input.MacAlgorithm);
  return { key, alg: MAC_ALGORITHMS[input.MacAlgorithm] as MacAlgorithm };
}
