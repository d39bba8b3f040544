/** IAM GetRole: the role with its trust policy (URL-encoded, as IAM returns it) and tags. */
import type { Operation } from '../operation';
import { structure } from '../shape';
import { authorizedEntity, roleOutput } from './iam-common';
import { IAM } from './iam-shapes';

interface Input {
  readonly RoleName: string;
}

export const getRole: Operation<Input> = {
  name: 'GetRole',
  input: structure({ RoleName: IAM.roleName() }),
  readOnly: true,
  async invoke(input, ctx, svc) {
    const role = await authorizedEntity(ctx, svc, 'GetRole', 'role', input.RoleName);
    return { Role: roleOutput(role, await svc.store.identity.listIamTags(role.id)) };
  },
};
