/** DescribeKey: a key's metadata, by key id, key ARN, alias name or alias ARN. */
import { keyMetadata } from './key-metadata';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import type { KeyReader, KeyVersionRepository } from '../store/store';
import { authorizeKms } from './authorize';
import type { KmsAuthorizationStore } from './authorize';
import { KMS_OUTPUTS, type DescribeKeyOutput } from '../model/kms-outputs';

interface DescribeKeyInput {
  KeyId: string;
  GrantTokens?: string[];
}

export const describeKey: Operation<DescribeKeyInput, DescribeKeyOutput, KmsAuthorizationStore & KeyReader & KeyVersionRepository> = {
  name: 'DescribeKey',
  output: KMS_OUTPUTS.DescribeKey,
  readOnly: true,
  input: KMS_INPUTS.DescribeKey,
  async invoke(input, ctx, svc) {
    const { key, requestAlias } = await svc.keyring.resolve(input.KeyId, 'key-or-alias', ctx.caller, ctx.region, 'kms:DescribeKey');
    await authorizeKms(ctx, svc, { action: 'kms:DescribeKey', key, requestAlias, grantTokens: input.GrantTokens });
    const version = await svc.store.getKeyVersion(key.arn, key.currentVersion);
    const related = key.multiRegion ? await svc.store.listRelatedKeys(key.accountId, key.keyId) : undefined;
    return { KeyMetadata: keyMetadata(key, version?.materialId, related) };
  },
};
