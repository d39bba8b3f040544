/** IAM ListAccessKeys: a user's (or the caller's) access key ids and status; never secrets. */
import type { Operation } from '../operation';
import { authorizedKeyOwner, iamPage, iamPageResult, type IamStore } from './iam-common';
import { IAM_OUTPUTS, type ListAccessKeysOutput } from '../../model/iam-outputs';
import { IAM_INPUTS } from '../../model/iam-inputs';

interface Input {
  readonly UserName?: string;
  readonly Marker?: string;
  readonly MaxItems?: number;
}

export const listAccessKeys: Operation<Input, ListAccessKeysOutput, IamStore> = {
  name: 'ListAccessKeys',
  output: IAM_OUTPUTS.ListAccessKeys,
  input: IAM_INPUTS.ListAccessKeys,
  readOnly: true,
  async invoke(input, ctx, svc) {
    const owner = await authorizedKeyOwner(ctx, svc, 'ListAccessKeys', input.UserName);
    const page = iamPage(input.Marker, input.MaxItems);
    const keys = (await svc.store.identity.listAccessKeysForPrincipal(owner.principalId)).filter(
      (k) => page.after === undefined || k.accessKeyId > page.after,
    );
    keys.sort((a, b) => (a.accessKeyId < b.accessKeyId ? -1 : 1));
    const { items, ...more } = iamPageResult(keys, page, (k) => k.accessKeyId);
    return {
      AccessKeyMetadata: items.map((k) => ({
        ...(owner.user === undefined ? {} : { UserName: owner.user.name }),
        AccessKeyId: k.accessKeyId,
        Status: k.status,
        CreateDate: new Date(k.createdAt),
      })),
      ...more,
    };
  },
};
