/**
 * PostgreSQL implementation of the IdentityStore (tables of migration 3 in ./migrations.ts),
 * for several Keyhold nodes on one database (issue 14). Same records and rules as
 * src/store/sqlite/sqlite-identity-store.ts; what differs is how each rule holds when other
 * connections write at the same moment (transactions are READ COMMITTED):
 *
 * - Uniqueness (IAM names case-insensitively, managed policy names, aliases, one organization per
 *   management account) is a unique index: `INSERT ... ON CONFLICT DO NOTHING` waits for a
 *   racing insert of the same key and then does nothing, so exactly one wins.
 * - "Only if still unset" writes (joining an organization, enabling a policy type) are one
 *   guarded UPDATE: a racing UPDATE of the same row waits for the row lock and re-checks its
 *   WHERE clause on the committed row (PostgreSQL docs, "Read Committed Isolation Level").
 * - Quotas (access keys per principal, tags per entity) count under a lock taken first — a
 *   transaction-scoped advisory lock per principal, the entity's row lock for tags — never
 *   COUNT-then-INSERT unguarded. Under the same advisory lock a new access key re-checks that
 *   its user still exists (a delete takes the lock too).
 * - Joining an organization reads the organization FOR SHARE and attaches what its enabled
 *   policy types call for, so an enabling of a type and a join are ordered one way or the other.
 * - DeleteUser/Role/Group's "nothing depends on it" holds because the delete locks the entity's
 *   row FOR UPDATE before it looks: a concurrent insert of a policy, tag or membership takes a
 *   KEY SHARE lock on that row through its foreign key, so it either committed before the
 *   checks (and is seen) or waits and then fails on the deleted row. Access keys have no
 *   foreign key (a root principal is not an entity) and take the principal's advisory lock.
 *
 * Change notifications for the Store's change feed come from triggers (migration 3).
 * BIGINT columns arrive as strings from `pg` and are read with Number (epoch milliseconds fit;
 * POSTGRES_ROWS in postgres-rows.ts).
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
import type { PostgresPool, Tx } from './connection';
import { rewriteKeyPolicyRows, rewriteTrustPolicyRows } from './policy-rewrites';
import { POSTGRES_ROWS, type Row } from './postgres-rows';
import { retryConflicts } from './transaction-runner';

/** A SQLSTATE of `pg`'s errors. */
const UNIQUE_VIOLATION = '23505';

/** Advisory-lock class of access-key quotas (two-int4 keys: a key space apart from the migrations' bigint key). */
const ACCESS_KEY_LOCK_CLASS = 0x6b68_616b; // "khak"

/** Escapes LIKE wildcards (and the escape character) so a path prefix matches literally. */
function likePrefix(prefix: string): string {
  return prefix.replace(/[\\%_]/g, (c) => `\\${c}`) + '%';
}

/** Tags as two parallel arrays for unnest(); a key given twice keeps its last value, as SQLite's INSERT OR REPLACE does. */
function tagArrays(tags: readonly IamTag[]): [string[], string[]] {
  const last = new Map<string, string>();
  for (const t of tags) last.set(t.Key, t.Value);
  return [[...last.keys()], [...last.values()]];
}

const UPSERT_TAGS = `INSERT INTO iam_tags (entity_id, tag_key, tag_value)
  SELECT $1, k, v FROM unnest($2::text[], $3::text[]) AS t(k, v)
  ON CONFLICT (entity_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value`;

/** IdentityStore over a node's PostgreSQL pool (shared with the PostgresStore). */
export class PostgresIdentityStore implements IdentityStore {
  readonly #pool: PostgresPool;

  constructor(pool: PostgresPool) {
    this.#pool = pool;
  }

