/** Organizations DescribeCreateAccountStatus: CreateAccount completes at once, so its status is SUCCEEDED. */
import { ServiceError } from '../../errors';
import type { Operation } from '../operation';
import { orgCall, type OrgStore } from './org-common';
import { ORGANIZATIONS_INPUTS } from '../../model/organizations-inputs';
import { ORGANIZATIONS_OUTPUTS, type DescribeCreateAccountStatusOutput } from '../../model/organizations-outputs';

interface Input {
  readonly CreateAccountRequestId: string;
}

export const describeCreateAccountStatus: Operation<Input, DescribeCreateAccountStatusOutput, OrgStore> = {
  name: 'DescribeCreateAccountStatus',
  output: ORGANIZATIONS_OUTPUTS.DescribeCreateAccountStatus,
  input: ORGANIZATIONS_INPUTS.DescribeCreateAccountStatus,
  readOnly: true,
  async invoke(input, ctx, svc) {
    const { org } = await orgCall(ctx, svc, 'DescribeCreateAccountStatus');
    const accountId = /^car-(\d{12})/.exec(input.CreateAccountRequestId)?.[1];
    const account = accountId === undefined ? undefined : await svc.store.identity.getAccount(accountId);
    if (account === undefined || account.organizationId !== org.id || account.joinedMethod !== 'CREATED') {
      throw new ServiceError('CreateAccountStatusNotFoundException', "We can't find an create account request with the CreateAccountRequestId that you specified.");
    }
    const at = account.joinedAt ?? account.createdAt;
    return {
      CreateAccountStatus: {
        Id: input.CreateAccountRequestId,
        AccountName: account.name ?? account.accountId,
        State: 'SUCCEEDED',
        RequestedTimestamp: at,
        CompletedTimestamp: at,
        AccountId: account.accountId,
      },
    };
  },
};
