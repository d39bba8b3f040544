/**
 * Accounts and organizations: creating member accounts (Organizations CreateAccount and the
 * `keyhold accounts create` command) and the AWS managed FullAWSAccess SCP that AWS attaches to
 * the root and every account when SCPs are enabled (Organizations User Guide,
 * orgs_manage_policies_scps: "FullAWSAccess").
 */
import type { Clock } from '../clock';
import type { AccountRecord, IamEntityRecord, OrganizationRecord, OrgPolicyRecord, IdentityRepository } from '../store/store';
import { FULL_AWS_ACCESS_ARN, iamEntityArn, rootArn } from './arns';
import { ID_PREFIX, newAccountId, newUniqueId } from './ids';

/** The id of the AWS managed full-access SCP. */
export const FULL_AWS_ACCESS_ID = 'p-FullAWSAccess';

/** The FullAWSAccess SCP as stored for one organization. */
export function fullAwsAccessPolicy(organizationId: string): OrgPolicyRecord {
  return {
    organizationId,
    id: FULL_AWS_ACCESS_ID,
    arn: FULL_AWS_ACCESS_ARN,
    name: 'FullAWSAccess',
    description: 'Allows access to every operation',
    type: 'SERVICE_CONTROL_POLICY',
    content: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }),
    awsManaged: true,
  };
}

/**
 * Policies a new member account gets attached (FullAWSAccess once SCPs are enabled). Pure: the
 * store calls it inside the join's transaction with the organization as it is then.
 */
export function policiesForNewMember(org: OrganizationRecord): string[] {
  return org.enabledPolicyTypes.includes('SERVICE_CONTROL_POLICY') ? [FULL_AWS_ACCESS_ID] : [];
}

/** Creates an account with a fresh id (retrying on the rare collision). */
export async function createAccount(store: IdentityRepository, clock: Clock, name: string | null, email: string | null, accountId?: string): Promise<AccountRecord | undefined> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const account: AccountRecord = {
      accountId: accountId ?? newAccountId(),
      createdAt: clock.now(),
      name,
      email,
      organizationId: null,
      joinedMethod: null,
      joinedAt: null,
    };
    if (await store.identity.createAccount(account)) return account;
    if (accountId !== undefined) return undefined;
  }
  throw new Error('could not allocate an account id');
}

/** The AdministratorAccess managed policy. */
const ADMINISTRATOR_ACCESS = 'arn:aws:iam::aws:policy/AdministratorAccess';

/**
 * Creates the role Organizations CreateAccount creates in a new member account
 * (OrganizationAccountAccessRole by default): trusted by the management account, with
 * AdministratorAccess attached.
 */
export async function createAccountAccessRole(store: IdentityRepository, clock: Clock, accountId: string, managementAccountId: string, roleName: string): Promise<IamEntityRecord> {
  const role: IamEntityRecord = {
    id: newUniqueId(ID_PREFIX.role),
    accountId,
    kind: 'role',
    name: roleName,
    path: '/',
    arn: iamEntityArn(accountId, 'role', '/', roleName),
    createdAt: clock.now(),
    assumeRolePolicy: JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: rootArn(managementAccountId) }, Action: 'sts:AssumeRole' }],
    }),
    description: null,
    maxSessionDuration: 3600,
    permissionsBoundary: null,
  };
  await store.identity.createIamEntity(role, []);
  await store.identity.attachPolicy(role.id, ADMINISTRATOR_ACCESS);
  return role;
}
