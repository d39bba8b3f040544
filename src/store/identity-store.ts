/**
 * The identity part of the Store port: accounts and Organizations, IAM users, groups and roles,
 * their tags and policies, access keys' quota and status, and STS sessions (issue 3,
 * "Identities"). Plain records; every method is atomic on its own, like the rest of `Store`.
 * Times are epoch milliseconds. IAM names are unique per account case-insensitively, as in
 * AWS (IAM User Guide, reference_iam-quotas "IAM name requirements"), so stores key them by a
 * lowercased copy.
 */
import type { AccessKeyRecord } from './records';

/** The kinds of IAM principal-like entities. */
export type IamEntityKind = 'user' | 'role' | 'group';

/** An IAM user, role or group. Role-only fields are null for users and groups. */
export interface IamEntityRecord {
  /** AWS-style unique id: AIDA… (user), AROA… (role), AGPA… (group). */
  readonly id: string;
  readonly accountId: string;
  readonly kind: IamEntityKind;
  readonly name: string;
  /** "/" or "/a/b/". */
  readonly path: string;
  readonly arn: string;
  readonly createdAt: number;
  /** Roles: the trust policy (AssumeRolePolicyDocument). */
  readonly assumeRolePolicy: string | null;
  readonly description: string | null;
  /** Roles: the longest session AssumeRole may grant, in seconds (3600-43200). */
  readonly maxSessionDuration: number | null;
  /** A permissions boundary policy ARN: bounds what identity-based policies grant (docs/authorization.md). */
  readonly permissionsBoundary: string | null;
}

/** A tag on an IAM entity (IAM's Key/Value spelling). */
export interface IamTag {
  readonly Key: string;
  readonly Value: string;
}

/** An inline policy embedded in a user, group or role. */
export interface IamInlinePolicyRecord {
  readonly policyName: string;
  readonly document: string;
}

