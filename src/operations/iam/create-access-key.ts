/**
 * IAM CreateAccessKey: a new AKIA… key for a user (or, without UserName, for the calling user or
 * the account root). The secret is returned once and stored only wrapped by the root of trust.
 * At most two keys per principal (LimitExceeded AccessKeysPerUser).
 */
import { ServiceError } from '../../errors';
import { newAccessKeyId, newSecretAccessKey, wrapAccessKeySecret } from '../../identity/credentials';
import type { AccessKeyRecord } from '../../store/store';
import type { Operation } from '../operation';
import { authorizedKeyOwner, noSuchEntity, type IamStore } from './iam-common';
import { IAM_OUTPUTS, type CreateAccessKeyOutput } from '../../model/iam-outputs';
import { IAM_INPUTS } from '../../model/iam-inputs';

interface Input {
  readonly UserName?: string;
}

const MAX_KEYS = 2;

export const createAccessKey: Operation<Input, CreateAccessKeyOutput, IamStore> = {
  name: 'CreateAccessKey',
  output: IAM_OUTPUTS.CreateAccessKey,
  input: IAM_INPUTS.CreateAccessKey,
  readOnly: false,
  async invoke(input, ctx, svc) {
    const owner = await authorizedKeyOwner(ctx, svc, 'CreateAccessKey', input.UserName);
    const accessKeyId = newAccessKeyId();
    const secret = newSecretAccessKey();
    const record: AccessKeyRecord = {
      accessKeyId,
      accountId: ctx.caller.accountId,
      principalArn: owner.principalArn,
      principalId: owner.principalId,
      principalType: owner.user === undefined ? 'Root' : 'IAMUser',
      userName: owner.user?.name ?? null,
      wrappedSecret: await wrapAccessKeySecret(svc.trust, accessKeyId, secret),
      status: 'Active',
      createdAt: svc.clock.now(),
    };
    const created = await svc.store.identity.createAccessKeyWithinQuota(record, MAX_KEYS);
    // The user was deleted after it was looked up: as if it had been gone already.
    if (created === 'no-such-user') throw noSuchEntity('user', owner.user?.name ?? input.UserName ?? owner.principalId);
    if (created === 'quota-exceeded') {
      throw new ServiceError('LimitExceededException', `Cannot exceed quota for AccessKeysPerUser: ${MAX_KEYS}`);
    }
    // The model requires UserName; the account root's own key has none (docs/compatibility.md).
    return {
      AccessKey: {
        ...(owner.user === undefined ? {} : { UserName: owner.user.name }),
        AccessKeyId: accessKeyId,
        Status: 'Active',
        SecretAccessKey: secret,
        CreateDate: new Date(record.createdAt),
      } as CreateAccessKeyOutput['AccessKey'] & object,
    };
  },
};
