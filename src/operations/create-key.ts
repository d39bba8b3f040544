/** CreateKey: a new customer managed key (symmetric encryption keys for now). */
import { randomBytes, randomUUID } from 'node:crypto';
import { ServiceError } from '../errors';
import { keyArn } from '../keys/arn';
import { newKeyRecord } from '../keys/new-key';
import { defaultKeyPolicy } from '../policy/key-policy';
import type { KeyRecord, TagRecord } from '../store/records';
import { authorizeKms, rememberKeyPolicy, requestTagConditions, type CandidateKeyPolicy } from './authorize';
import { keyMetadata } from './key-metadata';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import { checkNewKeyPolicy } from './policy-lockout';
import { validateTags } from './tags';

const KEY_SPECS = [
  'RSA_2048', 'RSA_3072', 'RSA_4096', 'ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521', 'ECC_SECG_P256K1',
  'SYMMETRIC_DEFAULT', 'HMAC_224', 'HMAC_256', 'HMAC_384', 'HMAC_512', 'SM2', 'ML_DSA_44', 'ML_DSA_65', 'ML_DSA_87',
  'ECC_NIST_EDWARDS25519', 'ML_KEM_512', 'ML_KEM_768', 'ML_KEM_1024',
];
const CMK_SPECS = KEY_SPECS.filter((s) => !s.startsWith('ML_') && s !== 'ECC_NIST_EDWARDS25519');
const KEY_USAGES = ['SIGN_VERIFY', 'ENCRYPT_DECRYPT', 'GENERATE_VERIFY_MAC', 'KEY_AGREEMENT', 'ENCAPSULATE_DECAPSULATE'];
const ORIGINS = ['AWS_KMS', 'EXTERNAL', 'AWS_CLOUDHSM', 'EXTERNAL_KEY_STORE'];

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

export const createKey: Operation<CreateKeyInput> = {
  name: 'CreateKey',
  readOnly: false,
  input: KMS_INPUTS.CreateKey,
  async invoke(input, ctx, svc) {
    if (input.KeySpec !== undefined && input.CustomerMasterKeySpec !== undefined) {
      throw new ServiceError('ValidationException', 'You cannot specify KeySpec and CustomerMasterKeySpec in the same request.');
    }
    const keySpec = input.KeySpec ?? input.CustomerMasterKeySpec ?? 'SYMMETRIC_DEFAULT';
    const keyUsage = input.KeyUsage ?? 'ENCRYPT_DECRYPT';
    const origin = input.Origin ?? 'AWS_KMS';
    if (keySpec === 'SYMMETRIC_DEFAULT' && keyUsage !== 'ENCRYPT_DECRYPT') {
      throw new ServiceError('ValidationException', `KeyUsage ${keyUsage} is not compatible with KeySpec SYMMETRIC_DEFAULT.`);
    }
    if (keySpec !== 'SYMMETRIC_DEFAULT') {
      throw new ServiceError('UnsupportedOperationException', `KeySpec ${keySpec} is not supported by this Keyhold server yet.`);
    }
    if (origin !== 'AWS_KMS' && origin !== 'EXTERNAL') {
      throw new ServiceError('UnsupportedOperationException', `Origin ${origin} is not supported by this Keyhold server yet.`);
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
    let checked: CandidateKeyPolicy | undefined;
    if (input.Policy !== undefined) checked = await checkNewKeyPolicy(ctx, svc, { text: policy, key, bypass, newKeyTags: tags });
    const version = external ? null : await svc.keyring.newVersion(arn, 1, 'CREATE');
    await svc.store.createKey(key, version, tags);
    if (checked !== undefined) rememberKeyPolicy(svc, arn, checked);
    return { KeyMetadata: keyMetadata(key, version?.materialId, [key]) };
  },
};
