/**
 * Shared body of Sign and Verify: authorization with kms:SigningAlgorithm and kms:MessageType,
 * then AWS's checks of key usage, algorithm, MessageType and digest length (API_Sign.html:
 * "the length of the Message value must match the length of hashed messages for the specified
 * signing algorithm"; "When the value of MessageType is EXTERNAL_MU the length of the Message
 * value must be 64 bytes").
 */
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from '../crypto/algorithms';
import { ServiceError } from '../errors';
import type { KeyRecord } from '../store/records';
import { assertKeyUse, resolveAndAuthorize } from './key-use';
import type { RequestContext, Services } from './operation';
import type { KmsAuthorizationStore } from './authorize';

/** Input members Sign and Verify share. */
export interface SigningInput {
  KeyId: string;
  Message: Buffer;
  MessageType?: string;
  SigningAlgorithm: string;
  GrantTokens?: string[];
  DryRun?: boolean;
}

/** The length of an EXTERNAL_MU message: μ is 64 bytes (FIPS 204 §6.2). */
const EXTERNAL_MU_BYTES = 64;

/** A checked signing request. */
export interface SigningRequest {
  readonly key: KeyRecord;
  readonly alg: SigningAlgorithm;
  /** The Message is not the message itself: DIGEST, or EXTERNAL_MU for ML-DSA. */
  readonly digest: boolean;
}

/** Resolves, authorizes and checks a Sign or Verify request. */
export async function signingRequest(input: SigningInput, action: string, ctx: RequestContext, svc: Services<KmsAuthorizationStore>): Promise<SigningRequest> {
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
  // DIGEST: a digest of the algorithm's hash length; EXTERNAL_MU (ML-DSA only): the 64-byte μ of
  // FIPS 204 §6.2 (API_Sign.html, MessageType). Both skip the hashing KMS would do for RAW.
  const digest = messageType !== 'RAW';
  if (messageType === 'DIGEST' && input.Message.length !== alg.digestLength) {
    throw new ServiceError('ValidationException', `Digest is invalid length for algorithm ${alg.name}.`);
  }
  if (messageType === 'EXTERNAL_MU' && input.Message.length !== EXTERNAL_MU_BYTES) {
    throw new ServiceError('ValidationException', `The EXTERNAL_MU message type requires a Message of exactly ${EXTERNAL_MU_BYTES} bytes for algorithm ${alg.name}.`);
  }
  if (alg.scheme === 'sm2') {
    throw new ServiceError('UnsupportedOperationException', `The ${alg.name} signing algorithm is offered by AWS only in China Regions and is not supported by this Keyhold server.`);
  }
  return { key, alg, digest };
}

/** The SigningAlgorithmSpec enum of the KMS model. */
export const SIGNING_ALGORITHM_ENUM: readonly string[] = Object.freeze(Object.keys(SIGNING_ALGORITHMS));
/** The MessageType enum of the KMS model. */
export const MESSAGE_TYPES: readonly string[] = Object.freeze(['RAW', 'DIGEST', 'EXTERNAL_MU']);
