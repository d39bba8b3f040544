/** IAM TagUser: adds or overwrites tags (at most 50 per user); they become aws:PrincipalTag. */
import { ServiceError } from '../../errors';
import type { IamTag } from '../../store/store';
import type { Operation } from '../operation';
import { MAX_TAGS, authorizedEntity, checkTags, requestTagConditions, type IamStore } from './iam-common';
import { IAM_OUTPUTS, type TagUserOutput } from '../../model/iam-outputs';
import { IAM_INPUTS } from '../../model/iam-inputs';

interface Input {
  readonly UserName: string;
  readonly Tags: IamTag[];
}

export const tagUser: Operation<Input, TagUserOutput, IamStore> = {
  name: 'TagUser',
  output: IAM_OUTPUTS.TagUser,
  input: IAM_INPUTS.TagUser,
  readOnly: false,
  async invoke(input, ctx, svc) {
    checkTags(input.Tags);
    const user = await authorizedEntity(ctx, svc, 'TagUser', 'user', input.UserName, requestTagConditions(input.Tags));
    if (!(await svc.store.identity.putIamTags(user.id, input.Tags, MAX_TAGS))) {
      throw new ServiceError('LimitExceededException', `Cannot exceed quota for TagsPerUser: ${MAX_TAGS}`);
    }
    return undefined;
  },
};
