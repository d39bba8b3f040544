/** ReEncrypt: decrypt under the source key and encrypt under the destination, inside Keyhold. */
import type { EncryptionContext } from '../crypto/encryption-context';
import { ServiceError } from '../errors';
import type { Operation } from './operation';
import { S, structure } from './shape';
import { assertSymmetricUse, decryptWith, dryRunSucceeded, encryptUnder, keyForBlob, readHeader, resolveForUse } from './symmetric';

interface ReEncryptInput {
  CiphertextBlob?: Buffer;
  SourceEncryptionContext?: EncryptionContext;
  SourceKeyId?: string;
  DestinationKeyId: string;
  DestinationEncryptionContext?: EncryptionContext;
  SourceEncryptionAlgorithm?: string;
  DestinationEncryptionAlgorithm?: string;
  GrantTokens?: string[];
  DryRun?: boolean;
  DryRunModifiers?: string[];
}

export const reEncrypt: Operation<ReEncryptInput> = {
  name: 'ReEncrypt',
  readOnly: true,
  input: structure({
    CiphertextBlob: S.ciphertext(false),
    SourceEncryptionContext: S.encryptionContext(),
    SourceKeyId: S.keyId(false),
    DestinationKeyId: S.keyId(),
    DestinationEncryptionContext: S.encryptionContext(),
    SourceEncryptionAlgorithm: S.encryptionAlgorithm(),
    DestinationEncryptionAlgorithm: S.encryptionAlgorithm(),
    GrantTokens: S.grantTokens(),
    DryRun: S.dryRun(),
    DryRunModifiers: S.dryRunModifiers(),
  }),
  async invoke(input, ctx, svc) {
    const dest = await resolveForUse(input.DestinationKeyId, 'kms:ReEncryptTo', input.DestinationEncryptionAlgorithm, ctx, svc);
    if (input.CiphertextBlob === undefined) {
      const ignoring = input.DryRun === true && input.DryRunModifiers?.includes('IGNORE_CIPHERTEXT') === true;
      if (!ignoring) {
        throw new ServiceError(
          'ValidationException',
          "1 validation error detected: Value at 'ciphertextBlob' failed to satisfy constraint: Member must not be null",
        );
      }
      throw dryRunSucceeded();
    }
    const header = readHeader(input.CiphertextBlob);
    const source = await keyForBlob(header, input.SourceKeyId, 'kms:ReEncryptFrom', ctx, svc);
    assertSymmetricUse(source, input.SourceEncryptionAlgorithm);
    const plaintext = await decryptWith(source, input.CiphertextBlob, header, input.SourceEncryptionContext, svc);
    try {
      if (input.DryRun === true) throw dryRunSucceeded();
      const blob = await encryptUnder(dest.key, plaintext, input.DestinationEncryptionContext, svc);
      return {
        CiphertextBlob: blob.toString('base64'),
        SourceKeyId: source.arn,
        KeyId: dest.key.arn,
        SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      };
    } finally {
      plaintext.fill(0);
    }
  },
};
