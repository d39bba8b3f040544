/** IAM GetUser: the named user, or without UserName the caller (the account root too). */
import { rootArn } from '../../identity/arns';
import type { Operation } from '../operation';
import { structure } from '../shape';
import { authorizedTargetUser, userOutput } from './iam-common';
import { IAM } from './iam-shapes';

interface Input {
  readonly UserName?: string;
}

export const getUser: Operation<Input> = {
  name: 'GetUser',
  input: structure({ UserName: IAM.existingUserName(false) }),
  readOnly: true,
  async invoke(input, ctx, svc) {
    const user = await authorizedTargetUser(ctx, svc, 'GetUser', input.UserName);
    if (user === undefined) {
      const account = await svc.store.identity.getAccount(ctx.caller.accountId);
      return { User: { UserId: ctx.caller.accountId, Arn: rootArn(ctx.caller.accountId), CreateDate: new Date(account?.createdAt ?? 0) } };
    }
    return { User: userOutput(user, await svc.store.identity.listIamTags(user.id)) };
  },
};
