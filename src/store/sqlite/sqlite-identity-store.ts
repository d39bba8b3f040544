/**
 * SQLite implementation of the IdentityStore (tables of migration 2). Shares the SqliteStore's
 * connection; guarded writes run in IMMEDIATE transactions so concurrent workers serialise.
 */
import type { AccessKeyRecord } from '../records';
import type {
  AccountRecord,
  CreateAccessKeyResult,
  DeleteEntityResult,
  IamEntityKind,
  IamEntityRecord,
  IamInlinePolicyRecord,
  IamManagedPolicyRecord,
  IamTag,
  IdentityPage,
  IdentityStore,
  OrganizationRecord,
  OrgPolicyRecord,
  PrincipalUnbinding,
  StsSessionRecord,
} from '../identity-store';
import { rewriteKeyPolicyRows, rewriteTrustPolicyRows } from './policy-rewrites';
import {
  immediate,
  SQLITE_ROWS,
  statementCache,
  unlessRolledBack,
  type Connection,
  type Row,
  type Statement,
} from './connection';

/** The connection as this module sees it: the SqliteStore's, shared. */
export type IdentityConnection = Pick<Connection, 'prepare' | 'transaction'>;

/** Escapes LIKE wildcards so a path prefix matches literally. */
function likePrefix(prefix: string): string {
  return prefix.replace(/[\\%_]/g, (c) => `\\${c}`) + '%';
}

/** IdentityStore over one better-sqlite3 connection. */
export class SqliteIdentityStore implements IdentityStore {
  readonly #db: IdentityConnection;
  readonly #stmt: (sql: string) => Statement;

  constructor(db: IdentityConnection) {
    this.#db = db;
    this.#stmt = statementCache(db);
  }

  /** Runs `fn` in an IMMEDIATE transaction (the change feed's triggers record what it changed). */
  #write<T>(fn: () => T): T {
    return immediate(this.#db, fn);
  }

  // Accounts and Organizations ---------------------------------------------------------------

  async getAccount(accountId: string): Promise<AccountRecord | undefined> {
    const r = this.#stmt('SELECT * FROM accounts WHERE account_id = ?').get(accountId) as Row | undefined;
    return r === undefined ? undefined : SQLITE_ROWS.account(r);
  }

  async getAccountAlias(accountId: string): Promise<string | undefined> {
    const r = this.#stmt('SELECT alias FROM account_aliases WHERE account_id = ?').get(accountId) as { alias: string } | undefined;
    return r?.alias;
  }

