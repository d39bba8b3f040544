/**
 * Encrypt: up to 4096 bytes under a symmetric encryption key, or within AWS's RSAES-OAEP limit
 * to an RSA ENCRYPT_DECRYPT key (src/operations/rsa-encryption.ts).
 */
import type { EncryptionContext } from '../crypto/encryption-context';
import { resolveAndAuthorize } from './key-use';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import type { KmsAuthorizationStore } from './authorize';
import { assertEncryptionUse, isSymmetric, rsaEncrypt } from './rsa-encryption';
import { dryRunSucceeded, encryptUnder } from './symmetric';
import { KMS_OUTPUTS, type EncryptOutput } from '../model/kms-outputs';

interface EncryptInput {
  KeyId: string;
  Plaintext: Buffer;
  EncryptionContext?: EncryptionContext;
  GrantTokens?: string[];
  EncryptionAlgorithm?: string;
  DryRun?: boolean;
}

export const encrypt: Operation<EncryptInput, EncryptOutput, KmsAuthorizationStore> = {
  name: 'Encrypt',
  output: KMS_OUTPUTS.Encrypt,
  readOnly: true,
  input: KMS_INPUTS.Encrypt,
  async invoke(input, ctx, svc) {
    try {
      const { key } = await resolveAndAuthorize(
        input.KeyId,
        {
          action: 'kms:Encrypt',
          encryptionAlgorithm: input.EncryptionAlgorithm ?? 'SYMMETRIC_DEFAULT',
          encryptionContext: input.EncryptionContext,
          grantTokens: input.GrantTokens,
        },
        ctx,
        svc,
      );
      const alg = assertEncryptionUse(key, input.EncryptionAlgorithm);
      if (input.DryRun === true) throw dryRunSucceeded();
      const blob = isSymmetric(key)
        ? await encryptUnder(key, input.Plaintext, input.EncryptionContext, svc)
        : await rsaEncrypt(key, alg, input.Plaintext, input.EncryptionContext, svc);
      return { CiphertextBlob: blob, KeyId: key.arn, EncryptionAlgorithm: alg.name };
    } finally {
      input.Plaintext.fill(0);
    }
  },
};
