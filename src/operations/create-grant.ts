/**
 * CreateGrant: adds a grant to a key and returns its id and a grant token (kms-reference.md §3
 * CreateGrant, §9.3). With a Name, a retry with identical parameters returns the original grant
 * id (and a new token); a different grant under the same name is a new grant, as AWS documents
 * (CreateGrant.Name; create-grant-overview.html). At most 50,000 grants per key; DryRun checks
 * everything but that quota, which only the write itself decides.
 */
import { noteKey } from '../audit/notes';
import { ServiceError } from '../errors';
import { principalUniqueId } from '../identity/principal-ids';
import {
  GRANT_OPERATIONS,
  MAX_GRANTS_PER_KEY,
  grantIdempotencyKey,
  issueGrantToken,
  newGrantId,
  validateGrantForKey,
  validateGrantRequest,
  validateGrantTokens,
} from '../keys/grants';
import { addGrant } from '../keys/guarded-writes';
import { assertKeyState } from '../keys/key-states';
import type { GrantConstraintsRecord, GrantRecord } from '../store/records';
import { principalShape } from './grant-common';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import type { TransactionRunner } from '../store/store';
import { dryRunSucceeded } from './symmetric';
import { authorizeKms } from './authorize';
import type { KmsAuthorizationStore } from './authorize';
import { KMS_OUTPUTS, type CreateGrantOutput } from '../model/kms-outputs';

interface CreateGrantInput {
  KeyId: string;
  GranteePrincipal?: string;
  RetiringPrincipal?: string;
  Operations: string[];
  Constraints?: GrantConstraintsRecord;
  GrantTokens?: string[];
  Name?: string;
  DryRun?: boolean;
  GranteeServicePrincipal?: string;
  RetiringServicePrincipal?: string;
}

export const createGrant: Operation<CreateGrantInput, CreateGrantOutput, KmsAuthorizationStore & TransactionRunner> = {
  name: 'CreateGrant',
  output: KMS_OUTPUTS.CreateGrant,
  readOnly: false,
  input: KMS_INPUTS.CreateGrant,
  async invoke(input, ctx, svc) {
    const req = validateGrantRequest(input);
    const { key } = await svc.keyring.resolve(input.KeyId, 'key', ctx.caller, ctx.region, 'kms:CreateGrant');
    noteKey(ctx.audit, key.arn);
    const c = req.constraints;
    await authorizeKms(ctx, svc, {
      action: 'kms:CreateGrant',
      key,
      grantTokens: input.GrantTokens,
      childGrant: { operations: req.operations, constraints: c },
      encryptionContext: c?.EncryptionContextEquals ?? c?.EncryptionContextSubset,
      conditions: {
        'kms:GrantOperations': req.operations,
        'kms:GranteePrincipal': req.granteePrincipal ?? undefined,
        'kms:GranteeServicePrincipal': req.granteeServicePrincipal ?? undefined,
        'kms:RetiringPrincipal': req.retiringPrincipal ?? undefined,
        'kms:RetiringServicePrincipal': req.retiringServicePrincipal ?? undefined,
        'kms:GrantConstraintType': c === null ? undefined : ['EncryptionContextEquals', 'EncryptionContextSubset'].filter((t) => t in c),
        'kms:GrantConstraintSourceArn': c?.SourceArn,
      },
    });
    assertKeyState(key, 'create-grant');
    validateGrantForKey(req, key);
    await validateGrantTokens(input.GrantTokens, svc);
    if (input.DryRun === true) throw dryRunSucceeded();

    const issuingAccount = ctx.caller.accountId;
    const grant: GrantRecord = {
      grantId: newGrantId(),
      keyArn: key.arn,
      region: key.region,
      issuingAccount,
      name: req.name,
      idempotencyKey: grantIdempotencyKey(key.arn, issuingAccount, req),
      granteePrincipal: req.granteePrincipal,
      granteeServicePrincipal: req.granteeServicePrincipal,
      granteePrincipalId: req.granteePrincipal === null ? null : await principalUniqueId(svc.store, req.granteePrincipal),
      retiringPrincipal: req.retiringPrincipal,
      retiringServicePrincipal: req.retiringServicePrincipal,
      operations: req.operations,
      constraints: req.constraints,
      creationDate: svc.clock.now(),
    };
    // Idempotency, the per-key limit and the key's state are decided in one transaction (issue 13).
    const inEffect = await addGrant(svc.store, grant, MAX_GRANTS_PER_KEY, (current) => assertKeyState(current, 'create-grant'));
    if (inEffect === 'limit-exceeded') {
      throw new ServiceError('LimitExceededException', `The request would give ${key.arn} more than ${MAX_GRANTS_PER_KEY} grants.`);
    }
    if (inEffect === 'no-key') throw new ServiceError('NotFoundException', `Key '${key.arn}' does not exist`);
    return { GrantToken: await issueGrantToken(svc, inEffect.grantId), GrantId: inEffect.grantId };
  },
};
