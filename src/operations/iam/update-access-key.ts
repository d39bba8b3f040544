/** IAM UpdateAccessKey: Active or Inactive; an inactive key authenticates nothing from the next request on. */
import type { Operation } from '../operation';
import { authorizedKeyOwner, noSuchAccessKey, type IamStore } from './iam-common';
import { IAM_OUTPUTS, type UpdateAccessKeyOutput } from '../../model/iam-outputs';
import { IAM_INPUTS } from '../../model/iam-inputs';
import type { AccessKeyRepository } from '../../store/store';

interface Input {
  readonly UserName?: string;
  readonly AccessKeyId: string;
  readonly Status: 'Active' | 'Inactive';
}

export const updateAccessKey: Operation<Input, UpdateAccessKeyOutput, IamStore & Pick<AccessKeyRepository, 'getAccessKey'>> = {
  name: 'UpdateAccessKey',
  output: IAM_OUTPUTS.UpdateAccessKey,
  input: IAM_INPUTS.UpdateAccessKey,
  readOnly: false,
  async invoke(input, ctx, svc) {
    const owner = await authorizedKeyOwner(ctx, svc, 'UpdateAccessKey', input.UserName);
    const key = await svc.store.getAccessKey(input.AccessKeyId);
    if (key === undefined || key.principalId !== owner.principalId) throw noSuchAccessKey(input.AccessKeyId);
    await svc.store.identity.setAccessKeyStatus(key.accessKeyId, input.Status);
    return undefined;
  },
};
