/** IAM UpdateAccessKey: Active or Inactive; an inactive key authenticates nothing from the next request on. */
import type { Operation } from '../operation';
import { structure } from '../shape';
import { authorizedKeyOwner, noSuchAccessKey } from './iam-common';
import { IAM } from './iam-shapes';
import { IAM_OUTPUTS, type UpdateAccessKeyOutput } from '../../model/iam-outputs';

interface Input {
  readonly UserName?: string;
  readonly AccessKeyId: string;
  readonly Status: 'Active' | 'Inactive';
}

export const updateAccessKey: Operation<Input, UpdateAccessKeyOutput> = {
  name: 'UpdateAccessKey',
  output: IAM_OUTPUTS.UpdateAccessKey,
  input: structure({ UserName: IAM.existingUserName(false), AccessKeyId: IAM.accessKeyId(), Status: IAM.status() }),
  readOnly: false,
  async invoke(input, ctx, svc) {
    const owner = await authorizedKeyOwner(ctx, svc, 'UpdateAccessKey', input.UserName);
    const key = await svc.store.getAccessKey(input.AccessKeyId);
    if (key === undefined || key.principalId !== owner.principalId) throw noSuchAccessKey(input.AccessKeyId);
    await svc.store.identity.setAccessKeyStatus(key.accessKeyId, input.Status);
    return undefined;
  },
};
