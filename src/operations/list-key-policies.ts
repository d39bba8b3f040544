/** ListKeyPolicies: a key's policy names, which are always just "default" (kms-reference.md §3). */
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import { page, pageLimit } from './pagination';
import { authorizeKms } from './authorize';
import type { KmsAuthorizationStore } from './authorize';
import { KMS_OUTPUTS, type ListKeyPoliciesOutput } from '../model/kms-outputs';

interface ListKeyPoliciesInput {
  KeyId: string;
  Limit?: number;
  Marker?: string;
}

const POLICY_NAMES: readonly string[] = Object.freeze(['default']);

export const listKeyPolicies: Operation<ListKeyPoliciesInput, ListKeyPoliciesOutput, KmsAuthorizationStore> = {
  name: 'ListKeyPolicies',
  output: KMS_OUTPUTS.ListKeyPolicies,
  readOnly: true,
  input: KMS_INPUTS.ListKeyPolicies,
  async invoke(input, ctx, svc) {
    const limit = pageLimit(input.Limit, 1000, 100);
    const { key } = await svc.keyring.resolve(input.KeyId, 'key', ctx.caller, ctx.region, 'kms:ListKeyPolicies');
    await authorizeKms(ctx, svc, { action: 'kms:ListKeyPolicies', key });
    const p = await page(
      input.Marker,
      limit,
      async (after, n) => POLICY_NAMES.filter((name) => after === undefined || name > after).slice(0, n),
      (name) => name,
    );
    return {
      PolicyNames: p.items,
      Truncated: p.Truncated,
      ...(p.NextMarker !== undefined ? { NextMarker: p.NextMarker } : {}),
    };
  },
};
