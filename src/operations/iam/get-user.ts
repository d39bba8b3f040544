/** IAM GetUser: the named user, or without UserName the caller (the account root too). */
import { rootArn } from '../../identity/arns';
import type { Operation } from '../operation';
import { authorizedTargetUser, userOutput, type IamStore } from './iam-common';
import { IAM_OUTPUTS, type GetUserOutput } from '../../model/iam-outputs';
import { IAM_INPUTS } from '../../model/iam-inputs';

interface Input {
  readonly UserName?: string;
}

export const getUser: Operation<Input, GetUserOutput, IamStore> = {
  name: 'GetUser',
  output: IAM_OUTPUTS.GetUser,
  input: IAM_INPUTS.GetUser,
  readOnly: true,
  async invoke(input, ctx, svc) {
    const user = await authorizedTargetUser(ctx, svc, 'GetUser', input.UserName);
    if (user === undefined) {
      const account = await svc.store.identity.getAccount(ctx.caller.accountId);
      // The account root has no UserName or Path, though the model requires them: AWS answers so
      // (GetUser API reference: "If you do not specify a user name, IAM determines the user name
      // implicitly based on the AWS access key ID"; for the root, only UserId, Arn and CreateDate).
      return { User: { UserId: ctx.caller.accountId, Arn: rootArn(ctx.caller.accountId), CreateDate: new Date(account?.createdAt ?? 0) } as GetUserOutput['User'] & object };
    }
    return { User: userOutput(user, await svc.store.identity.listIamTags(user.id)) };
  },
};
