/**
 * GetPublicKey: the DER SubjectPublicKeyInfo of an asymmetric key, with its spec, usage and
 * algorithms (API_GetPublicKey.html). Symmetric and HMAC keys have no public key.
 */
import { ServiceError } from '../errors';
import { assertKeyState } from '../keys/key-states';
import { algorithmsFor } from '../keys/key-specs';
import { ALGORITHM_MEMBERS } from './key-metadata';
import { resolveAndAuthorize } from './key-use';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import type { KmsAuthorizationStore } from './authorize';
import { KMS_OUTPUTS, type GetPublicKeyOutput } from '../model/kms-outputs';

interface GetPublicKeyInput {
  KeyId: string;
  GrantTokens?: string[];
}

/** Key usages with a public key. */
const ASYMMETRIC_USAGES: ReadonlySet<string> = new Set(['ENCRYPT_DECRYPT', 'SIGN_VERIFY', 'KEY_AGREEMENT', 'ENCAPSULATE_DECAPSULATE']);

export const getPublicKey: Operation<GetPublicKeyInput, GetPublicKeyOutput, KmsAuthorizationStore> = {
  name: 'GetPublicKey',
  output: KMS_OUTPUTS.GetPublicKey,
  readOnly: true,
  input: KMS_INPUTS.GetPublicKey,
  async invoke(input, ctx, svc) {
    const { key } = await resolveAndAuthorize(input.KeyId, { action: 'kms:GetPublicKey', grantTokens: input.GrantTokens }, ctx, svc);
    assertKeyState(key, 'use');
    if (key.keySpec === 'SYMMETRIC_DEFAULT' || !ASYMMETRIC_USAGES.has(key.keyUsage)) {
      throw new ServiceError('UnsupportedOperationException', `${key.arn} key spec is ${key.keySpec} which is not valid for this operation.`);
    }
    const publicKey = await svc.backend.publicKey({ key, version: key.currentVersion });
    return {
      KeyId: key.arn,
      PublicKey: publicKey,
      CustomerMasterKeySpec: key.keySpec,
      KeySpec: key.keySpec,
      KeyUsage: key.keyUsage,
      [ALGORITHM_MEMBERS[key.keyUsage] as string]: algorithmsFor(key.keySpec, key.keyUsage),
    } as GetPublicKeyOutput;
  },
};
