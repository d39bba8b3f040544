/**
 * Numbered SQLite migrations. Append only: a migration that has shipped is never edited.
 * Keys are identified by ARN: a multi-Region key has one row per Region under the same key id.
 */

/**
 * Triggers recording, for the change feed (src/store/sqlite/change-feed.ts, issue 13), which
 * entity each committed row change concerns: `id` is an SQL expression over the row (OLD or NEW).
 */
function changeTriggers(table: string, entity: string, id: (row: 'OLD' | 'NEW') => string): string {
  const insert = (row: 'OLD' | 'NEW'): string => `INSERT INTO changes (entity, id) VALUES ('${entity}', ${id(row)});`;
  const name = `${table}_${entity.replace(/-/g, '_')}`;
  return `
    CREATE TRIGGER ${name}_ins AFTER INSERT ON ${table} BEGIN ${insert('NEW')} END;
    CREATE TRIGGER ${name}_upd AFTER UPDATE ON ${table} BEGIN ${insert('OLD')} ${insert('NEW')} END;
    CREATE TRIGGER ${name}_del AFTER DELETE ON ${table} BEGIN ${insert('OLD')} END;`;
}

/** The identity tables: any change to one drops every identity-derived cache (coarse, and rare). */
const IDENTITY_TABLES = [
  'accounts', 'access_keys', 'iam_entities', 'iam_tags', 'iam_inline_policies', 'iam_managed_policies', 'iam_policy_attachments',
  'iam_group_members', 'organizations', 'org_policies', 'org_policy_attachments', 'account_aliases',
] as const;

