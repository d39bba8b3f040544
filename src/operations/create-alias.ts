/**
 * CreateAlias: a new `alias/...` name for a customer managed key in the caller's account and
 * region; at most 50 aliases per key (kms-reference.md §3, §6 AliasNameType, §12.2). Also holds
 * the alias-name rules that UpdateAlias and DeleteAlias share.
 */
import { ServiceError } from '../errors';
import { aliasArn } from '../keys/arn';
import { assertCustomerManaged } from '../keys/aws-managed';
import { assertKeyState } from '../keys/key-states';
import type { Operation } from './operation';
import { S, structure } from './shape';
import { authorizeKms } from './authorize';

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
 * Checks the prefix rules the model's pattern cannot express; throws InvalidAliasNameException.
 * (Length and character set are checked by the shape as ValidationException.)
 */
export function assertAliasName(aliasName: string): void {
  if (!aliasName.startsWith(ALIAS_PREFIX)) {
    throw new ServiceError('InvalidAliasNameException', 'Alias must start with the prefix "alias/".');
  }
  if (aliasName.startsWith(RESERVED_PREFIX)) {
    throw new ServiceError('InvalidAliasNameException', 'Alias names beginning with "alias/aws/" are reserved for AWS managed keys.');
  }
  if (!ALIAS_SUFFIX.test(aliasName.slice(ALIAS_PREFIX.length))) {
    throw new ServiceError(
      'InvalidAliasNameException',
      'Alias must have a name after "alias/" made only of alphanumeric characters, forward slashes (/), underscores (_) and dashes (-).',
    );
  }
}

/** The NotFoundException for an alias that does not exist. */
export function aliasNotFound(arn: string): ServiceError {
  return new ServiceError('NotFoundException', `Alias ${arn} is not found.`);
}

export const createAlias: Operation<CreateAliasInput> = {
  name: 'CreateAlias',
  readOnly: false,
  input: structure({ AliasName: S.aliasName(), TargetKeyId: S.keyId() }),
  async invoke(input, ctx, svc) {
    assertAliasName(input.AliasName);
    const { accountId } = ctx.caller;
    // kms:CreateAlias on the alias (identity-based policies) and on the key (its key policy), §9.2.
    await authorizeKms(ctx, svc, { action: 'kms:CreateAlias', resource: aliasArn(ctx.region, accountId, input.AliasName) });
    const { key } = await svc.keyring.resolve(input.TargetKeyId, 'key', ctx.caller, ctx.region, 'kms:CreateAlias');
    await authorizeKms(ctx, svc, { action: 'kms:CreateAlias', key });
    assertCustomerManaged(key, 'kms:CreateAlias', ctx.caller);
    assertKeyState(key, 'modify');
    const taken = (): ServiceError =>
      new ServiceError('AlreadyExistsException', `An alias with the name ${aliasArn(ctx.region, accountId, input.AliasName)} already exists`);
    if ((await svc.store.getAlias(accountId, ctx.region, input.AliasName)) !== undefined) throw taken();
    // Not atomic with the insert below: two concurrent CreateAlias calls may together pass 50.
    const existing = await svc.store.listAliases(accountId, ctx.region, key.arn, { limit: MAX_ALIASES_PER_KEY });
    if (existing.length >= MAX_ALIASES_PER_KEY) {
      throw new ServiceError('LimitExceededException', `${key.arn} already has the maximum of ${MAX_ALIASES_PER_KEY} aliases.`);
    }
    const now = svc.clock.now();
    const created = await svc.store.createAlias({
      accountId,
      region: ctx.region,
      aliasName: input.AliasName,
      targetKeyId: key.keyId,
      targetKeyArn: key.arn,
      creationDate: now,
      lastUpdatedDate: now,
    });
    svc.keyring.forgetAlias(accountId, ctx.region, input.AliasName);
    if (!created) throw taken();
    return undefined;
  },
};
