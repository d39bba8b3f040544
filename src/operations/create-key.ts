/** CreateKey: a new customer managed key of any key spec this server serves (src/keys/key-specs.ts). */
import { randomBytes, randomUUID } from 'node:crypto';
import { ServiceError } from '../errors';
import { keyArn } from '../keys/arn';
import { importable } from '../keys/imported-material';
import { KEY_SPECS } from '../keys/key-specs';
import { newKeyRecord } from '../keys/new-key';
import { defaultKeyPolicy } from '../policy/key-policy';
import type { KeyRecord, TagRecord } from '../store/records';
import { authorizeKms, requestTagConditions } from './authorize';
import type { KmsAuthorizationStore } from './authorize';
import { keyMetadata } from './key-metadata';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import type { KeyWriter } from '../store/store';
import { checkNewKeyPolicy } from './policy-lockout';
import { validateTags } from './tags';
import { KMS_OUTPUTS, type CreateKeyOutput } from '../model/kms-outputs';

interface CreateKeyInput {
  Policy?: string;
  Description?: string;
  KeyUsage?: string;
  CustomerMasterKeySpec?: string;
  KeySpec?: string;
  Origin?: string;
  CustomKeyStoreId?: string;
  BypassPolicyLockoutSafetyCheck?: boolean;
  Tags?: TagRecord[];
  MultiRegion?: boolean;
  XksKeyId?: string;
}

export const createKey: Operation<CreateKeyInput, CreateKeyOutput, KmsAuthorizationStore & KeyWriter> = {
  name: 'CreateKey',
  output: KMS_OUTPUTS.CreateKey,
  readOnly: false,
  input: KMS_INPUTS.CreateKey,
  async invoke(input, ctx, svc) {
    if (input.KeySpec !== undefined && input.CustomerMasterKeySpec !== undefined) {
      throw new ServiceError('ValidationException', 'You cannot specify KeySpec and CustomerMasterKeySpec in the same request.');
    }
    const keySpec = input.KeySpec ?? input.CustomerMasterKeySpec ?? 'SYMMETRIC_DEFAULT';
    const keyUsage = input.KeyUsage ?? 'ENCRYPT_DECRYPT';
    const origin = input.Origin ?? 'AWS_KMS';
    const facts = KEY_SPECS[keySpec];
    if (facts === undefined || facts.usages[keyUsage] === undefined) {
      throw new ServiceError('ValidationException', `KeyUsage ${keyUsage} is not compatible with KeySpec ${keySpec}.`);
    }
    if (facts.unsupported !== undefined) throw new ServiceError('UnsupportedOperationException', `KeySpec ${keySpec} ${facts.unsupported}.`);
    if (origin !== 'AWS_KMS' && origin !== 'EXTERNAL') {
      throw new ServiceError('UnsupportedOperationException', `Origin ${origin} is not supported by this Keyhold server yet.`);
    }
    if (origin === 'EXTERNAL' && !importable(facts)) {
      throw new ServiceError('UnsupportedOperationException', `Importing ${keySpec} key material is not supported by this Keyhold server.`);
    }
    if (input.CustomKeyStoreId !== undefined || input.XksKeyId !== undefined) {
      throw new ServiceError('CustomKeyStoreNotFoundException', 'The custom key store does not exist.');
    }
    const multiRegion = input.MultiRegion === true;
    const tags = input.Tags ?? [];
    validateTags(tags);
    // kms:CreateKey (and kms:TagResource to tag it) in identity-based policies (kms-reference.md §3.1).
    const bypass = input.BypassPolicyLockoutSafetyCheck === true;
    const conditions = {
      'kms:KeySpec': keySpec,
      'kms:CustomerMasterKeySpec': keySpec,
      'kms:KeyUsage': keyUsage,
      'kms:CustomerMasterKeyUsage': keyUsage,
      'kms:KeyOrigin': origin,
      'kms:MultiRegion': multiRegion,
      'kms:MultiRegionKeyType': multiRegion ? 'PRIMARY' : undefined,
      'kms:BypassPolicyLockoutSafetyCheck': bypass,
      ...(tags.length > 0 ? requestTagConditions(tags) : {}),
    };
    await authorizeKms(ctx, svc, { action: 'kms:CreateKey', conditions });
    if (tags.length > 0) await authorizeKms(ctx, svc, { action: 'kms:TagResource', conditions });
    const policy = input.Policy ?? defaultKeyPolicy(ctx.caller.accountId);

    // Multi-Region keys share one id in every Region: mrk- and 32 hex digits.
    const keyId = multiRegion ? `mrk-${randomBytes(16).toString('hex')}` : randomUUID();
    const arn = keyArn(ctx.region, ctx.caller.accountId, keyId);
    // An EXTERNAL key has no material until ImportKeyMaterial (state PendingImport, version 0).
    const external = origin === 'EXTERNAL';
    const key: KeyRecord = newKeyRecord(
      {
        keyId,
        arn,
        accountId: ctx.caller.accountId,
        region: ctx.region,
        keySpec,
        keyUsage,
        origin,
        keyManager: 'CUSTOMER',
        state: external ? 'PendingImport' : 'Enabled',
        description: input.Description ?? '',
        policy,
        creationDate: svc.clock.now(),
        currentVersion: external ? 0 : 1,
      },
      multiRegion ? { multiRegion: true, multiRegionKeyType: 'PRIMARY', primaryRegion: ctx.region } : {},
    );
    // A given policy gets the checks that need the caller, lockout included; the default one
    // names only the account, which always exists and always keeps IAM in charge.
    if (input.Policy !== undefined) await checkNewKeyPolicy(ctx, svc, { text: policy, key, bypass, newKeyTags: tags });
    const version = external ? null : await svc.backend.createVersion(arn, facts, 1, 'CREATE');
    await svc.store.createKey(key, version, tags);
    return { KeyMetadata: keyMetadata(key, version?.materialId, [key]) };
  },
};
