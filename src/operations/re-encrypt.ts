/**
 * ReEncrypt: decrypt under the source key and encrypt under the destination, inside Keyhold;
 * either may be an RSA ENCRYPT_DECRYPT key (SourceKeyId and the algorithms then required).
 * Both keys are resolved before either is authorized: kms:ReEncryptFrom on the source (with the
 * source encryption context), kms:ReEncryptTo on the destination (with the destination one), both
 * with kms:ReEncryptOnSameKey (kms-reference.md §3.1, §9.1).
 */
import { noteKey } from '../audit/notes';
import type { EncryptionContext } from '../crypto/encryption-context';
import { ServiceError } from '../errors';
import { authorizeKms, type KmsAuthorization } from './authorize';
import type { KmsAuthorizationStore } from './authorize';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import type { CiphertextHeader } from '../crypto/symmetric-ciphertext';
import type { KeyRecord } from '../store/records';
import { assertEncryptionUse, isSymmetric, rsaDecrypt, rsaEncrypt } from './rsa-encryption';
import { decryptWith, dryRunSucceeded, encryptUnder, findKeyForBlob, incorrectKey, readHeader } from './symmetric';
import { KMS_OUTPUTS, type ReEncryptOutput } from '../model/kms-outputs';

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

export const reEncrypt: Operation<ReEncryptInput, ReEncryptOutput, KmsAuthorizationStore> = {
  name: 'ReEncrypt',
  output: KMS_OUTPUTS.ReEncrypt,
  readOnly: true,
  input: KMS_INPUTS.ReEncrypt,
  async invoke(input, ctx, svc) {
    const dest = await svc.keyring.resolve(input.DestinationKeyId, 'key-or-alias', ctx.caller, ctx.region, 'kms:ReEncryptTo');
    noteKey(ctx.audit, dest.key.arn);
    const destination: KmsAuthorization = {
      action: 'kms:ReEncryptTo',
      key: dest.key,
      requestAlias: dest.requestAlias,
      encryptionAlgorithm: input.DestinationEncryptionAlgorithm ?? 'SYMMETRIC_DEFAULT',
      encryptionContext: input.DestinationEncryptionContext,
      grantTokens: input.GrantTokens,
    };
    // DryRunModifiers IGNORE_CIPHERTEXT: the ciphertext, present or not, is never read (KMS API
    // Reference, ReEncrypt).
    const ignoring = input.DryRun === true && input.DryRunModifiers?.includes('IGNORE_CIPHERTEXT') === true;
    if (input.CiphertextBlob === undefined || ignoring) {
      if (!ignoring) {
        throw new ServiceError(
          'ValidationException',
          "1 validation error detected: Value null at 'ciphertextBlob' failed to satisfy constraint: Member must not be null",
        );
      }
      // Without a ciphertext there is no source key: only the destination can be checked.
      await authorizeKms(ctx, svc, destination);
      assertEncryptionUse(dest.key, input.DestinationEncryptionAlgorithm);
      throw dryRunSucceeded();
    }
    // An RSA source key (named by SourceKeyId: raw OAEP ciphertext names no key), or the
    // symmetric key the blob names.
    const named =
      input.SourceKeyId === undefined
        ? undefined
        : await svc.keyring.resolve(input.SourceKeyId, 'key-or-alias', ctx.caller, ctx.region, 'kms:ReEncryptFrom').catch(() => undefined);
    let header: CiphertextHeader | undefined;
    let found: { key: KeyRecord; requestAlias: string | undefined; incorrect: boolean };
    if (named !== undefined && !isSymmetric(named.key)) {
      noteKey(ctx.audit, named.key.arn);
      found = { key: named.key, requestAlias: named.requestAlias, incorrect: false };
    } else {
      header = readHeader(input.CiphertextBlob);
      found = await findKeyForBlob(header, input.SourceKeyId, 'kms:ReEncryptFrom', ctx, svc);
    }
    const sameKey = { 'kms:ReEncryptOnSameKey': found.key.arn === dest.key.arn };
    await authorizeKms(ctx, svc, {
      action: 'kms:ReEncryptFrom',
      key: found.key,
      requestAlias: found.requestAlias,
      encryptionAlgorithm: input.SourceEncryptionAlgorithm ?? 'SYMMETRIC_DEFAULT',
      encryptionContext: input.SourceEncryptionContext,
      grantTokens: input.GrantTokens,
      conditions: sameKey,
    });
    await authorizeKms(ctx, svc, { ...destination, conditions: sameKey });
    if (found.incorrect) throw incorrectKey();
    const destinationAlg = assertEncryptionUse(dest.key, input.DestinationEncryptionAlgorithm);
    const source = found.key;
    const sourceAlg = assertEncryptionUse(source, input.SourceEncryptionAlgorithm);
    const plaintext =
      header !== undefined
        ? await decryptWith(source, input.CiphertextBlob, header, input.SourceEncryptionContext, svc)
        : await rsaDecrypt(source, sourceAlg, input.CiphertextBlob, input.SourceEncryptionContext, svc);
    try {
      if (input.DryRun === true) throw dryRunSucceeded();
      const blob = isSymmetric(dest.key)
        ? await encryptUnder(dest.key, plaintext, input.DestinationEncryptionContext, svc)
        : await rsaEncrypt(dest.key, destinationAlg, plaintext, input.DestinationEncryptionContext, svc);
      return {
        CiphertextBlob: blob,
        SourceKeyId: source.arn,
        KeyId: dest.key.arn,
        SourceEncryptionAlgorithm: sourceAlg.name,
        DestinationEncryptionAlgorithm: destinationAlg.name,
      };
    } finally {
      plaintext.fill(0);
    }
  },
};
