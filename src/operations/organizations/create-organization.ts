/**
 * Organizations CreateOrganization: the caller's account becomes the management account of a
 * new organization with one root. Service control policies still need EnablePolicyType.
 */
import { ServiceError } from '../../errors';
import { organizationArn } from '../../identity/arns';
import { authorizeCall } from '../../identity/authorize-call';
import { newOrganizationId, newRootId } from '../../identity/ids';
import type { OrganizationRecord } from '../../store/store';
import type { Operation } from '../operation';
import { organizationOutput, type OrgStore } from './org-common';
import { ORGANIZATIONS_INPUTS } from '../../model/organizations-inputs';
import { ORGANIZATIONS_OUTPUTS, type CreateOrganizationOutput } from '../../model/organizations-outputs';

interface Input {
  readonly FeatureSet?: 'ALL' | 'CONSOLIDATED_BILLING';
}

export const createOrganization: Operation<Input, CreateOrganizationOutput, OrgStore> = {
  name: 'CreateOrganization',
  output: ORGANIZATIONS_OUTPUTS.CreateOrganization,
  input: ORGANIZATIONS_INPUTS.CreateOrganization,
  readOnly: false,
  async invoke(input, ctx, svc) {
    await authorizeCall({ store: svc.store, clock: svc.clock, caller: ctx.caller, origin: ctx.origin, region: ctx.region }, 'organizations:CreateOrganization', '*');
    const accountId = ctx.caller.accountId;
    const account = await svc.store.identity.getAccount(accountId);
    const id = newOrganizationId();
    const org: OrganizationRecord = {
      id,
      arn: organizationArn(accountId, id),
      managementAccountId: accountId,
      featureSet: input.FeatureSet ?? 'ALL',
      rootId: newRootId(),
      createdAt: svc.clock.now(),
      enabledPolicyTypes: [],
    };
    if (account === undefined || account.organizationId !== null || !(await svc.store.identity.createOrganization(org, org.createdAt))) {
      throw new ServiceError('AlreadyInOrganizationException', 'The AWS account is already a member of an organization.');
    }
    return { Organization: organizationOutput(org, account.email) };
  },
};
