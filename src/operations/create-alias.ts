/**
 * CreateAlias: a new `alias/...` name for a customer managed key in the caller's account and
 * region; at most 50 aliases per key (kms-reference.md §3, §6 AliasNameType, §12.2). Also holds
 * the alias-name rules that UpdateAlias and DeleteAlias share.
 */
import { ServiceError } from '../errors';
import { aliasArn } from '../keys/arn';
import { assertCustomerManaged } from '../keys/aws-managed';
import { addAlias } from '../keys/guarded-writes';
import { assertKeyState } from '../keys/key-states';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { Operation } from './operation';
import type { TransactionRunner } from '../store/store';
import { authorizeKms } from './authorize';
import type { KmsAuthorizationStore } from './authorize';
import { KMS_OUTPUTS, type CreateAliasOutput } from '../model/kms-outputs';

interface CreateAliasInput {
  AliasName: string;
  TargetKeyId: string;
}

/** AWS's quota of aliases per KMS key. */
export const MAX_ALIASES_PER_KEY = 50;

const ALIAS_PREFIX = 'alias/';
const RESERVED_PREFIX = 'alias/aws/';
/** What follows `alias/`: the model pattern allows ':' but the AWS docs do not (§15 #9). */
const ALIAS_SUFFIX = /^[a-zA-Z0-9/_-]+$/;

/**
 * Checks the prefix rules the model's pattern cannot express (length and character set are
 * checked by the shape). The answers are AWS's own (issue 8; docs/compatibility.md): a name
 * without `alias/` is a ValidationException with the message below (observed from AWS KMS, e.g.
 * aws-controllers-k8s/community issue 1878); `alias/aws/` is NotAuthorizedException; a ':' after
 * the prefix is a ValidationException; `alias/` alone is InvalidAliasNameException.
 */
export function assertAliasName(aliasName: string): void {
  if (!aliasName.startsWith(ALIAS_PREFIX)) {
    throw new ServiceError(
      'ValidationException',
      'Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html',
    );
  }
  if (aliasName.startsWith(RESERVED_PREFIX)) {
    throw new ServiceError('NotAuthorizedException', 'Alias names beginning with "alias/aws/" are reserved for AWS managed keys.');
  }
  const suffix = aliasName.slice(ALIAS_PREFIX.length);
  if (suffix.includes(':')) {
    throw new ServiceError('ValidationException', `${aliasName} contains invalid characters for an alias`);
  }
  if (!ALIAS_SUFFIX.test(suffix)) {
    throw new ServiceError(
      'InvalidAliasNameException',
      'Alias must have a name after "alias/" made only of alphanumeric characters, forward slashes (/), underscores (_) and dashes (-).',
    );
  }
}

/** TargetKeyId of CreateAlias/UpdateAlias names a key (id or ARN), never an alias: AWS's ValidationException. */
export function assertTargetIsKey(targetKeyId: string): void {
  if (targetKeyId.startsWith(ALIAS_PREFIX) || targetKeyId.includes(':alias/')) {
    throw new ServiceError('ValidationException', 'Aliases must refer to keys. Not aliases');
  }
}

/** The NotFoundException for an alias that does not exist. */
export function aliasNotFound(arn: string): ServiceError {
  return new ServiceError('NotFoundException', `Alias ${arn} is not found.`);
}

export const createAlias: Operation<CreateAliasInput, CreateAliasOutput, KmsAuthorizationStore & TransactionRunner> = {
  name: 'CreateAlias',
  output: KMS_OUTPUTS.CreateAlias,
  readOnly: false,
  input: KMS_INPUTS.CreateAlias,
  async invoke(input, ctx, svc) {
    assertAliasName(input.AliasName);
    assertTargetIsKey(input.TargetKeyId);
    const { accountId } = ctx.caller;
    // kms:CreateAlias on the alias (identity-based policies) and on the key (its key policy), §9.2.
    await authorizeKms(ctx, svc, { action: 'kms:CreateAlias', resource: aliasArn(ctx.region, accountId, input.AliasName) });
    const { key } = await svc.keyring.resolve(input.TargetKeyId, 'key', ctx.caller, ctx.region, 'kms:CreateAlias');
    await authorizeKms(ctx, svc, { action: 'kms:CreateAlias', key });
    assertCustomerManaged(key, 'kms:CreateAlias', ctx.caller);
    assertKeyState(key, 'modify');
    const now = svc.clock.now();
    // Existence, the per-key limit and the key's state are decided in one transaction (issue 13).
    const outcome = await addAlias(
      svc.store,
      { accountId, region: ctx.region, aliasName: input.AliasName, targetKeyId: key.keyId, targetKeyArn: key.arn, creationDate: now, lastUpdatedDate: now },
      MAX_ALIASES_PER_KEY,
      (current) => assertKeyState(current, 'modify'),
    );
    if (outcome === 'exists') {
      throw new ServiceError('AlreadyExistsException', `An alias with the name ${aliasArn(ctx.region, accountId, input.AliasName)} already exists`);
    }
    if (outcome === 'limit-exceeded') {
      throw new ServiceError('LimitExceededException', `${key.arn} already has the maximum of ${MAX_ALIASES_PER_KEY} aliases.`);
    }
    if (outcome === 'no-key') throw new ServiceError('NotFoundException', `Key '${key.arn}' does not exist`);
    return undefined;
  },
};