/** A customer managed policy (one version, v1). */
export interface IamManagedPolicyRecord {
  readonly arn: string;
  /** ANPA… */
  readonly policyId: string;
  readonly accountId: string;
  readonly policyName: string;
  readonly path: string;
  readonly document: string;
  readonly description: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** A session AssumeRole issued. Its secret and token are stored only wrapped by the root of trust. */
export interface StsSessionRecord {
  /** ASIA… */
  readonly accessKeyId: string;
  readonly accountId: string;
  readonly roleId: string;
  /** The role's ARN, with its path. */
  readonly roleArn: string;
  readonly roleName: string;
  readonly sessionName: string;
  /** Secret access key and session token, wrapped together (see src/identity/sessions.ts). */
  readonly wrappedCredentials: Buffer;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** The inline session policy (Policy), if any. */
  readonly sessionPolicy: string | null;
  /** Managed session policies (PolicyArns). */
  readonly policyArns: readonly string[];
  /** Session tags, including transitive tags inherited through role chaining. */
  readonly sessionTags: readonly IamTag[];
  readonly transitiveTagKeys: readonly string[];
  readonly sourceIdentity: string | null;
  /** Who called AssumeRole (for audit). */
  readonly sourcePrincipalArn: string;
}

/** An account, with its Organizations membership. */
export interface AccountRecord {
  readonly accountId: string;
  readonly createdAt: number;
  readonly name: string | null;
  readonly email: string | null;
  readonly organizationId: string | null;
  readonly joinedMethod: 'CREATED' | 'INVITED' | null;
  readonly joinedAt: number | null;
}

/** An organization (one root; organizational units are not modelled). */
export interface OrganizationRecord {
  /** o-… */
  readonly id: string;
  readonly arn: string;
  readonly managementAccountId: string;
  readonly featureSet: 'ALL' | 'CONSOLIDATED_BILLING';
  /** r-… */
  readonly rootId: string;
  readonly createdAt: number;
  /** Policy types enabled on the root, e.g. ["SERVICE_CONTROL_POLICY"]. */
  readonly enabledPolicyTypes: readonly string[];
}

/** An Organizations policy (a service control policy, or another type stored as-is). */
export interface OrgPolicyRecord {
  readonly organizationId: string;
  /** p-… (p-FullAWSAccess for the AWS managed full-access SCP) */
  readonly id: string;
  readonly arn: string;
  readonly name: string;
  readonly description: string;
  readonly type: string;
  readonly content: string;
  readonly awsManaged: boolean;
}

/** Why DeleteUser/DeleteRole/DeleteGroup could not delete an entity. */
export type DeleteEntityResult =
  | 'deleted'
  | 'not-found'
  | 'has-access-keys'
  | 'has-inline-policies'
  | 'has-attached-policies'
  | 'has-group-memberships'
  | 'has-members';

/**
 * How a deleted principal leaves the policies that name it: every key policy and role trust
 * policy containing `needle` (its ARN, compared case-insensitively, "/" also as "\/") gets the
 * document `rewrite` returns (undefined: unchanged). `rewrite` is pure: it may run more than once.
 */
export interface PrincipalUnbinding {
  readonly needle: string;
  readonly rewrite: (policy: string) => string | undefined;
}

/** What createAccessKeyWithinQuota did. */
export type CreateAccessKeyResult = 'created' | 'quota-exceeded' | 'no-such-user';

/** A page request over names (lowercased keys) or ids: items strictly after `after`. */
export interface IdentityPage {
  readonly after?: string;
  readonly limit: number;
}

/** The identity persistence port (reached as `Store.identity`). */
export interface IdentityStore {
  // Accounts and Organizations ---------------------------------------------------------------
  getAccount(accountId: string): Promise<AccountRecord | undefined>;
  /** The account's IAM account alias, if it has one. */
  getAccountAlias(accountId: string): Promise<string | undefined>;
  /**
   * Gives the account this alias, replacing the one it had, in one transaction. 'taken' (and no
   * change) when another account holds the alias.
   */
  setAccountAlias(accountId: string, alias: string): Promise<'set' | 'taken'>;
  /** Removes the account's alias if it is `alias`; false when it is not. */
  deleteAccountAlias(accountId: string, alias: string): Promise<boolean>;
  /** Creates an account; false when the id is taken. */
  createAccount(account: AccountRecord): Promise<boolean>;
  /** Sets name/email of an existing account when they are still unset. */
  describeAccount(accountId: string, name: string | null, email: string | null): Promise<void>;
  /**
   * Makes an account a member of an organization and attaches the policies `policiesFor` names
   * for the organization as it is inside the transaction (its enabled policy types), in one
   * transaction, so an account joining while a policy type is enabled never misses the type's
   * full-access policy; false when the account or organization does not exist or the account
   * already belongs to an organization. `policiesFor` is pure: it may run more than once.
   */
  joinOrganization(
    accountId: string, organizationId: string, method: 'CREATED' | 'INVITED', at: number, policiesFor: (org: OrganizationRecord) => readonly string[],
  ): Promise<boolean>;
  /** Member accounts of an organization ordered by account id. */
  listOrganizationAccounts(organizationId: string, page: IdentityPage): Promise<AccountRecord[]>;
  /**
   * Creates an organization with its management account as its first member, in one
   * transaction; false when that account already belongs to an organization.
   */
  createOrganization(org: OrganizationRecord, at: number): Promise<boolean>;
  getOrganization(organizationId: string): Promise<OrganizationRecord | undefined>;
  /**
   * Enables a policy type on the root; creates `fullAccess` (if given) and attaches it to the
   * root and every member account, in one transaction. False when it was already enabled.
   */
  enablePolicyType(organizationId: string, type: string, fullAccess: OrgPolicyRecord | null): Promise<boolean>;
  /** False when a policy of that type and name exists in the organization. */
  createOrgPolicy(policy: OrgPolicyRecord): Promise<boolean>;
  getOrgPolicy(organizationId: string, policyId: string): Promise<OrgPolicyRecord | undefined>;
  /** Policies of one type ordered by id. */
  listOrgPolicies(organizationId: string, type: string, page: IdentityPage): Promise<OrgPolicyRecord[]>;
  /** False when the policy is already attached to the target. */
  attachOrgPolicy(organizationId: string, policyId: string, targetId: string): Promise<boolean>;
  /** False when the policy was not attached to the target. */
  detachOrgPolicy(organizationId: string, policyId: string, targetId: string): Promise<boolean>;
  /** Target ids (root, accounts) a policy is attached to, ordered. */
  listOrgPolicyTargets(organizationId: string, policyId: string, page: IdentityPage): Promise<string[]>;
  /** Policies of one type attached to one target (root or account id), ordered by id. */
  listOrgPoliciesForTarget(organizationId: string, targetId: string, type: string): Promise<OrgPolicyRecord[]>;

