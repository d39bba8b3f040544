/** IAM DeleteAccessKey: removes a key of a user (or of the caller); it authenticates nothing afterwards. */
import type { Operation } from '../operation';
import { authorizedKeyOwner, noSuchAccessKey, type IamStore } from './iam-common';
import { IAM_OUTPUTS, type DeleteAccessKeyOutput } from '../../model/iam-outputs';
import { IAM_INPUTS } from '../../model/iam-inputs';
import type { AccessKeyRepository } from '../../store/store';

interface Input {
  readonly UserName?: string;
  readonly AccessKeyId: string;
}

export const deleteAccessKey: Operation<Input, DeleteAccessKeyOutput, IamStore & Pick<AccessKeyRepository, 'getAccessKey'>> = {
  name: 'DeleteAccessKey',
  output: IAM_OUTPUTS.DeleteAccessKey,
  input: IAM_INPUTS.DeleteAccessKey,
  readOnly: false,
  async invoke(input, ctx, svc) {
    const owner = await authorizedKeyOwner(ctx, svc, 'DeleteAccessKey', input.UserName);
    const key = await svc.store.getAccessKey(input.AccessKeyId);
    if (key === undefined || key.principalId !== owner.principalId) throw noSuchAccessKey(input.AccessKeyId);
    await svc.store.identity.deleteAccessKey(key.accessKeyId);
    return undefined;
  },
};