/** Migration number -> SQL run once, in order, inside one write transaction. */
export const SQLITE_MIGRATIONS: readonly (readonly [number, string])[] = Object.freeze([
  [
    1,
    `
    CREATE TABLE accounts (
      account_id TEXT PRIMARY KEY,
      created_at INTEGER NOT NULL
    );
    CREATE TABLE access_keys (
      access_key_id TEXT PRIMARY KEY,
      account_id TEXT NOT NULL REFERENCES accounts(account_id),
      principal_arn TEXT NOT NULL,
      principal_id TEXT NOT NULL,
      principal_type TEXT NOT NULL,
      user_name TEXT,
      wrapped_secret BLOB NOT NULL,
      status TEXT NOT NULL,
      created_at INTEGER NOT NULL
    );
    CREATE INDEX access_keys_account ON access_keys(account_id);
    CREATE TABLE keys (
      arn TEXT PRIMARY KEY,
      key_id TEXT NOT NULL,
      account_id TEXT NOT NULL,
      region TEXT NOT NULL,
      key_spec TEXT NOT NULL,
      key_usage TEXT NOT NULL,
      origin TEXT NOT NULL,
      key_manager TEXT NOT NULL,
      state TEXT NOT NULL,
      description TEXT NOT NULL,
      policy TEXT NOT NULL,
      multi_region INTEGER NOT NULL,
      creation_date INTEGER NOT NULL,
      deletion_date INTEGER,
      pending_window_days INTEGER,
      current_version INTEGER NOT NULL,
      rotation_enabled INTEGER NOT NULL DEFAULT 0,
      rotation_period_days INTEGER,
      next_rotation_date INTEGER,
      on_demand_rotation_start INTEGER,
      expiration_model TEXT,
      valid_to INTEGER,
      multi_region_key_type TEXT,
      primary_region TEXT
    );
    CREATE UNIQUE INDEX keys_account_region_id ON keys(account_id, region, key_id);
    CREATE INDEX keys_key_id ON keys(key_id);
    CREATE INDEX keys_deletion ON keys(deletion_date) WHERE deletion_date IS NOT NULL;
    CREATE INDEX keys_rotation ON keys(next_rotation_date) WHERE next_rotation_date IS NOT NULL;
    CREATE INDEX keys_valid_to ON keys(valid_to) WHERE valid_to IS NOT NULL;
    CREATE TABLE key_versions (
      key_arn TEXT NOT NULL REFERENCES keys(arn) ON DELETE CASCADE,
      version INTEGER NOT NULL,
      material_id TEXT NOT NULL,
      wrapped_material BLOB,
      created_at INTEGER NOT NULL,
      origin TEXT NOT NULL,
      PRIMARY KEY (key_arn, version)
    );
    CREATE TABLE aliases (
      account_id TEXT NOT NULL,
      region TEXT NOT NULL,
      alias_name TEXT NOT NULL,
      target_key_id TEXT NOT NULL,
      target_key_arn TEXT NOT NULL REFERENCES keys(arn) ON DELETE CASCADE,
      creation_date INTEGER NOT NULL,
      last_updated_date INTEGER NOT NULL,
      PRIMARY KEY (account_id, region, alias_name)
    );
    CREATE INDEX aliases_target ON aliases(target_key_arn);
    CREATE TABLE tags (
      key_arn TEXT NOT NULL REFERENCES keys(arn) ON DELETE CASCADE,
      tag_key TEXT NOT NULL,
      tag_value TEXT NOT NULL,
      PRIMARY KEY (key_arn, tag_key)
    );
    CREATE TABLE import_tokens (
      token_id TEXT PRIMARY KEY,
      key_arn TEXT NOT NULL REFERENCES keys(arn) ON DELETE CASCADE,
      wrapping_key_spec TEXT NOT NULL,
      wrapping_algorithm TEXT NOT NULL,
      wrapped_private_key BLOB NOT NULL,
      expires_at INTEGER NOT NULL
    );
    CREATE INDEX import_tokens_expiry ON import_tokens(expires_at);
    `,
  ],
  [
    2,
    // Identities (issue 3): accounts in organizations, IAM users/groups/roles, their tags and
    // policies, STS sessions, Organizations policies. IAM names are unique case-insensitively
    // (name_key holds the lowercased name).
    `
    ALTER TABLE accounts ADD COLUMN name TEXT;
    ALTER TABLE accounts ADD COLUMN email TEXT;
    ALTER TABLE accounts ADD COLUMN organization_id TEXT;
    ALTER TABLE accounts ADD COLUMN joined_method TEXT;
    ALTER TABLE accounts ADD COLUMN joined_at INTEGER;
    CREATE INDEX accounts_organization ON accounts(organization_id) WHERE organization_id IS NOT NULL;
    CREATE INDEX access_keys_principal ON access_keys(principal_id);
    CREATE TABLE iam_entities (
      id TEXT PRIMARY KEY,
      account_id TEXT NOT NULL REFERENCES accounts(account_id),
      kind TEXT NOT NULL,
      name TEXT NOT NULL,
      name_key TEXT NOT NULL,
      path TEXT NOT NULL,
      arn TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      assume_role_policy TEXT,
      description TEXT,
      max_session_duration INTEGER,
      permissions_boundary TEXT
    );
    CREATE UNIQUE INDEX iam_entities_name ON iam_entities(account_id, kind, name_key);
    CREATE TABLE iam_tags (
      entity_id TEXT NOT NULL REFERENCES iam_entities(id) ON DELETE CASCADE,
      tag_key TEXT NOT NULL,
      tag_value TEXT NOT NULL,
      PRIMARY KEY (entity_id, tag_key)
    );
    CREATE TABLE iam_inline_policies (
      entity_id TEXT NOT NULL REFERENCES iam_entities(id) ON DELETE CASCADE,
      policy_name TEXT NOT NULL,
      document TEXT NOT NULL,
      PRIMARY KEY (entity_id, policy_name)
    );
    CREATE TABLE iam_managed_policies (
      arn TEXT PRIMARY KEY,
      policy_id TEXT NOT NULL UNIQUE,
      account_id TEXT NOT NULL REFERENCES accounts(account_id),
      policy_name TEXT NOT NULL,
      name_key TEXT NOT NULL,
      path TEXT NOT NULL,
      document TEXT NOT NULL,
      description TEXT,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX iam_managed_policies_name ON iam_managed_policies(account_id, name_key);
    CREATE TABLE iam_policy_attachments (
      entity_id TEXT NOT NULL REFERENCES iam_entities(id) ON DELETE CASCADE,
      policy_arn TEXT NOT NULL,
      PRIMARY KEY (entity_id, policy_arn)
    );
    CREATE INDEX iam_policy_attachments_policy ON iam_policy_attachments(policy_arn);
    CREATE TABLE iam_group_members (
      group_id TEXT NOT NULL REFERENCES iam_entities(id) ON DELETE CASCADE,
      user_id TEXT NOT NULL REFERENCES iam_entities(id) ON DELETE CASCADE,
      PRIMARY KEY (group_id, user_id)
    );
    CREATE INDEX iam_group_members_user ON iam_group_members(user_id);
    CREATE TABLE sts_sessions (
      access_key_id TEXT PRIMARY KEY,
      account_id TEXT NOT NULL,
      role_id TEXT NOT NULL,
      role_arn TEXT NOT NULL,
      role_name TEXT NOT NULL,
      session_name TEXT NOT NULL,
      wrapped_credentials BLOB NOT NULL,
      created_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      session_policy TEXT,
      policy_arns TEXT NOT NULL,
      session_tags TEXT NOT NULL,
      transitive_tag_keys TEXT NOT NULL,
      source_identity TEXT,
      source_principal_arn TEXT NOT NULL
    );
    CREATE INDEX sts_sessions_expiry ON sts_sessions(expires_at);
    CREATE TABLE organizations (
      id TEXT PRIMARY KEY,
      arn TEXT NOT NULL,
      management_account_id TEXT NOT NULL UNIQUE REFERENCES accounts(account_id),
      feature_set TEXT NOT NULL,
      root_id TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      enabled_policy_types TEXT NOT NULL
    );
    CREATE TABLE org_policies (
      organization_id TEXT NOT NULL REFERENCES organizations(id),
      id TEXT NOT NULL,
      arn TEXT NOT NULL,
      name TEXT NOT NULL,
      description TEXT NOT NULL,
      type TEXT NOT NULL,
      content TEXT NOT NULL,
      aws_managed INTEGER NOT NULL,
      PRIMARY KEY (organization_id, id)
    );
    CREATE UNIQUE INDEX org_policies_name ON org_policies(organization_id, type, name);
    CREATE TABLE org_policy_attachments (
      organization_id TEXT NOT NULL,
      policy_id TEXT NOT NULL,
      target_id TEXT NOT NULL,
      PRIMARY KEY (organization_id, policy_id, target_id),
      FOREIGN KEY (organization_id, policy_id) REFERENCES org_policies(organization_id, id) ON DELETE CASCADE
    );
    CREATE INDEX org_policy_attachments_target ON org_policy_attachments(organization_id, target_id);
    `,
  ],
  [
    3,
    // Grants (issue 3): one row per grant, gone with its key. Operations and constraints are
    // JSON; idempotency_key is set for named grants only (CreateGrant retries). The grant-token
    // MAC key is one row, wrapped by the root of trust.
    `
    CREATE TABLE grants (
      grant_id TEXT PRIMARY KEY,
      key_arn TEXT NOT NULL REFERENCES keys(arn) ON DELETE CASCADE,
      region TEXT NOT NULL,
      issuing_account TEXT NOT NULL,
      name TEXT,
      idempotency_key TEXT,
      grantee_principal TEXT,
      grantee_service_principal TEXT,
      retiring_principal TEXT,
      retiring_service_principal TEXT,
      operations TEXT NOT NULL,
      constraints TEXT,
      creation_date INTEGER NOT NULL
    );
    CREATE INDEX grants_key ON grants(key_arn, creation_date, grant_id);
    CREATE INDEX grants_key_grantee ON grants(key_arn, grantee_principal);
    CREATE INDEX grants_key_idempotency ON grants(key_arn, idempotency_key) WHERE idempotency_key IS NOT NULL;
    CREATE INDEX grants_retiring ON grants(region, retiring_principal, creation_date, grant_id) WHERE retiring_principal IS NOT NULL;
    CREATE TABLE grant_token_key (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      wrapped_key BLOB NOT NULL
    );
    `,
  ],
  [
    4,
    // IAM account aliases (issue 8): at most one per account, unique across the deployment as
    // AWS's are across AWS (IAM API Reference, CreateAccountAlias).
    `
    CREATE TABLE account_aliases (
      account_id TEXT PRIMARY KEY REFERENCES accounts(account_id),
      alias TEXT NOT NULL UNIQUE
    );
    `,
  ],
  [
    5,
    // Grants bind to the grantee's unique id (issue 12 item 8).
    `
    ALTER TABLE grants ADD COLUMN grantee_principal_id TEXT;
    `,
  ],
  [
    6,
    // The change feed (issue 13): every committed change names the entities it touched, so each
    // process drops exactly those cache entries. Contiguous seqs (AUTOINCREMENT, one writer at a
    // time) let a reader see when pruning overtook it; every 1000th change prunes all but the
    // last 10000. STS sessions are not cached by id and are left out.
    `
    CREATE TABLE changes (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      entity TEXT NOT NULL,
      id TEXT NOT NULL
    );
    CREATE TRIGGER changes_prune AFTER INSERT ON changes WHEN NEW.seq % 1000 = 0
      BEGIN DELETE FROM changes WHERE seq <= NEW.seq - 10000; END;
    ${changeTriggers('keys', 'key', (r) => `${r}.arn`)}
    ${changeTriggers('key_versions', 'key', (r) => `${r}.key_arn`)}
    ${changeTriggers('tags', 'key', (r) => `${r}.key_arn`)}
    ${changeTriggers('aliases', 'alias', (r) => `${r}.account_id || ':' || ${r}.region || ':' || ${r}.alias_name`)}
    ${changeTriggers('aliases', 'key-aliases', (r) => `${r}.target_key_arn`)}
    ${changeTriggers('grants', 'grant', (r) => `${r}.key_arn`)}
    ${IDENTITY_TABLES.map((t) => changeTriggers(t, 'identity', () => "''")).join('\n')}
    `,
  ],
]);
