/**
 * Rows to identity records (src/store/identity-store.ts), once for both adapters. The SQL of
 * the two adapters is the same table by table; what differs is how each driver hands values
 * back, which a `RowCoercion` states: better-sqlite3 gives INTEGERs as numbers, 0/1 for booleans
 * and JSON text for lists, while `pg` gives BIGINTs as strings, booleans as booleans and arrays
 * and JSONB already parsed.
 */
import type { AccessKeyRecord } from './records';
import type {
  AccountRecord,
  IamEntityKind,
  IamEntityRecord,
  IamManagedPolicyRecord,
  IamTag,
  OrganizationRecord,
  OrgPolicyRecord,
  StsSessionRecord,
} from './identity-store';

/** A row as a driver returns it. */
export type Row = Record<string, unknown>;

/** How one driver's values become record values. */
export interface RowCoercion {
  /** An integer column (epoch milliseconds, seconds). */
  num(v: unknown): number;
  numOrNull(v: unknown): number | null;
  textOrNull(v: unknown): string | null;
  /** A list column (SQLite: JSON text; PostgreSQL: an array or JSONB). */
  list(v: unknown): unknown[];
  bool(v: unknown): boolean;
}

/** The identity record mappers over one driver's values. */
export interface IdentityRowMappers {
  entity(r: Row): IamEntityRecord;
  managedPolicy(r: Row): IamManagedPolicyRecord;
  account(r: Row): AccountRecord;
  organization(r: Row): OrganizationRecord;
  orgPolicy(r: Row): OrgPolicyRecord;
  session(r: Row): StsSessionRecord;
  accessKey(r: Row): AccessKeyRecord;
}

export function identityRowMappers(c: RowCoercion): IdentityRowMappers {
  const strings = (v: unknown): string[] => c.list(v) as string[];
  return {
    entity: (r) => ({
      id: r.id as string,
      accountId: r.account_id as string,
      kind: r.kind as IamEntityKind,
      name: r.name as string,
      path: r.path as string,
      arn: r.arn as string,
      createdAt: c.num(r.created_at),
      assumeRolePolicy: c.textOrNull(r.assume_role_policy),
      description: c.textOrNull(r.description),
      maxSessionDuration: c.numOrNull(r.max_session_duration),
      permissionsBoundary: c.textOrNull(r.permissions_boundary),
    }),
    managedPolicy: (r) => ({
      arn: r.arn as string,
      policyId: r.policy_id as string,
      accountId: r.account_id as string,
      policyName: r.policy_name as string,
      path: r.path as string,
      document: r.document as string,
      description: c.textOrNull(r.description),
      createdAt: c.num(r.created_at),
      updatedAt: c.num(r.updated_at),
    }),
    account: (r) => ({
      accountId: r.account_id as string,
      createdAt: c.num(r.created_at),
      name: c.textOrNull(r.name),
      email: c.textOrNull(r.email),
      organizationId: c.textOrNull(r.organization_id),
      joinedMethod: c.textOrNull(r.joined_method) as AccountRecord['joinedMethod'],
      joinedAt: c.numOrNull(r.joined_at),
    }),
    organization: (r) => ({
      id: r.id as string,
      arn: r.arn as string,
      managementAccountId: r.management_account_id as string,
      featureSet: r.feature_set as OrganizationRecord['featureSet'],
      rootId: r.root_id as string,
      createdAt: c.num(r.created_at),
      enabledPolicyTypes: strings(r.enabled_policy_types),
    }),
    orgPolicy: (r) => ({
      organizationId: r.organization_id as string,
      id: r.id as string,
      arn: r.arn as string,
      name: r.name as string,
      description: r.description as string,
      type: r.type as string,
      content: r.content as string,
      awsManaged: c.bool(r.aws_managed),
    }),
    session: (r) => ({
      accessKeyId: r.access_key_id as string,
      accountId: r.account_id as string,
      roleId: r.role_id as string,
      roleArn: r.role_arn as string,
      roleName: r.role_name as string,
      sessionName: r.session_name as string,
      wrappedCredentials: r.wrapped_credentials as Buffer,
      createdAt: c.num(r.created_at),
      expiresAt: c.num(r.expires_at),
      sessionPolicy: c.textOrNull(r.session_policy),
      policyArns: strings(r.policy_arns),
      sessionTags: (c.list(r.session_tags) as IamTag[]).map((t) => ({ Key: t.Key, Value: t.Value })),
      transitiveTagKeys: strings(r.transitive_tag_keys),
      sourceIdentity: c.textOrNull(r.source_identity),
      sourcePrincipalArn: r.source_principal_arn as string,
    }),
    accessKey: (r) => ({
      accessKeyId: r.access_key_id as string,
      accountId: r.account_id as string,
      principalArn: r.principal_arn as string,
      principalId: r.principal_id as string,
      principalType: r.principal_type as AccessKeyRecord['principalType'],
      userName: c.textOrNull(r.user_name),
      wrappedSecret: r.wrapped_secret as Buffer,
      status: r.status as AccessKeyRecord['status'],
      createdAt: c.num(r.created_at),
    }),
  };
}
