/**
 * RetireGrant: deletes a grant named by a grant token, or by KeyId (key id or key ARN) and
 * GrantId (kms-reference.md §3 RetireGrant, §9.3). Allowed in every key state and across
 * accounts. Who may retire is decided by the grant (RetireGrant API reference; grant-manage.html
 * "Retiring and revoking grants"): its retiring principal, its grantee when it allows RetireGrant,
 * or the account it was created in. Principals of that account other than its root are allowed
 * here; the authorization engine narrows them to those whose identity policies allow
 * kms:RetireGrant.
 */
import { KMS_INPUTS } from '../model/kms-inputs';
import { noteKey } from '../audit/notes';
import { ServiceError } from '../errors';
import { isKeyId, keyArn, parseKmsArn } from '../keys/arn';
import { callerGranteeArns, grantIdOfToken, mayRetireGrant } from '../keys/grants';
import type { GrantRecord } from '../store/records';
import { grantIdShape, grantTokenShape, invalidGrantId } from './grant-common';
import type { Operation, RequestContext, Services } from './operation';
import type { GrantRepository } from '../store/store';
import { dryRunSucceeded } from './symmetric';
import { authorizeKms } from './authorize';
import type { KmsAuthorizationStore } from './authorize';

import { KMS_OUTPUTS, type RetireGrantOutput } from '../model/kms-outputs';

/** The repositories this operation depends on (issue 13). */
type Deps = KmsAuthorizationStore & GrantRepository;

interface RetireGrantInput {
  GrantToken?: string;
  KeyId?: string;
  GrantId?: string;
  DryRun?: boolean;
}

const ACTION = 'kms:RetireGrant';

/** The ARN of the existing key a KeyId names; any account's, by ARN (cross-account retiring). */
async function keyArnOf(keyIdArg: string, ctx: RequestContext, svc: Services<Deps>): Promise<string> {
  let arn: string;
  if (keyIdArg.startsWith('arn:')) {
    const a = parseKmsArn(keyIdArg);
    if (a === undefined) throw new ServiceError('NotFoundException', `Invalid arn ${keyIdArg}`);
    if (a.resourceType !== 'key') throw new ServiceError('NotFoundException', `Invalid keyId ${keyIdArg}`);
    if (a.region !== ctx.region) {
      throw new ServiceError('NotFoundException', `Invalid arn ${keyIdArg}: the key is not in region ${ctx.region}`);
    }
    arn = keyArn(a.region, a.accountId, a.resource);
  } else if (isKeyId(keyIdArg)) {
    arn = keyArn(ctx.region, ctx.caller.accountId, keyIdArg);
  } else {
    throw new ServiceError('NotFoundException', `Invalid keyId ${keyIdArg}`);
  }
  if ((await svc.keyring.getKey(arn)) === undefined) throw new ServiceError('NotFoundException', `Key '${arn}' does not exist`);
  return arn;
}

/** The grant the request names. */
async function namedGrant(input: RetireGrantInput, ctx: RequestContext, svc: Services<Deps>): Promise<GrantRecord> {
  if (input.GrantToken !== undefined) {
    const id = await grantIdOfToken(svc, input.GrantToken);
    if (input.GrantId !== undefined && input.GrantId !== id) throw invalidGrantId();
    const arn = input.KeyId !== undefined ? await keyArnOf(input.KeyId, ctx, svc) : undefined;
    const g = await svc.store.getGrant(id);
    // A genuine token of a grant already retired or revoked.
    if (g === undefined) throw new ServiceError('NotFoundException', 'The grant that the grant token identifies does not exist.');
    if (arn !== undefined && g.keyArn !== arn) throw invalidGrantId();
    return g;
  }
  if (input.KeyId === undefined || input.GrantId === undefined) {
    throw new ServiceError('ValidationException', 'Specify either a GrantToken, or both a KeyId and a GrantId.');
  }
  const arn = await keyArnOf(input.KeyId, ctx, svc);
  const g = await svc.store.getGrant(input.GrantId);
  if (g === undefined || g.keyArn !== arn) throw invalidGrantId();
  return g;
}

export const retireGrant: Operation<RetireGrantInput, RetireGrantOutput, Deps> = {
  name: 'RetireGrant',
  output: KMS_OUTPUTS.RetireGrant,
  readOnly: false,
  input: KMS_INPUTS.RetireGrant,
  async invoke(input, ctx, svc) {
    const grant = await namedGrant(input, ctx, svc);
    noteKey(ctx.audit, grant.keyArn);
    const { caller } = ctx;
    if (mayRetireGrant(grant, callerGranteeArns(caller), caller.uniqueId) === undefined && caller.accountId !== grant.issuingAccount) {
      throw new ServiceError(
        'AccessDeniedException',
        `User: ${caller.principalArn} is not authorized to perform: ${ACTION} on resource: ${grant.keyArn} because the grant does not name it as its retiring principal or as a grantee allowed to retire it`,
      );
    }
    // Named only through its account (not as itself or its role): identity policies must allow.
    const own = caller.principalType === 'Root' ? callerGranteeArns(caller) : callerGranteeArns(caller).filter((a) => !a.endsWith(':root'));
    if (mayRetireGrant(grant, own, caller.uniqueId) === undefined) {
      const key = await svc.keyring.getKey(grant.keyArn);
      if (key === undefined) throw new ServiceError('NotFoundException', `Key '${grant.keyArn}' does not exist`);
      await authorizeKms(ctx, svc, { action: ACTION, key, identityOnly: true });
    }
    if (input.DryRun === true) throw dryRunSucceeded();
    if (!(await svc.store.deleteGrant(grant.keyArn, grant.grantId))) throw invalidGrantId();
    return undefined;
  },
};