  // IAM users, groups and roles --------------------------------------------------------------
  /** Creates an entity with its tags; false when the name is taken (case-insensitively) for its kind. */
  createIamEntity(entity: IamEntityRecord, tags: readonly IamTag[]): Promise<boolean>;
  /** Looks an entity up by name, case-insensitively. */
  getIamEntity(accountId: string, kind: IamEntityKind, name: string): Promise<IamEntityRecord | undefined>;
  getIamEntityById(id: string): Promise<IamEntityRecord | undefined>;
  /** Entities of one kind ordered by lowercased name; `after` is a lowercased name. */
  listIamEntities(accountId: string, kind: IamEntityKind, pathPrefix: string, page: IdentityPage): Promise<IamEntityRecord[]>;
  /**
   * Deletes an entity only when nothing depends on it (AWS's DeleteConflict rules); a role's STS
   * sessions are deleted with it, in the same transaction. With `unbind` (DeleteUser and
   * DeleteRole), the same transaction also rewrites every key policy and role trust policy that
   * names the entity, so no moment exists when the entity is gone and a policy still names its
   * ARN (which a user or role created again under that name would match). Key policies are the
   * Store's rows, but the same database's: the adapter writes them here.
   */
  deleteIamEntity(id: string, unbind?: PrincipalUnbinding): Promise<DeleteEntityResult>;
  /** Adds or overwrites tags; false (and no change) when the entity would have more than `max`. */
  putIamTags(entityId: string, tags: readonly IamTag[], max: number): Promise<boolean>;
  /** Removes tags by key (compared case-insensitively); returns how many were removed. */
  removeIamTags(entityId: string, keys: readonly string[]): Promise<number>;
  /** Tags ordered by key. */
  listIamTags(entityId: string): Promise<IamTag[]>;

  /**
   * In one transaction: every role whose trust policy contains `needle` (case-insensitively) gets
   * the trust policy `rewrite` returns for it (undefined: unchanged). Returns how many changed.
   */
  rewriteTrustPolicies(needle: string, rewrite: (policy: string) => string | undefined): Promise<number>;

  putInlinePolicy(entityId: string, policyName: string, document: string): Promise<void>;
  getInlinePolicy(entityId: string, policyName: string): Promise<string | undefined>;
  deleteInlinePolicy(entityId: string, policyName: string): Promise<boolean>;
  /** Inline policies ordered by name. */
  listInlinePolicies(entityId: string): Promise<IamInlinePolicyRecord[]>;

  /** False when the account already has a managed policy of that name. */
  createManagedPolicy(policy: IamManagedPolicyRecord): Promise<boolean>;
  getManagedPolicy(arn: string): Promise<IamManagedPolicyRecord | undefined>;
  /** Attaches a managed policy (customer or AWS managed) by ARN; idempotent. */
  attachPolicy(entityId: string, policyArn: string): Promise<void>;
  /** False when it was not attached. */
  detachPolicy(entityId: string, policyArn: string): Promise<boolean>;
  /** ARNs of the managed policies attached to an entity, ordered. */
  listAttachedPolicyArns(entityId: string): Promise<string[]>;
  /** How many entities a managed policy is attached to. */
  countPolicyAttachments(policyArn: string): Promise<number>;

  /** Idempotent. */
  addUserToGroup(groupId: string, userId: string): Promise<void>;
  /** Groups a user belongs to, ordered by name. */
  listGroupsForUser(userId: string): Promise<IamEntityRecord[]>;

  // Access keys of IAM users ------------------------------------------------------------------
  /**
   * Stores a new access key unless its principal already has `max` keys or, for an IAM user, no
   * longer exists (deleted since the caller looked it up), decided in one transaction.
   */
  createAccessKeyWithinQuota(record: AccessKeyRecord, max: number): Promise<CreateAccessKeyResult>;
  /** Access keys of one principal (by principal id) ordered by creation. */
  listAccessKeysForPrincipal(principalId: string): Promise<AccessKeyRecord[]>;
  setAccessKeyStatus(accessKeyId: string, status: 'Active' | 'Inactive'): Promise<boolean>;
  deleteAccessKey(accessKeyId: string): Promise<boolean>;

  // STS sessions -------------------------------------------------------------------------------
  putStsSession(session: StsSessionRecord): Promise<void>;
  getStsSession(accessKeyId: string): Promise<StsSessionRecord | undefined>;
  /** Deletes sessions that expired before `before`; returns how many. */
  pruneStsSessions(before: number): Promise<number>;
}
