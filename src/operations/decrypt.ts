/**
 * Decrypt: a symmetric ciphertext, with or without KeyId (the blob names its key), or raw
 * RSAES-OAEP ciphertext of an RSA key, which needs KeyId and EncryptionAlgorithm (the
 * ciphertext names neither).
 */
import type { EncryptionContext } from '../crypto/encryption-context';
import { ServiceError } from '../errors';
import { KMS_INPUTS } from '../model/kms-inputs';
import { resolveAndAuthorize } from './key-use';
import type { Operation } from './operation';
import type { KmsAuthorizationStore } from './authorize';
import { assertEncryptionUse, rsaDecrypt } from './rsa-encryption';
import { assertSymmetricUse, decryptWith, dryRunSucceeded, keyForBlob, readHeader } from './symmetric';
import { rejectUnsupportedMembers } from './unsupported-members';
import { KMS_OUTPUTS, type DecryptOutput } from '../model/kms-outputs';

interface DecryptInput {
  CiphertextBlob?: Buffer;
  EncryptionContext?: EncryptionContext;
  GrantTokens?: string[];
  KeyId?: string;
  EncryptionAlgorithm?: string;
  DryRun?: boolean;
  DryRunModifiers?: string[];
}

export const decrypt: Operation<DecryptInput, DecryptOutput, KmsAuthorizationStore> = {
  name: 'Decrypt',
  output: KMS_OUTPUTS.Decrypt,
  readOnly: true,
  input: KMS_INPUTS.Decrypt,
  async invoke(input, ctx, svc) {
    rejectUnsupportedMembers('Decrypt', input, ['Recipient']);
    const auth = {
      action: 'kms:Decrypt',
      encryptionAlgorithm: input.EncryptionAlgorithm ?? 'SYMMETRIC_DEFAULT',
      encryptionContext: input.EncryptionContext,
      grantTokens: input.GrantTokens,
    };
    // DryRunModifiers IGNORE_CIPHERTEXT: the dry run checks the key and permissions named by
    // KeyId and never reads the ciphertext, present or not (KMS API Reference, Decrypt).
    const ignoring = input.DryRun === true && input.DryRunModifiers?.includes('IGNORE_CIPHERTEXT') === true;
    if (input.CiphertextBlob === undefined || (ignoring && input.KeyId !== undefined)) {
      if (!ignoring || input.KeyId === undefined) {
        throw new ServiceError(
          'ValidationException',
          "1 validation error detected: Value null at 'ciphertextBlob' failed to satisfy constraint: Member must not be null",
        );
      }
      const { key } = await resolveAndAuthorize(input.KeyId, auth, ctx, svc);
      assertEncryptionUse(key, input.EncryptionAlgorithm);
      throw dryRunSucceeded();
    }
    // An RSA key named by KeyId: the ciphertext is raw OAEP output. A KeyId that does not
    // resolve takes the symmetric path, which reports it in AWS's order.
    const named =
      input.KeyId === undefined
        ? undefined
        : await svc.keyring.resolve(input.KeyId, 'key-or-alias', ctx.caller, ctx.region, 'kms:Decrypt').catch(() => undefined);
    if (input.KeyId !== undefined && named !== undefined && named.key.keySpec !== 'SYMMETRIC_DEFAULT') {
      const { key } = await resolveAndAuthorize(input.KeyId, auth, ctx, svc);
      const alg = assertEncryptionUse(key, input.EncryptionAlgorithm);
      if (input.DryRun === true) throw dryRunSucceeded();
      const plaintext = await rsaDecrypt(key, alg, input.CiphertextBlob, input.EncryptionContext, svc);
      // Handed over: the encoder zeroes Plaintext once written (src/protocol/json-encoder.ts).
      return { KeyId: key.arn, Plaintext: plaintext, EncryptionAlgorithm: alg.name };
    }
    const header = readHeader(input.CiphertextBlob);
    const key = await keyForBlob(
      header,
      input.KeyId,
      'kms:Decrypt',
      input.EncryptionAlgorithm,
      ctx,
      svc,
      { encryptionContext: input.EncryptionContext, grantTokens: input.GrantTokens },
      named,
    );
    assertSymmetricUse(key, input.EncryptionAlgorithm);
    const plaintext = await decryptWith(key, input.CiphertextBlob, header, input.EncryptionContext, svc);
    if (input.DryRun === true) {
      plaintext.fill(0);
      throw dryRunSucceeded();
    }
    // Handed over: the encoder zeroes Plaintext once written (src/protocol/json-encoder.ts).
    return { KeyId: key.arn, Plaintext: plaintext, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
  },
};
