/**
 * Shared body of Sign and Verify: authorization with kms:SigningAlgorithm and kms:MessageType,
 * then AWS's checks of key usage, algorithm, MessageType and digest length (API_Sign.html:
 * "the length of the Message value must match the length of hashed messages for the specified
 * signing algorithm").
 */
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from '../crypto/algorithms';
import { ServiceError } from '../errors';
import type { KeyRecord } from '../store/records';
import { assertKeyUse, resolveAndAuthorize } from './key-use';
import type { RequestContext, Services } from './operation';

/** Input members Sign and Verify share. */
export interface SigningInput {
  KeyId: string;
  Message: Buffer;
  MessageType?: string;
  SigningAlgorithm: string;
  GrantTokens?: string[];
  DryRun?: boolean;
}

/** A checked signing request. */
export interface SigningRequest {
  readonly key: KeyRecord;
  readonly alg: SigningAlgorithm;
  readonly digest: boolean;
}

/** Resolves, authorizes and checks a Sign or Verify request. */
export async function signingRequest(input: SigningInput, action: string, ctx: RequestContext, svc: Services): Promise<SigningRequest> {
  const messageType = input.MessageType ?? 'RAW';
  const { key } = await resolveAndAuthorize(
    input.KeyId,
    { action, grantTokens: input.GrantTokens, conditions: { 'kms:SigningAlgorithm': input.SigningAlgorithm, 'kms:MessageType': messageType } },
    ctx,
    svc,
  );
  assertKeyUse(key, 'SIGN_VERIFY', input.SigningAlgorithm);
  const alg = SIGNING_ALGORITHMS[input.SigningAlgorithm] as SigningAlgorithm;
  if (!alg.messageTypes.includes(messageType)) {
    throw new ServiceError('ValidationException', `The ${alg.name} signing algorithm does not support the ${messageType} message type.`);
  }
  const digest = messageType === 'DIGEST';
  if (digest && input.Message.length !== alg.digestLength) {
    throw new ServiceError('ValidationException', `Digest is invalid length for algorithm ${alg.name}.`);
  }
  if (alg.scheme === 'ed25519ph' || alg.scheme === 'ml-dsa' || alg.scheme === 'sm2') {
    throw new ServiceError('UnsupportedOperationException', `The ${alg.name} signing algorithm is not supported by this Keyhold server yet (issue 10).`);
  }
  return { key, alg, digest };
}

/** The SigningAlgorithmSpec enum of the KMS model. */
export const SIGNING_ALGORITHM_ENUM: readonly string[] = Object.freeze(Object.keys(SIGNING_ALGORITHMS));
/** The MessageType enum of the KMS model. */
export const MESSAGE_TYPES: readonly string[] = Object.freeze(['RAW', 'DIGEST', 'EXTERNAL_MU']);