  /** One transaction, run again on a serialization failure or deadlock (transaction-runner.ts retryConflicts). */
  #transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return retryConflicts(() => this.#pool.transaction(work));
  }

  async #rows(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    return this.#pool.query(sql, params);
  }

  async #one(sql: string, params: readonly unknown[] = []): Promise<Row | undefined> {
    return (await this.#pool.query(sql, params))[0];
  }

  /** Whether a statement ending in RETURNING touched a row. */
  async #changed(sql: string, params: readonly unknown[] = []): Promise<boolean> {
    return (await this.#pool.query(sql, params)).length > 0;
  }

  // Accounts and Organizations ---------------------------------------------------------------

  async getAccount(accountId: string): Promise<AccountRecord | undefined> {
    const r = await this.#one('SELECT * FROM accounts WHERE account_id = $1', [accountId]);
    return r === undefined ? undefined : POSTGRES_ROWS.account(r);
  }

  async getAccountAlias(accountId: string): Promise<string | undefined> {
    return (await this.#one('SELECT alias FROM account_aliases WHERE account_id = $1', [accountId]))?.alias as string | undefined;
  }

  async setAccountAlias(accountId: string, alias: string): Promise<'set' | 'taken'> {
    // One statement: the alias's unique index refuses it while another account holds it (a
    // racing insert of the same alias waits, then fails), and the upsert replaces this
    // account's old alias.
    try {
      await this.#rows(
        'INSERT INTO account_aliases (account_id, alias) VALUES ($1, $2) ON CONFLICT (account_id) DO UPDATE SET alias = excluded.alias',
        [accountId, alias],
      );
      return 'set';
    } catch (e) {
      if ((e as { code?: unknown }).code === UNIQUE_VIOLATION) return 'taken';
      throw e;
    }
  }

  async deleteAccountAlias(accountId: string, alias: string): Promise<boolean> {
    return this.#changed('DELETE FROM account_aliases WHERE account_id = $1 AND alias = $2 RETURNING 1', [accountId, alias]);
  }

  async createAccount(a: AccountRecord): Promise<boolean> {
    return this.#changed(
      `INSERT INTO accounts (account_id, created_at, name, email, organization_id, joined_method, joined_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING 1`,
      [a.accountId, a.createdAt, a.name, a.email, a.organizationId, a.joinedMethod, a.joinedAt],
    );
  }

  async describeAccount(accountId: string, name: string | null, email: string | null): Promise<void> {
    await this.#rows('UPDATE accounts SET name = COALESCE(name, $1), email = COALESCE(email, $2) WHERE account_id = $3', [name, email, accountId]);
  }

  /** Attaches policies to a target, ignoring ones already attached. */
  static async #attachAll(tx: Tx, organizationId: string, policyIds: readonly string[], targetId: string): Promise<void> {
    if (policyIds.length === 0) return;
    await tx.query(
      `INSERT INTO org_policy_attachments (organization_id, policy_id, target_id)
       SELECT $1, p, $3 FROM unnest($2::text[]) AS p ON CONFLICT DO NOTHING`,
      [organizationId, [...policyIds], targetId],
    );
  }

  async joinOrganization(
    accountId: string, organizationId: string, method: 'CREATED' | 'INVITED', at: number, policiesFor: (org: OrganizationRecord) => readonly string[],
  ): Promise<boolean> {
    return this.#transaction(async (tx) => {
      // FOR SHARE conflicts with enablePolicyType's UPDATE of the row: an enabling that committed
      // first is read here (a locking read sees the latest committed row), and one that comes
      // after waits for this join to commit, so its INSERT ... SELECT of members sees the new
      // member. Either way the account gets the policies of the types enabled.
      const [org] = await tx.query('SELECT * FROM organizations WHERE id = $1 FOR SHARE', [organizationId]);
      if (org === undefined) return false;
      const joined = await tx.query(
        'UPDATE accounts SET organization_id = $1, joined_method = $2, joined_at = $3 WHERE account_id = $4 AND organization_id IS NULL RETURNING 1',
        [organizationId, method, at, accountId],
      );
      if (joined.length === 0) return false;
      await PostgresIdentityStore.#attachAll(tx, organizationId, policiesFor(POSTGRES_ROWS.organization(org)), accountId);
      return true;
    });
  }

  async listOrganizationAccounts(organizationId: string, page: IdentityPage): Promise<AccountRecord[]> {
    const rows = await this.#rows(
      'SELECT * FROM accounts WHERE organization_id = $1 AND account_id > $2 ORDER BY account_id LIMIT $3',
      [organizationId, page.after ?? '', page.limit],
    );
    return rows.map(POSTGRES_ROWS.account);
  }

  async createOrganization(org: OrganizationRecord, at: number): Promise<boolean> {
    return this.#transaction(async (tx) => {
      const joined = await tx.query(
        "UPDATE accounts SET organization_id = $1, joined_method = 'CREATED', joined_at = $2 WHERE account_id = $3 AND organization_id IS NULL RETURNING 1",
        [org.id, at, org.managementAccountId],
      );
      if (joined.length === 0) return false;
      await tx.query(
        `INSERT INTO organizations (id, arn, management_account_id, feature_set, root_id, created_at, enabled_policy_types)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [org.id, org.arn, org.managementAccountId, org.featureSet, org.rootId, org.createdAt, [...org.enabledPolicyTypes]],
      );
      return true;
    });
  }

  async getOrganization(organizationId: string): Promise<OrganizationRecord | undefined> {
    const r = await this.#one('SELECT * FROM organizations WHERE id = $1', [organizationId]);
    return r === undefined ? undefined : POSTGRES_ROWS.organization(r);
  }

  static #insertOrgPolicy(q: Pick<Tx, 'query'>, p: OrgPolicyRecord): Promise<Row[]> {
    return q.query(
      `INSERT INTO org_policies (organization_id, id, arn, name, description, type, content, aws_managed)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING 1`,
      [p.organizationId, p.id, p.arn, p.name, p.description, p.type, p.content, p.awsManaged],
    );
  }

  async enablePolicyType(organizationId: string, type: string, fullAccess: OrgPolicyRecord | null): Promise<boolean> {
    return this.#transaction(async (tx) => {
      // Guarded on the row: of racing enablings, the first to commit wins and the others re-check
      // the committed array and change nothing.
      const [org] = await tx.query<{ root_id: string }>(
        `UPDATE organizations SET enabled_policy_types = array_append(enabled_policy_types, $2::text)
         WHERE id = $1 AND NOT ($2 = ANY (enabled_policy_types)) RETURNING root_id`,
        [organizationId, type],
      );
      if (org === undefined) return false;
      if (fullAccess !== null) {
        await PostgresIdentityStore.#insertOrgPolicy(tx, fullAccess);
        await PostgresIdentityStore.#attachAll(tx, organizationId, [fullAccess.id], org.root_id);
        await tx.query(
          `INSERT INTO org_policy_attachments (organization_id, policy_id, target_id)
           SELECT $1, $2, account_id FROM accounts WHERE organization_id = $1 ON CONFLICT DO NOTHING`,
          [organizationId, fullAccess.id],
        );
      }
      return true;
    });
  }

  async createOrgPolicy(p: OrgPolicyRecord): Promise<boolean> {
    return (await PostgresIdentityStore.#insertOrgPolicy(this.#pool, p)).length > 0;
  }

  async getOrgPolicy(organizationId: string, policyId: string): Promise<OrgPolicyRecord | undefined> {
    const r = await this.#one('SELECT * FROM org_policies WHERE organization_id = $1 AND id = $2', [organizationId, policyId]);
    return r === undefined ? undefined : POSTGRES_ROWS.orgPolicy(r);
  }

  async listOrgPolicies(organizationId: string, type: string, page: IdentityPage): Promise<OrgPolicyRecord[]> {
    const rows = await this.#rows(
      'SELECT * FROM org_policies WHERE organization_id = $1 AND type = $2 AND id > $3 ORDER BY id LIMIT $4',
      [organizationId, type, page.after ?? '', page.limit],
    );
    return rows.map(POSTGRES_ROWS.orgPolicy);
  }

  async attachOrgPolicy(organizationId: string, policyId: string, targetId: string): Promise<boolean> {
    return this.#changed(
      'INSERT INTO org_policy_attachments (organization_id, policy_id, target_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1',
      [organizationId, policyId, targetId],
    );
  }

  async detachOrgPolicy(organizationId: string, policyId: string, targetId: string): Promise<boolean> {
    return this.#changed(
      'DELETE FROM org_policy_attachments WHERE organization_id = $1 AND policy_id = $2 AND target_id = $3 RETURNING 1',
      [organizationId, policyId, targetId],
    );
  }

  async listOrgPolicyTargets(organizationId: string, policyId: string, page: IdentityPage): Promise<string[]> {
    const rows = await this.#rows(
      `SELECT target_id FROM org_policy_attachments WHERE organization_id = $1 AND policy_id = $2 AND target_id > $3
       ORDER BY target_id LIMIT $4`,
      [organizationId, policyId, page.after ?? '', page.limit],
    );
    return rows.map((r) => r.target_id as string);
  }

  async listOrgPoliciesForTarget(organizationId: string, targetId: string, type: string): Promise<OrgPolicyRecord[]> {
    const rows = await this.#rows(
      `SELECT p.* FROM org_policy_attachments a JOIN org_policies p ON p.organization_id = a.organization_id AND p.id = a.policy_id
       WHERE a.organization_id = $1 AND a.target_id = $2 AND p.type = $3 ORDER BY p.id`,
      [organizationId, targetId, type],
    );
    return rows.map(POSTGRES_ROWS.orgPolicy);
  }

  // IAM entities -----------------------------------------------------------------------------

  async createIamEntity(e: IamEntityRecord, tags: readonly IamTag[]): Promise<boolean> {
    return this.#transaction(async (tx) => {
      const inserted = await tx.query(
        `INSERT INTO iam_entities (id, account_id, kind, name, name_key, path, arn, created_at, assume_role_policy, description,
           max_session_duration, permissions_boundary)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING RETURNING 1`,
        [
          e.id, e.accountId, e.kind, e.name, e.name.toLowerCase(), e.path, e.arn, e.createdAt, e.assumeRolePolicy, e.description,
          e.maxSessionDuration, e.permissionsBoundary,
        ],
      );
      if (inserted.length === 0) return false;
      if (tags.length > 0) await tx.query(UPSERT_TAGS, [e.id, ...tagArrays(tags)]);
      return true;
    });
  }

  async getIamEntity(accountId: string, kind: IamEntityKind, name: string): Promise<IamEntityRecord | undefined> {
    const r = await this.#one('SELECT * FROM iam_entities WHERE account_id = $1 AND kind = $2 AND name_key = $3', [accountId, kind, name.toLowerCase()]);
    return r === undefined ? undefined : POSTGRES_ROWS.entity(r);
  }

  async getIamEntityById(id: string): Promise<IamEntityRecord | undefined> {
    const r = await this.#one('SELECT * FROM iam_entities WHERE id = $1', [id]);
    return r === undefined ? undefined : POSTGRES_ROWS.entity(r);
  }

  async listIamEntities(accountId: string, kind: IamEntityKind, pathPrefix: string, page: IdentityPage): Promise<IamEntityRecord[]> {
    const rows = await this.#rows(
      `SELECT * FROM iam_entities WHERE account_id = $1 AND kind = $2 AND path LIKE $3 ESCAPE '\\' AND name_key > $4
       ORDER BY name_key LIMIT $5`,
      [accountId, kind, likePrefix(pathPrefix), page.after ?? '', page.limit],
    );
    return rows.map(POSTGRES_ROWS.entity);
  }

  async deleteIamEntity(id: string, unbind?: PrincipalUnbinding): Promise<DeleteEntityResult> {
    return this.#transaction(async (tx): Promise<DeleteEntityResult> => {
      const [r] = await tx.query<{ kind: IamEntityKind }>('SELECT kind FROM iam_entities WHERE id = $1 FOR UPDATE', [id]);
      if (r === undefined) return 'not-found';
      if (r.kind === 'user') await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [ACCESS_KEY_LOCK_CLASS, id]);
      const exists = async (sql: string): Promise<boolean> => (await tx.query(sql, [id])).length > 0;
      if (r.kind === 'user' && (await exists('SELECT 1 FROM access_keys WHERE principal_id = $1 LIMIT 1'))) return 'has-access-keys';
      if (await exists('SELECT 1 FROM iam_inline_policies WHERE entity_id = $1 LIMIT 1')) return 'has-inline-policies';
      if (await exists('SELECT 1 FROM iam_policy_attachments WHERE entity_id = $1 LIMIT 1')) return 'has-attached-policies';
      if (r.kind === 'user' && (await exists('SELECT 1 FROM iam_group_members WHERE user_id = $1 LIMIT 1'))) return 'has-group-memberships';
      if (r.kind === 'group' && (await exists('SELECT 1 FROM iam_group_members WHERE group_id = $1 LIMIT 1'))) return 'has-members';
      await tx.query('DELETE FROM iam_entities WHERE id = $1', [id]);
      // A deleted role's sessions end with it (issue 12 item 8).
      if (r.kind === 'role') await tx.query('DELETE FROM sts_sessions WHERE role_id = $1', [id]);
      if (unbind !== undefined) {
        const q = (sql: string, params: readonly unknown[]): Promise<Row[]> => tx.query(sql, params);
        await rewriteKeyPolicyRows(q, unbind.needle, unbind.rewrite);
        await rewriteTrustPolicyRows(q, unbind.needle, unbind.rewrite);
      }
      return 'deleted';
    });
  }

  async putIamTags(entityId: string, tags: readonly IamTag[], max: number): Promise<boolean> {
    const [keys, values] = tagArrays(tags);
    return this.#transaction(async (tx) => {
      // The entity's row lock serialises taggers of one entity, so the count below stays true
      // until this commits; counting before writing lets a refusal write nothing.
      await tx.query('SELECT 1 FROM iam_entities WHERE id = $1 FOR UPDATE', [entityId]);
      const [kept] = await tx.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM iam_tags WHERE entity_id = $1 AND NOT (tag_key = ANY ($2::text[]))',
        [entityId, keys],
      );
      if ((kept?.n ?? 0) + keys.length > max) return false;
      if (keys.length > 0) await tx.query(UPSERT_TAGS, [entityId, keys, values]);
      return true;
    });
  }

  async removeIamTags(entityId: string, keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    // lower() under COLLATE "C" folds ASCII only, like SQLite's lower().
    const rows = await this.#rows(
      `DELETE FROM iam_tags WHERE entity_id = $1
         AND lower(tag_key) = ANY (SELECT lower(k COLLATE "C") FROM unnest($2::text[]) AS k) RETURNING 1`,
      [entityId, [...keys]],
    );
    return rows.length;
  }

  async listIamTags(entityId: string): Promise<IamTag[]> {
    const rows = await this.#rows('SELECT tag_key, tag_value FROM iam_tags WHERE entity_id = $1 ORDER BY tag_key', [entityId]);
    return rows.map((r) => ({ Key: r.tag_key as string, Value: r.tag_value as string }));
  }

  async rewriteTrustPolicies(needle: string, rewrite: (policy: string) => string | undefined): Promise<number> {
    return this.#transaction((tx) => rewriteTrustPolicyRows((sql, params) => tx.query(sql, params), needle, rewrite));
  }

  async putInlinePolicy(entityId: string, policyName: string, document: string): Promise<void> {
    await this.#rows(
      `INSERT INTO iam_inline_policies (entity_id, policy_name, document) VALUES ($1, $2, $3)
       ON CONFLICT (entity_id, policy_name) DO UPDATE SET document = excluded.document`,
      [entityId, policyName, document],
    );
  }

  async getInlinePolicy(entityId: string, policyName: string): Promise<string | undefined> {
    return (await this.#one('SELECT document FROM iam_inline_policies WHERE entity_id = $1 AND policy_name = $2', [entityId, policyName]))
      ?.document as string | undefined;
  }

  async deleteInlinePolicy(entityId: string, policyName: string): Promise<boolean> {
    return this.#changed('DELETE FROM iam_inline_policies WHERE entity_id = $1 AND policy_name = $2 RETURNING 1', [entityId, policyName]);
  }

  async listInlinePolicies(entityId: string): Promise<IamInlinePolicyRecord[]> {
    const rows = await this.#rows('SELECT policy_name, document FROM iam_inline_policies WHERE entity_id = $1 ORDER BY policy_name', [entityId]);
    return rows.map((r) => ({ policyName: r.policy_name as string, document: r.document as string }));
  }

  async createManagedPolicy(p: IamManagedPolicyRecord): Promise<boolean> {
    return this.#changed(
      `INSERT INTO iam_managed_policies (arn, policy_id, account_id, policy_name, name_key, path, document, description, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING RETURNING 1`,
      [p.arn, p.policyId, p.accountId, p.policyName, p.policyName.toLowerCase(), p.path, p.document, p.description, p.createdAt, p.updatedAt],
    );
  }

  async getManagedPolicy(arn: string): Promise<IamManagedPolicyRecord | undefined> {
    const r = await this.#one('SELECT * FROM iam_managed_policies WHERE arn = $1', [arn]);
    return r === undefined ? undefined : POSTGRES_ROWS.managedPolicy(r);
  }

  async attachPolicy(entityId: string, policyArn: string): Promise<void> {
    await this.#rows('INSERT INTO iam_policy_attachments (entity_id, policy_arn) VALUES ($1, $2) ON CONFLICT DO NOTHING', [entityId, policyArn]);
  }

  async detachPolicy(entityId: string, policyArn: string): Promise<boolean> {
    return this.#changed('DELETE FROM iam_policy_attachments WHERE entity_id = $1 AND policy_arn = $2 RETURNING 1', [entityId, policyArn]);
  }

  async listAttachedPolicyArns(entityId: string): Promise<string[]> {
    const rows = await this.#rows('SELECT policy_arn FROM iam_policy_attachments WHERE entity_id = $1 ORDER BY policy_arn', [entityId]);
    return rows.map((r) => r.policy_arn as string);
  }

  async countPolicyAttachments(policyArn: string): Promise<number> {
    return (await this.#one('SELECT count(*)::int AS n FROM iam_policy_attachments WHERE policy_arn = $1', [policyArn]))?.n as number;
  }

  async addUserToGroup(groupId: string, userId: string): Promise<void> {
    await this.#rows('INSERT INTO iam_group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [groupId, userId]);
  }

  async listGroupsForUser(userId: string): Promise<IamEntityRecord[]> {
    const rows = await this.#rows(
      'SELECT e.* FROM iam_group_members m JOIN iam_entities e ON e.id = m.group_id WHERE m.user_id = $1 ORDER BY e.name_key',
      [userId],
    );
    return rows.map(POSTGRES_ROWS.entity);
  }

  // Access keys -------------------------------------------------------------------------------

  async createAccessKeyWithinQuota(k: AccessKeyRecord, max: number): Promise<CreateAccessKeyResult> {
    return this.#transaction(async (tx): Promise<CreateAccessKeyResult> => {
      // Creators of one principal's keys queue on its advisory lock (held to commit), so each
      // counts what the previous one committed. deleteIamEntity takes the same lock before it
      // looks for keys, so a delete that committed first is seen here (each statement reads
      // what committed before it), and one that comes after sees this key (DeleteConflict).
      await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [ACCESS_KEY_LOCK_CLASS, k.principalId]);
      if (k.principalType === 'IAMUser' && (await tx.query("SELECT 1 FROM iam_entities WHERE id = $1 AND kind = 'user'", [k.principalId])).length === 0) {
        return 'no-such-user';
      }
      const [c] = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM access_keys WHERE principal_id = $1', [k.principalId]);
      if ((c?.n ?? 0) >= max) return 'quota-exceeded';
      await tx.query(
        `INSERT INTO access_keys (access_key_id, account_id, principal_arn, principal_id, principal_type, user_name, wrapped_secret, status, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [k.accessKeyId, k.accountId, k.principalArn, k.principalId, k.principalType, k.userName, k.wrappedSecret, k.status, k.createdAt],
      );
      return 'created';
    });
  }

  async listAccessKeysForPrincipal(principalId: string): Promise<AccessKeyRecord[]> {
    const rows = await this.#rows('SELECT * FROM access_keys WHERE principal_id = $1 ORDER BY created_at, access_key_id', [principalId]);
    return rows.map(POSTGRES_ROWS.accessKey);
  }

  async setAccessKeyStatus(accessKeyId: string, status: 'Active' | 'Inactive'): Promise<boolean> {
    return this.#changed('UPDATE access_keys SET status = $1 WHERE access_key_id = $2 RETURNING 1', [status, accessKeyId]);
  }

  async deleteAccessKey(accessKeyId: string): Promise<boolean> {
    return this.#changed('DELETE FROM access_keys WHERE access_key_id = $1 RETURNING 1', [accessKeyId]);
  }

  // STS sessions -------------------------------------------------------------------------------

  async putStsSession(s: StsSessionRecord): Promise<void> {
    await this.#rows(
      `INSERT INTO sts_sessions (access_key_id, account_id, role_id, role_arn, role_name, session_name, wrapped_credentials, created_at,
         expires_at, session_policy, policy_arns, session_tags, transitive_tag_keys, source_identity, source_principal_arn)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
      [
        s.accessKeyId, s.accountId, s.roleId, s.roleArn, s.roleName, s.sessionName, s.wrappedCredentials, s.createdAt, s.expiresAt,
        s.sessionPolicy, [...s.policyArns], JSON.stringify(s.sessionTags), [...s.transitiveTagKeys], s.sourceIdentity, s.sourcePrincipalArn,
      ],
    );
  }

  async getStsSession(accessKeyId: string): Promise<StsSessionRecord | undefined> {
    const r = await this.#one('SELECT * FROM sts_sessions WHERE access_key_id = $1', [accessKeyId]);
    return r === undefined ? undefined : POSTGRES_ROWS.session(r);
  }

  async pruneStsSessions(before: number): Promise<number> {
    // Only sessions long expired go: a cached one is refused as expired either way.
    const [r] = await this.#rows('WITH d AS (DELETE FROM sts_sessions WHERE expires_at < $1 RETURNING 1) SELECT count(*)::int AS n FROM d', [before]);
    return (r?.n as number | undefined) ?? 0;
  }
}
