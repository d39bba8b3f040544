/**
 * Organizations CreateAccount: a new member account, created at once (State SUCCEEDED), with the
 * role AWS creates in it (RoleName, default OrganizationAccountAccessRole: trusted by the
 * management account, AdministratorAccess attached). The request id encodes the account id, so
 * DescribeCreateAccountStatus needs no extra state.
 */
import { randomBytes } from 'node:crypto';
import { ServiceError } from '../../errors';
import { createAccount as newAccount, createAccountAccessRole, policiesForNewMember } from '../../identity/accounts';
import type { Operation } from '../operation';
import { orgCall, type OrgStore } from './org-common';
import { ORGANIZATIONS_INPUTS } from '../../model/organizations-inputs';
import { ORGANIZATIONS_OUTPUTS, type CreateAccountOutput } from '../../model/organizations-outputs';

interface Input {
  readonly Email: string;
  readonly AccountName: string;
  readonly RoleName?: string;
  readonly IamUserAccessToBilling?: string;
  readonly Tags?: { Key: string; Value: string }[];
}

/** car-<account id><20 random [a-z0-9]>: within the model's car-[a-z0-9]{8,32}. */
export function createAccountRequestId(accountId: string): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (const b of randomBytes(20)) s += alphabet[b % alphabet.length];
  return `car-${accountId}${s}`;
}

export const createAccount: Operation<Input, CreateAccountOutput, OrgStore> = {
  name: 'CreateAccount',
  output: ORGANIZATIONS_OUTPUTS.CreateAccount,
  input: ORGANIZATIONS_INPUTS.CreateAccount,
  readOnly: false,
  async invoke(input, ctx, svc) {
    const { org } = await orgCall(ctx, svc, 'CreateAccount');
    const now = svc.clock.now();
    const account = await newAccount(svc.store, svc.clock, input.AccountName, input.Email);
    if (account === undefined || !(await svc.store.identity.joinOrganization(account.accountId, org.id, 'CREATED', now, policiesForNewMember))) {
      throw new ServiceError('ServiceUnavailableException', 'The account could not be created. Try again later.');
    }
    await createAccountAccessRole(svc.store, svc.clock, account.accountId, org.managementAccountId, input.RoleName ?? 'OrganizationAccountAccessRole');
    return {
      CreateAccountStatus: {
        Id: createAccountRequestId(account.accountId),
        AccountName: input.AccountName,
        State: 'SUCCEEDED',
        RequestedTimestamp: now,
        CompletedTimestamp: svc.clock.now(),
        AccountId: account.accountId,
      },
    };
  },
};
