/**
 * STS GetCallerIdentity: who signed the request. Needs no permission (as in AWS), but the
 * credentials must still belong to a user or role that exists (a deleted role's session is
 * refused like unknown credentials; issue 12 item 8).
 */
import { identityResolver } from '../../identity/identity-policies';
import type { Operation } from '../operation';
import { STS_OUTPUTS } from '../../model/sts-outputs';
import { STS_INPUTS } from '../../model/sts-inputs';

export const getCallerIdentity: Operation<Record<string, never>> = {
  name: 'GetCallerIdentity',
  output: STS_OUTPUTS.GetCallerIdentity,
  input: STS_INPUTS.GetCallerIdentity,
  readOnly: true,
  async invoke(_input, ctx, svc) {
    const c = ctx.caller;
    await identityResolver(svc.store).resolve(c);
    return { UserId: c.principalId, Account: c.accountId, Arn: c.principalArn };
  },
};
