/**
 * RevokeGrant: deletes a grant of a key (kms-reference.md §3 RevokeGrant). Authorized like other
 * key operations, by kms:RevokeGrant on the key (the authorization engine's part); grant tokens
 * are not accepted. Allowed in every key state, and on AWS managed keys, whose policy lets the
 * account revoke grants.
 */
import { noteKey } from '../audit/notes';
import { grantIdShape, invalidGrantId } from './grant-common';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import type { GrantRepository } from '../store/store';
import { dryRunSucceeded } from './symmetric';
import { authorizeKms } from './authorize';
import type { KmsAuthorizationStore } from './authorize';
import { KMS_OUTPUTS, type RevokeGrantOutput } from '../model/kms-outputs';

interface RevokeGrantInput {
  KeyId: string;
  GrantId: string;
  DryRun?: boolean;
}

export const revokeGrant: Operation<RevokeGrantInput, RevokeGrantOutput, KmsAuthorizationStore & GrantRepository> = {
  name: 'RevokeGrant',
  output: KMS_OUTPUTS.RevokeGrant,
  readOnly: false,
  input: KMS_INPUTS.RevokeGrant,
  async invoke(input, ctx, svc) {
    const { key } = await svc.keyring.resolve(input.KeyId, 'key', ctx.caller, ctx.region, 'kms:RevokeGrant');
    noteKey(ctx.audit, key.arn);
    await authorizeKms(ctx, svc, { action: 'kms:RevokeGrant', key });
    const g = await svc.store.getGrant(input.GrantId);
    if (g === undefined || g.keyArn !== key.arn) throw invalidGrantId();
    if (input.DryRun === true) throw dryRunSucceeded();
    if (!(await svc.store.deleteGrant(key.arn, g.grantId))) throw invalidGrantId();
    return undefined;
  },
};