  async setAccountAlias(accountId: string, alias: string): Promise<'set' | 'taken'> {
    return this.#write(() => {
      const holder = this.#stmt('SELECT account_id FROM account_aliases WHERE alias = ?').get(alias) as { account_id: string } | undefined;
      if (holder !== undefined && holder.account_id !== accountId) return 'taken';
      this.#stmt('INSERT INTO account_aliases (account_id, alias) VALUES (?, ?) ON CONFLICT (account_id) DO UPDATE SET alias = excluded.alias').run(accountId, alias);
      return 'set';
    });
  }

  async deleteAccountAlias(accountId: string, alias: string): Promise<boolean> {
    return this.#write(() => this.#stmt('DELETE FROM account_aliases WHERE account_id = ? AND alias = ?').run(accountId, alias).changes > 0);
  }

  async createAccount(a: AccountRecord): Promise<boolean> {
    return this.#write(
      () =>
        this.#stmt(
          `INSERT INTO accounts (account_id, created_at, name, email, organization_id, joined_method, joined_at)
           VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        ).run(a.accountId, a.createdAt, a.name, a.email, a.organizationId, a.joinedMethod, a.joinedAt).changes > 0,
    );
  }

  async describeAccount(accountId: string, name: string | null, email: string | null): Promise<void> {
    this.#write(() =>
      this.#stmt('UPDATE accounts SET name = COALESCE(name, ?), email = COALESCE(email, ?) WHERE account_id = ?').run(name, email, accountId),
    );
  }

  #attach(organizationId: string, policyId: string, targetId: string): boolean {
    return (
      this.#stmt(
        'INSERT INTO org_policy_attachments (organization_id, policy_id, target_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
      ).run(organizationId, policyId, targetId).changes > 0
    );
  }

  async joinOrganization(
    accountId: string, organizationId: string, method: 'CREATED' | 'INVITED', at: number, policiesFor: (org: OrganizationRecord) => readonly string[],
  ): Promise<boolean> {
    // The IMMEDIATE transaction holds the write lock: no enabling of a policy type can commit
    // between reading the organization here and attaching what it calls for.
    return this.#write(() => {
      const r = this.#stmt('SELECT * FROM organizations WHERE id = ?').get(organizationId) as Row | undefined;
      if (r === undefined) return false;
      const joined =
        this.#stmt(
          'UPDATE accounts SET organization_id = ?, joined_method = ?, joined_at = ? WHERE account_id = ? AND organization_id IS NULL',
        ).run(organizationId, method, at, accountId).changes > 0;
      if (joined) for (const p of policiesFor(SQLITE_ROWS.organization(r))) this.#attach(organizationId, p, accountId);
      return joined;
    });
  }

  async listOrganizationAccounts(organizationId: string, page: IdentityPage): Promise<AccountRecord[]> {
    const rows = this.#stmt(
      'SELECT * FROM accounts WHERE organization_id = ? AND account_id > ? ORDER BY account_id LIMIT ?',
    ).all(organizationId, page.after ?? '', page.limit) as Row[];
    return rows.map(SQLITE_ROWS.account);
  }

  async createOrganization(org: OrganizationRecord, at: number): Promise<boolean> {
    return this.#write(() => {
      const joined =
        this.#stmt(
          "UPDATE accounts SET organization_id = ?, joined_method = 'CREATED', joined_at = ? WHERE account_id = ? AND organization_id IS NULL",
        ).run(org.id, at, org.managementAccountId).changes > 0;
      if (!joined) return false;
      this.#stmt(
        `INSERT INTO organizations (id, arn, management_account_id, feature_set, root_id, created_at, enabled_policy_types)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(org.id, org.arn, org.managementAccountId, org.featureSet, org.rootId, org.createdAt, JSON.stringify(org.enabledPolicyTypes));
      return true;
    });
  }

  async getOrganization(organizationId: string): Promise<OrganizationRecord | undefined> {
    const r = this.#stmt('SELECT * FROM organizations WHERE id = ?').get(organizationId) as Row | undefined;
    return r === undefined ? undefined : SQLITE_ROWS.organization(r);
  }

  #insertOrgPolicy(p: OrgPolicyRecord): boolean {
    return (
      this.#stmt(
        `INSERT INTO org_policies (organization_id, id, arn, name, description, type, content, aws_managed)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ).run(p.organizationId, p.id, p.arn, p.name, p.description, p.type, p.content, p.awsManaged ? 1 : 0).changes > 0
    );
  }

  async enablePolicyType(organizationId: string, type: string, fullAccess: OrgPolicyRecord | null): Promise<boolean> {
    return this.#write(() => {
      const r = this.#stmt('SELECT * FROM organizations WHERE id = ?').get(organizationId) as Row | undefined;
      if (r === undefined) return false;
      const org = SQLITE_ROWS.organization(r);
      if (org.enabledPolicyTypes.includes(type)) return false;
      this.#stmt('UPDATE organizations SET enabled_policy_types = ? WHERE id = ?').run(
        JSON.stringify([...org.enabledPolicyTypes, type]), organizationId,
      );
      if (fullAccess !== null) {
        this.#insertOrgPolicy(fullAccess);
        this.#attach(organizationId, fullAccess.id, org.rootId);
        const members = this.#stmt('SELECT account_id FROM accounts WHERE organization_id = ?').all(organizationId) as Row[];
        for (const m of members) this.#attach(organizationId, fullAccess.id, m.account_id as string);
      }
      return true;
    });
  }

  async createOrgPolicy(p: OrgPolicyRecord): Promise<boolean> {
    return this.#write(() => this.#insertOrgPolicy(p));
  }

  async getOrgPolicy(organizationId: string, policyId: string): Promise<OrgPolicyRecord | undefined> {
    const r = this.#stmt('SELECT * FROM org_policies WHERE organization_id = ? AND id = ?').get(organizationId, policyId) as Row | undefined;
    return r === undefined ? undefined : SQLITE_ROWS.orgPolicy(r);
  }

  async listOrgPolicies(organizationId: string, type: string, page: IdentityPage): Promise<OrgPolicyRecord[]> {
    const rows = this.#stmt(
      'SELECT * FROM org_policies WHERE organization_id = ? AND type = ? AND id > ? ORDER BY id LIMIT ?',
    ).all(organizationId, type, page.after ?? '', page.limit) as Row[];
    return rows.map(SQLITE_ROWS.orgPolicy);
  }

  async attachOrgPolicy(organizationId: string, policyId: string, targetId: string): Promise<boolean> {
    return this.#write(() => this.#attach(organizationId, policyId, targetId));
  }

  async detachOrgPolicy(organizationId: string, policyId: string, targetId: string): Promise<boolean> {
    return this.#write(
      () =>
        this.#stmt('DELETE FROM org_policy_attachments WHERE organization_id = ? AND policy_id = ? AND target_id = ?').run(
          organizationId, policyId, targetId,
        ).changes > 0,
    );
  }

  async listOrgPolicyTargets(organizationId: string, policyId: string, page: IdentityPage): Promise<string[]> {
    const rows = this.#stmt(
      `SELECT target_id FROM org_policy_attachments WHERE organization_id = ? AND policy_id = ? AND target_id > ?
       ORDER BY target_id LIMIT ?`,
    ).all(organizationId, policyId, page.after ?? '', page.limit) as Row[];
    return rows.map((r) => r.target_id as string);
  }

  async listOrgPoliciesForTarget(organizationId: string, targetId: string, type: string): Promise<OrgPolicyRecord[]> {
    const rows = this.#stmt(
      `SELECT p.* FROM org_policy_attachments a JOIN org_policies p ON p.organization_id = a.organization_id AND p.id = a.policy_id
       WHERE a.organization_id = ? AND a.target_id = ? AND p.type = ? ORDER BY p.id`,
    ).all(organizationId, targetId, type) as Row[];
    return rows.map(SQLITE_ROWS.orgPolicy);
  }

  // IAM entities -----------------------------------------------------------------------------

  async createIamEntity(e: IamEntityRecord, tags: readonly IamTag[]): Promise<boolean> {
    return this.#write(() => {
      const inserted =
        this.#stmt(
          `INSERT INTO iam_entities (id, account_id, kind, name, name_key, path, arn, created_at, assume_role_policy, description,
             max_session_duration, permissions_boundary)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        ).run(
          e.id, e.accountId, e.kind, e.name, e.name.toLowerCase(), e.path, e.arn, e.createdAt, e.assumeRolePolicy, e.description,
          e.maxSessionDuration, e.permissionsBoundary,
        ).changes > 0;
      if (inserted) {
        const put = this.#stmt('INSERT OR REPLACE INTO iam_tags (entity_id, tag_key, tag_value) VALUES (?, ?, ?)');
        for (const t of tags) put.run(e.id, t.Key, t.Value);
      }
      return inserted;
    });
  }

  async getIamEntity(accountId: string, kind: IamEntityKind, name: string): Promise<IamEntityRecord | undefined> {
    const r = this.#stmt('SELECT * FROM iam_entities WHERE account_id = ? AND kind = ? AND name_key = ?').get(
      accountId, kind, name.toLowerCase(),
    ) as Row | undefined;
    return r === undefined ? undefined : SQLITE_ROWS.entity(r);
  }

  async getIamEntityById(id: string): Promise<IamEntityRecord | undefined> {
    const r = this.#stmt('SELECT * FROM iam_entities WHERE id = ?').get(id) as Row | undefined;
    return r === undefined ? undefined : SQLITE_ROWS.entity(r);
  }

  async listIamEntities(accountId: string, kind: IamEntityKind, pathPrefix: string, page: IdentityPage): Promise<IamEntityRecord[]> {
    const rows = this.#stmt(
      `SELECT * FROM iam_entities WHERE account_id = ? AND kind = ? AND path LIKE ? ESCAPE '\\' AND name_key > ?
       ORDER BY name_key LIMIT ?`,
    ).all(accountId, kind, likePrefix(pathPrefix), page.after ?? '', page.limit) as Row[];
    return rows.map(SQLITE_ROWS.entity);
  }

  async deleteIamEntity(id: string, unbind?: PrincipalUnbinding): Promise<DeleteEntityResult> {
    return this.#write((): DeleteEntityResult => {
      const r = this.#stmt('SELECT kind FROM iam_entities WHERE id = ?').get(id) as Row | undefined;
      if (r === undefined) return 'not-found';
      const exists = (sql: string): boolean => this.#stmt(sql).get(id) !== undefined;
      if (r.kind === 'user' && exists('SELECT 1 FROM access_keys WHERE principal_id = ? LIMIT 1')) return 'has-access-keys';
      if (exists('SELECT 1 FROM iam_inline_policies WHERE entity_id = ? LIMIT 1')) return 'has-inline-policies';
      if (exists('SELECT 1 FROM iam_policy_attachments WHERE entity_id = ? LIMIT 1')) return 'has-attached-policies';
      if (r.kind === 'user' && exists('SELECT 1 FROM iam_group_members WHERE user_id = ? LIMIT 1')) return 'has-group-memberships';
      if (r.kind === 'group' && exists('SELECT 1 FROM iam_group_members WHERE group_id = ? LIMIT 1')) return 'has-members';
      this.#stmt('DELETE FROM iam_entities WHERE id = ?').run(id);
      // A deleted role's sessions end with it (issue 12 item 8).
      if (r.kind === 'role') this.#stmt('DELETE FROM sts_sessions WHERE role_id = ?').run(id);
      if (unbind !== undefined) {
        rewriteKeyPolicyRows(this.#stmt, unbind.needle, unbind.rewrite);
        rewriteTrustPolicyRows(this.#stmt, unbind.needle, unbind.rewrite);
      }
      return 'deleted';
    });
  }

  async putIamTags(entityId: string, tags: readonly IamTag[], max: number): Promise<boolean> {
    return unlessRolledBack((overQuota) =>
      this.#write(() => {
        const put = this.#stmt('INSERT OR REPLACE INTO iam_tags (entity_id, tag_key, tag_value) VALUES (?, ?, ?)');
        for (const t of tags) put.run(entityId, t.Key, t.Value);
        const n = this.#stmt('SELECT COUNT(*) AS n FROM iam_tags WHERE entity_id = ?').get(entityId) as Row;
        if ((n.n as number) > max) overQuota();
      }),
    );
  }

  async removeIamTags(entityId: string, keys: readonly string[]): Promise<number> {
    return this.#write(() => {
      const del = this.#stmt('DELETE FROM iam_tags WHERE entity_id = ? AND lower(tag_key) = lower(?)');
      let n = 0;
      for (const k of keys) n += del.run(entityId, k).changes;
      return n;
    });
  }

  async listIamTags(entityId: string): Promise<IamTag[]> {
    const rows = this.#stmt('SELECT tag_key, tag_value FROM iam_tags WHERE entity_id = ? ORDER BY tag_key').all(entityId) as Row[];
    return rows.map((r) => ({ Key: r.tag_key as string, Value: r.tag_value as string }));
  }

  async rewriteTrustPolicies(needle: string, rewrite: (policy: string) => string | undefined): Promise<number> {
    return this.#write(() => rewriteTrustPolicyRows(this.#stmt, needle, rewrite));
  }

  async putInlinePolicy(entityId: string, policyName: string, document: string): Promise<void> {
    this.#write(() =>
      this.#stmt(
        `INSERT INTO iam_inline_policies (entity_id, policy_name, document) VALUES (?, ?, ?)
         ON CONFLICT (entity_id, policy_name) DO UPDATE SET document = excluded.document`,
      ).run(entityId, policyName, document),
    );
  }

  async getInlinePolicy(entityId: string, policyName: string): Promise<string | undefined> {
    const r = this.#stmt('SELECT document FROM iam_inline_policies WHERE entity_id = ? AND policy_name = ?').get(entityId, policyName) as
      | Row
      | undefined;
    return r === undefined ? undefined : (r.document as string);
  }

  async deleteInlinePolicy(entityId: string, policyName: string): Promise<boolean> {
    return this.#write(
      () => this.#stmt('DELETE FROM iam_inline_policies WHERE entity_id = ? AND policy_name = ?').run(entityId, policyName).changes > 0,
    );
  }

  async listInlinePolicies(entityId: string): Promise<IamInlinePolicyRecord[]> {
    const rows = this.#stmt('SELECT policy_name, document FROM iam_inline_policies WHERE entity_id = ? ORDER BY policy_name').all(
      entityId,
    ) as Row[];
    return rows.map((r) => ({ policyName: r.policy_name as string, document: r.document as string }));
  }

  async createManagedPolicy(p: IamManagedPolicyRecord): Promise<boolean> {
    return this.#write(
      () =>
        this.#stmt(
          `INSERT INTO iam_managed_policies (arn, policy_id, account_id, policy_name, name_key, path, document, description, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        ).run(
          p.arn, p.policyId, p.accountId, p.policyName, p.policyName.toLowerCase(), p.path, p.document, p.description, p.createdAt, p.updatedAt,
        ).changes > 0,
    );
  }

  async getManagedPolicy(arn: string): Promise<IamManagedPolicyRecord | undefined> {
    const r = this.#stmt('SELECT * FROM iam_managed_policies WHERE arn = ?').get(arn) as Row | undefined;
    return r === undefined ? undefined : SQLITE_ROWS.managedPolicy(r);
  }

  async attachPolicy(entityId: string, policyArn: string): Promise<void> {
    this.#write(() =>
      this.#stmt('INSERT INTO iam_policy_attachments (entity_id, policy_arn) VALUES (?, ?) ON CONFLICT DO NOTHING').run(entityId, policyArn),
    );
  }

  async detachPolicy(entityId: string, policyArn: string): Promise<boolean> {
    return this.#write(
      () => this.#stmt('DELETE FROM iam_policy_attachments WHERE entity_id = ? AND policy_arn = ?').run(entityId, policyArn).changes > 0,
    );
  }

  async listAttachedPolicyArns(entityId: string): Promise<string[]> {
    const rows = this.#stmt('SELECT policy_arn FROM iam_policy_attachments WHERE entity_id = ? ORDER BY policy_arn').all(entityId) as Row[];
    return rows.map((r) => r.policy_arn as string);
  }

  async countPolicyAttachments(policyArn: string): Promise<number> {
    return (this.#stmt('SELECT COUNT(*) AS n FROM iam_policy_attachments WHERE policy_arn = ?').get(policyArn) as Row).n as number;
  }

  async addUserToGroup(groupId: string, userId: string): Promise<void> {
    this.#write(() =>
      this.#stmt('INSERT INTO iam_group_members (group_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING').run(groupId, userId),
    );
  }

  async listGroupsForUser(userId: string): Promise<IamEntityRecord[]> {
    const rows = this.#stmt(
      'SELECT e.* FROM iam_group_members m JOIN iam_entities e ON e.id = m.group_id WHERE m.user_id = ? ORDER BY e.name_key',
    ).all(userId) as Row[];
    return rows.map(SQLITE_ROWS.entity);
  }

  // Access keys -------------------------------------------------------------------------------

  async createAccessKeyWithinQuota(k: AccessKeyRecord, max: number): Promise<CreateAccessKeyResult> {
    return this.#write((): CreateAccessKeyResult => {
      // Inside the write lock: a user deleted since the caller looked it up gets no key.
      if (k.principalType === 'IAMUser' && this.#stmt("SELECT 1 FROM iam_entities WHERE id = ? AND kind = 'user'").get(k.principalId) === undefined) {
        return 'no-such-user';
      }
      const n = (this.#stmt('SELECT COUNT(*) AS n FROM access_keys WHERE principal_id = ?').get(k.principalId) as Row).n as number;
      if (n >= max) return 'quota-exceeded';
      this.#stmt(
        `INSERT INTO access_keys (access_key_id, account_id, principal_arn, principal_id, principal_type, user_name, wrapped_secret, status, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(k.accessKeyId, k.accountId, k.principalArn, k.principalId, k.principalType, k.userName, k.wrappedSecret, k.status, k.createdAt);
      return 'created';
    });
  }

  async listAccessKeysForPrincipal(principalId: string): Promise<AccessKeyRecord[]> {
    const rows = this.#stmt('SELECT * FROM access_keys WHERE principal_id = ? ORDER BY created_at, access_key_id').all(principalId) as Row[];
    return rows.map(SQLITE_ROWS.accessKey);
  }

  async setAccessKeyStatus(accessKeyId: string, status: 'Active' | 'Inactive'): Promise<boolean> {
    return this.#write(() => this.#stmt('UPDATE access_keys SET status = ? WHERE access_key_id = ?').run(status, accessKeyId).changes > 0);
  }

  async deleteAccessKey(accessKeyId: string): Promise<boolean> {
    return this.#write(() => this.#stmt('DELETE FROM access_keys WHERE access_key_id = ?').run(accessKeyId).changes > 0);
  }

  // STS sessions -------------------------------------------------------------------------------

  async putStsSession(s: StsSessionRecord): Promise<void> {
    const insert = this.#stmt(
      `INSERT INTO sts_sessions (access_key_id, account_id, role_id, role_arn, role_name, session_name, wrapped_credentials, created_at,
         expires_at, session_policy, policy_arns, session_tags, transitive_tag_keys, source_identity, source_principal_arn)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const params = [
      s.accessKeyId, s.accountId, s.roleId, s.roleArn, s.roleName, s.sessionName, s.wrappedCredentials, s.createdAt, s.expiresAt,
      s.sessionPolicy, JSON.stringify(s.policyArns), JSON.stringify(s.sessionTags), JSON.stringify(s.transitiveTagKeys),
      s.sourceIdentity, s.sourcePrincipalArn,
    ];
    this.#write(() => insert.run(...params));
  }

  async getStsSession(accessKeyId: string): Promise<StsSessionRecord | undefined> {
    const r = this.#stmt('SELECT * FROM sts_sessions WHERE access_key_id = ?').get(accessKeyId) as Row | undefined;
    return r === undefined ? undefined : SQLITE_ROWS.session(r);
  }

  async pruneStsSessions(before: number): Promise<number> {
    // Only sessions long expired go: a cached one is refused as expired either way.
    return this.#write(() => this.#stmt('DELETE FROM sts_sessions WHERE expires_at < ?').run(before).changes);
  }
}
