/** IAM TagRole: adds or overwrites tags (at most 50 per role); sessions see them as aws:PrincipalTag. */
import { ServiceError } from '../../errors';
import type { IamTag } from '../../store/store';
import type { Operation } from '../operation';
import { MAX_TAGS, authorizedEntity, checkTags, requestTagConditions, type IamStore } from './iam-common';
import { IAM_OUTPUTS, type TagRoleOutput } from '../../model/iam-outputs';
import { IAM_INPUTS } from '../../model/iam-inputs';

interface Input {
  readonly RoleName: string;
  readonly Tags: IamTag[];
}

export const tagRole: Operation<Input, TagRoleOutput, IamStore> = {
  name: 'TagRole',
  output: IAM_OUTPUTS.TagRole,
  input: IAM_INPUTS.TagRole,
  readOnly: false,
  async invoke(input, ctx, svc) {
    checkTags(input.Tags);
    const role = await authorizedEntity(ctx, svc, 'TagRole', 'role', input.RoleName, requestTagConditions(input.Tags));
    if (!(await svc.store.identity.putIamTags(role.id, input.Tags, MAX_TAGS))) {
      throw new ServiceError('LimitExceededException', `Cannot exceed quota for TagsPerRole: ${MAX_TAGS}`);
    }
    return undefined;
  },
};
