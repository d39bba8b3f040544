/** Encrypt: up to 4096 bytes under a symmetric encryption key. */
import type { EncryptionContext } from '../crypto/encryption-context';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import { dryRunSucceeded, encryptUnder, resolveForUse } from './symmetric';

interface EncryptInput {
  KeyId: string;
  Plaintext: Buffer;
  EncryptionContext?: EncryptionContext;
  GrantTokens?: string[];
  EncryptionAlgorithm?: string;
  DryRun?: boolean;
}

export const encrypt: Operation<EncryptInput> = {
  name: 'Encrypt',
  readOnly: true,
  input: KMS_INPUTS.Encrypt,
  async invoke(input, ctx, svc) {
    try {
      const { key } = await resolveForUse(input.KeyId, 'kms:Encrypt', input.EncryptionAlgorithm, ctx, svc, {
        encryptionContext: input.EncryptionContext,
        grantTokens: input.GrantTokens,
      });
      if (input.DryRun === true) throw dryRunSucceeded();
      const blob = await encryptUnder(key, input.Plaintext, input.EncryptionContext, svc);
      return { CiphertextBlob: blob.toString('base64'), KeyId: key.arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
    } finally {
      input.Plaintext.fill(0);
    }
  },
};
