/**
 * Decrypt: a symmetric ciphertext, with or without KeyId (the blob names its key), or raw
 * RSAES-OAEP ciphertext of an RSA key, which needs KeyId and EncryptionAlgorithm (the
 * ciphertext names neither).
 */
import type { EncryptionContext } from '../crypto/encryption-context';
import { ServiceError } from '../errors';
import { resolveAndAuthorize } from './key-use';
import type { Operation } from './operation';
import { assertEncryptionUse, rsaDecrypt } from './rsa-encryption';
import { S, structure } from './shape';
import { assertSymmetricUse, decryptWith, dryRunSucceeded, keyForBlob, readHeader } from './symmetric';

interface DecryptInput {
  CiphertextBlob?: Buffer;
  EncryptionContext?: EncryptionContext;
  GrantTokens?: string[];
  KeyId?: string;
  EncryptionAlgorithm?: string;
  DryRun?: boolean;
  DryRunModifiers?: string[];
}

export const decrypt: Operation<DecryptInput> = {
  name: 'Decrypt',
  readOnly: true,
  input: structure({
    CiphertextBlob: S.ciphertext(false),
    EncryptionContext: S.encryptionContext(),
    GrantTokens: S.grantTokens(),
    KeyId: S.keyId(false),
    EncryptionAlgorithm: S.encryptionAlgorithm(),
    DryRun: S.dryRun(),
    DryRunModifiers: S.dryRunModifiers(),
  }),
  async invoke(input, ctx, svc) {
    const auth = {
      action: 'kms:Decrypt',
      encryptionAlgorithm: input.EncryptionAlgorithm ?? 'SYMMETRIC_DEFAULT',
      encryptionContext: input.EncryptionContext,
      grantTokens: input.GrantTokens,
    };
    if (input.CiphertextBlob === undefined) {
      const ignoring = input.DryRun === true && input.DryRunModifiers?.includes('IGNORE_CIPHERTEXT') === true;
      if (!ignoring || input.KeyId === undefined) {
        throw new ServiceError(
          'ValidationException',
          "1 validation error detected: Value at 'ciphertextBlob' failed to satisfy constraint: Member must not be null",
        );
      }
      const { key } = await resolveAndAuthorize(input.KeyId, auth, ctx, svc);
      assertEncryptionUse(key, input.EncryptionAlgorithm);
      throw dryRunSucceeded();
    }
    // An RSA key named by KeyId: the ciphertext is raw OAEP output.
    if (input.KeyId !== undefined) {
      // A KeyId that does not resolve takes the symmetric path, which reports it in AWS's order.
      const named = await svc.keyring.resolve(input.KeyId, 'key-or-alias', ctx.caller, ctx.region, 'kms:Decrypt').catch(() => undefined);
      if (named !== undefined && named.key.keySpec !== 'SYMMETRIC_DEFAULT') {
        const { key } = await resolveAndAuthorize(input.KeyId, auth, ctx, svc);
        const alg = assertEncryptionUse(key, input.EncryptionAlgorithm);
        if (input.DryRun === true) throw dryRunSucceeded();
        const plaintext = await rsaDecrypt(key, alg, input.CiphertextBlob, input.EncryptionContext, svc);
        try {
          return { KeyId: key.arn, Plaintext: plaintext.toString('base64'), EncryptionAlgorithm: alg.name };
        } finally {
          plaintext.fill(0);
        }
      }
    }
    const header = readHeader(input.CiphertextBlob);
    const key = await keyForBlob(header, input.KeyId, 'kms:Decrypt', input.EncryptionAlgorithm, ctx, svc, {
      encryptionContext: input.EncryptionContext,
      grantTokens: input.GrantTokens,
    });
    assertSymmetricUse(key, input.EncryptionAlgorithm);
    const plaintext = await decryptWith(key, input.CiphertextBlob, header, input.EncryptionContext, svc);
    try {
      if (input.DryRun === true) throw dryRunSucceeded();
      return { KeyId: key.arn, Plaintext: plaintext.toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
    } finally {
      plaintext.fill(0);
    }
  },
};
