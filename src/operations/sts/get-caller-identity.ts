/** STS GetCallerIdentity: who signed the request. Needs no permission (as in AWS). */
import type { Operation } from '../operation';
import { structure } from '../shape';

export const getCallerIdentity: Operation<Record<string, never>> = {
  name: 'GetCallerIdentity',
  input: structure({}),
  readOnly: true,
  async invoke(_input, ctx) {
    const c = ctx.caller;
    return { UserId: c.principalId, Account: c.accountId, Arn: c.principalArn };
  },
};
