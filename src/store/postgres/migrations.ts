/**
 * Numbered PostgreSQL migrations (issue 14). Append only: a migration that has shipped is never
 * edited. Numbering is the PostgreSQL schema's own, independent of src/store/sqlite/migrations.ts.
 *
 * This first migration holds what exists for PostgreSQL so far: the audit trail (the tables of the
 * SQLite trail's trail.db and stream-N.db, with a `stream` column where SQLite has one file per
 * stream), the lease table of the lifecycle jobs, and the sealed domain key that moves from the
 * data directory into the database (DESIGN §6). Migration 2 holds the Store's tables and the
 * change notifications; identities follow in migration 3; migration 4 indexes LookupEvents' rare attributes.
 *
 * Times are epoch milliseconds in BIGINT, as in SQLite; chain values are BYTEA.
 */

/** Migration number -> SQL, run once, in order (migrate.ts: all pending ones in one transaction). */
export const POSTGRES_MIGRATIONS: readonly (readonly [number, string])[] = Object.freeze([
  [
    1,
    `
    CREATE TABLE audit_settings (
      name TEXT PRIMARY KEY,
      value TEXT NOT NULL
    );
    CREATE TABLE audit_digests (
      seq BIGINT PRIMARY KEY,
      body TEXT NOT NULL,
      signature TEXT NOT NULL
    );
    CREATE TABLE audit_streams (
      stream INTEGER PRIMARY KEY,
      trail_id TEXT NOT NULL,
      head_seq BIGINT NOT NULL,
      head_hash BYTEA NOT NULL,
      indexed_through BIGINT NOT NULL DEFAULT 0,
      pruned_through BIGINT NOT NULL DEFAULT 0
    );
    CREATE TABLE audit_events (
      stream INTEGER NOT NULL REFERENCES audit_streams(stream),
      seq BIGINT NOT NULL,
      event_time BIGINT NOT NULL,
      event_id TEXT NOT NULL,
      account TEXT NOT NULL,
      event_name TEXT NOT NULL,
      event_source TEXT NOT NULL,
      read_only BOOLEAN NOT NULL,
      username TEXT,
      access_key_id TEXT,
      request_id TEXT,
      resource_types TEXT NOT NULL,
      resource_names TEXT NOT NULL,
      body TEXT NOT NULL,
      prev_hash BYTEA NOT NULL,
      hash BYTEA NOT NULL,
      PRIMARY KEY (stream, seq)
    );
    -- LookupEvents without an attribute: one account's records, newest first.
    CREATE INDEX audit_events_account_time ON audit_events (account, event_time);
    CREATE TABLE audit_intents (
      id TEXT PRIMARY KEY,
      stream INTEGER NOT NULL,
      owner INTEGER NOT NULL,
      created_at BIGINT NOT NULL,
      event TEXT NOT NULL
    );
    CREATE INDEX audit_intents_stream ON audit_intents (stream, created_at);
    CREATE TABLE leases (
      name TEXT PRIMARY KEY,
      holder TEXT NOT NULL,
      expires_at BIGINT NOT NULL,
      acquired_at BIGINT NOT NULL,
      renewed_at BIGINT NOT NULL,
      -- Incremented whenever the lease changes hands: a fencing token (a job that carries it can
      -- tell it was overtaken).
      epoch BIGINT NOT NULL
    );
    CREATE TABLE domain_key (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      sealed TEXT NOT NULL,
      created_at BIGINT NOT NULL
    );
    `,
  ],
  [
    2,
    // The Store's tables (issue 14; pg-store): accounts and access keys, keys and their versions,
    // aliases, tags, import tokens, grants and the grant-token key — the SQLite schema of
    // src/store/sqlite/migrations.ts 1-6 in PostgreSQL types. Text that listings order or page
    // by is COLLATE "C", so order is by bytes whatever the database's default collation, as on
    // SQLite. The identity tables (IAM, Organizations, STS) come in the next migration
    // (pg-identity); it ALTERs `accounts` for their columns.
    //
    // The change feed (src/store/postgres/postgres-change-feed.ts): every committed row change
    // names the entity it concerns with a NOTIFY on channel keyhold_changes, payload
    // "ENTITY ID". NOTIFY is transactional — delivered only at commit, in commit order, never for
    // a rolled-back transaction (PostgreSQL docs, NOTIFY) — so no change table is needed: a
    // listener that loses its connection treats everything as changed. `keyhold_note_change()`
    // takes the entity as its first argument and the columns whose values, joined by ':', form
    // the id (none: an empty id); later migrations attach it to their tables the same way.
    `
    CREATE TABLE accounts (
      account_id TEXT COLLATE "C" PRIMARY KEY,
      created_at BIGINT NOT NULL
    );
    CREATE TABLE access_keys (
      access_key_id TEXT COLLATE "C" PRIMARY KEY,
      account_id TEXT NOT NULL REFERENCES accounts(account_id),
      principal_arn TEXT NOT NULL,
      principal_id TEXT NOT NULL,
      principal_type TEXT NOT NULL,
      user_name TEXT,
      wrapped_secret BYTEA NOT NULL,
      status TEXT NOT NULL,
      created_at BIGINT NOT NULL
    );
    CREATE INDEX access_keys_account ON access_keys(account_id);
    CREATE INDEX access_keys_principal ON access_keys(principal_id);
    CREATE TABLE keys (
      arn TEXT COLLATE "C" PRIMARY KEY,
      key_id TEXT COLLATE "C" NOT NULL,
      account_id TEXT COLLATE "C" NOT NULL,
      region TEXT COLLATE "C" NOT NULL,
      key_spec TEXT NOT NULL,
      key_usage TEXT NOT NULL,
      origin TEXT NOT NULL,
      key_manager TEXT NOT NULL,
      state TEXT NOT NULL,
      description TEXT NOT NULL,
      policy TEXT NOT NULL,
      multi_region BOOLEAN NOT NULL,
      creation_date BIGINT NOT NULL,
      deletion_date BIGINT,
      pending_window_days INTEGER,
      current_version INTEGER NOT NULL,
      rotation_enabled BOOLEAN NOT NULL DEFAULT FALSE,
      rotation_period_days INTEGER,
      next_rotation_date BIGINT,
      on_demand_rotation_start BIGINT,
      expiration_model TEXT,
      valid_to BIGINT,
      multi_region_key_type TEXT,
      primary_region TEXT
    );
    CREATE UNIQUE INDEX keys_account_region_id ON keys(account_id, region, key_id);
    CREATE INDEX keys_key_id ON keys(account_id, key_id, region);
    CREATE INDEX keys_deletion ON keys(deletion_date) WHERE deletion_date IS NOT NULL;
    CREATE INDEX keys_rotation ON keys(next_rotation_date) WHERE next_rotation_date IS NOT NULL;
    CREATE INDEX keys_valid_to ON keys(valid_to) WHERE valid_to IS NOT NULL;
    CREATE TABLE key_versions (
      key_arn TEXT COLLATE "C" NOT NULL REFERENCES keys(arn) ON DELETE CASCADE,
      version INTEGER NOT NULL,
      material_id TEXT NOT NULL,
      wrapped_material BYTEA,
      created_at BIGINT NOT NULL,
      origin TEXT NOT NULL,
      PRIMARY KEY (key_arn, version)
    );
    CREATE TABLE aliases (
      account_id TEXT COLLATE "C" NOT NULL,
      region TEXT COLLATE "C" NOT NULL,
      alias_name TEXT COLLATE "C" NOT NULL,
      target_key_id TEXT NOT NULL,
      target_key_arn TEXT COLLATE "C" NOT NULL REFERENCES keys(arn) ON DELETE CASCADE,
      creation_date BIGINT NOT NULL,
      last_updated_date BIGINT NOT NULL,
      PRIMARY KEY (account_id, region, alias_name)
    );
    CREATE INDEX aliases_target ON aliases(target_key_arn);
    CREATE TABLE tags (
      key_arn TEXT COLLATE "C" NOT NULL REFERENCES keys(arn) ON DELETE CASCADE,
      tag_key TEXT COLLATE "C" NOT NULL,
      tag_value TEXT NOT NULL,
      PRIMARY KEY (key_arn, tag_key)
    );
    CREATE TABLE import_tokens (
      token_id TEXT PRIMARY KEY,
      key_arn TEXT COLLATE "C" NOT NULL REFERENCES keys(arn) ON DELETE CASCADE,
      wrapping_key_spec TEXT NOT NULL,
      wrapping_algorithm TEXT NOT NULL,
      wrapped_private_key BYTEA NOT NULL,
      expires_at BIGINT NOT NULL
    );
    CREATE INDEX import_tokens_key ON import_tokens(key_arn);
    CREATE INDEX import_tokens_expiry ON import_tokens(expires_at);
    CREATE TABLE grants (
      grant_id TEXT COLLATE "C" PRIMARY KEY,
      key_arn TEXT COLLATE "C" NOT NULL REFERENCES keys(arn) ON DELETE CASCADE,
      region TEXT COLLATE "C" NOT NULL,
      issuing_account TEXT NOT NULL,
      name TEXT,
      idempotency_key TEXT,
      grantee_principal TEXT,
      grantee_service_principal TEXT,
      grantee_principal_id TEXT,
      retiring_principal TEXT,
      retiring_service_principal TEXT,
      operations TEXT NOT NULL,
      constraints TEXT,
      creation_date BIGINT NOT NULL
    );
    CREATE INDEX grants_key ON grants(key_arn, creation_date, grant_id);
    CREATE INDEX grants_key_grantee ON grants(key_arn, grantee_principal);
    CREATE INDEX grants_key_idempotency ON grants(key_arn, idempotency_key) WHERE idempotency_key IS NOT NULL;
    CREATE INDEX grants_retiring ON grants(region, retiring_principal, creation_date, grant_id) WHERE retiring_principal IS NOT NULL;
    CREATE TABLE grant_token_key (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      wrapped_key BYTEA NOT NULL
    );

    -- TG_ARGV counts from 0: the entity, then the id's columns.
    CREATE FUNCTION keyhold_note_change() RETURNS trigger LANGUAGE plpgsql AS $f$
    DECLARE
      r JSONB;
      id TEXT;
    BEGIN
      FOREACH r IN ARRAY CASE TG_OP WHEN 'INSERT' THEN ARRAY[to_jsonb(NEW)] WHEN 'DELETE' THEN ARRAY[to_jsonb(OLD)]
                                    ELSE ARRAY[to_jsonb(OLD), to_jsonb(NEW)] END LOOP
        id := '';
        FOR i IN 1 .. TG_NARGS - 1 LOOP
          id := id || CASE WHEN i > 1 THEN ':' ELSE '' END || COALESCE(r ->> TG_ARGV[i], '');
        END LOOP;
        PERFORM pg_notify('keyhold_changes', TG_ARGV[0] || ' ' || id);
      END LOOP;
      RETURN NULL;
    END
    $f$;
    ${[
      ['keys', 'key', 'arn'],
      ['key_versions', 'key', 'key_arn'],
      ['tags', 'key', 'key_arn'],
      ['aliases', 'alias', 'account_id', 'region', 'alias_name'],
      ['aliases', 'key-aliases', 'target_key_arn'],
      ['grants', 'grant', 'key_arn'],
      ['accounts', 'identity'],
      ['access_keys', 'identity'],
    ]
      .map(([table, entity, ...cols]) =>
        `CREATE TRIGGER ${table}_${(entity as string).replace(/-/g, '_')}_changes AFTER INSERT OR UPDATE OR DELETE ON ${table}
           FOR EACH ROW EXECUTE FUNCTION keyhold_note_change(${[entity, ...cols].map((a) => `'${a}'`).join(', ')});`)
      .join('\n')}
    `,
  ],
  [
    3,
    // Identities (issue 14; pg-identity): accounts in organizations, account aliases, IAM users,
    // groups and roles with their tags and policies, STS sessions, Organizations policies — the
    // SQLite schema of src/store/sqlite/migrations.ts 2 and 4 in PostgreSQL types, for
    // src/store/postgres/postgres-identity-store.ts. IAM names are unique case-insensitively
    // (name_key holds the lowercased name, under a unique index). Text that listings order or
    // page by is COLLATE "C": byte order, as on SQLite, whatever the database's collation.
    //
    // `accounts` and `access_keys` are migration 2's; this adds the accounts' Organizations columns.
    //
    // Change feed: any committed change to these tables tells every node to drop its
    // identity-derived caches, through migration 2's keyhold_note_change('identity') (an empty id:
    // src/store/change-feed.ts). Row-level, so a statement that changed nothing (ON CONFLICT DO
    // NOTHING) says nothing; PostgreSQL folds identical notifications of one transaction into one
    // (PostgreSQL docs, NOTIFY), so a transaction that changed many rows still sends one.
    `
    ALTER TABLE accounts
      ADD COLUMN name TEXT,
      ADD COLUMN email TEXT,
      ADD COLUMN organization_id TEXT COLLATE "C",
      ADD COLUMN joined_method TEXT,
      ADD COLUMN joined_at BIGINT;
    CREATE INDEX accounts_organization ON accounts(organization_id, account_id) WHERE organization_id IS NOT NULL;
    CREATE TABLE account_aliases (
      account_id TEXT COLLATE "C" PRIMARY KEY REFERENCES accounts(account_id),
      alias TEXT COLLATE "C" NOT NULL UNIQUE
    );
    CREATE TABLE iam_entities (
      id TEXT COLLATE "C" PRIMARY KEY,
      account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts(account_id),
      kind TEXT NOT NULL,
      name TEXT NOT NULL,
      name_key TEXT COLLATE "C" NOT NULL,
      path TEXT COLLATE "C" NOT NULL,
      arn TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      assume_role_policy TEXT,
      description TEXT,
      max_session_duration INTEGER,
      permissions_boundary TEXT
    );
    CREATE UNIQUE INDEX iam_entities_name ON iam_entities(account_id, kind, name_key);
    CREATE TABLE iam_tags (
      entity_id TEXT COLLATE "C" NOT NULL REFERENCES iam_entities(id) ON DELETE CASCADE,
      tag_key TEXT COLLATE "C" NOT NULL,
      tag_value TEXT NOT NULL,
      PRIMARY KEY (entity_id, tag_key)
    );
    CREATE TABLE iam_inline_policies (
      entity_id TEXT COLLATE "C" NOT NULL REFERENCES iam_entities(id) ON DELETE CASCADE,
      policy_name TEXT COLLATE "C" NOT NULL,
      document TEXT NOT NULL,
      PRIMARY KEY (entity_id, policy_name)
    );
    CREATE TABLE iam_managed_policies (
      arn TEXT COLLATE "C" PRIMARY KEY,
      policy_id TEXT COLLATE "C" NOT NULL UNIQUE,
      account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts(account_id),
      policy_name TEXT NOT NULL,
      name_key TEXT COLLATE "C" NOT NULL,
      path TEXT NOT NULL,
      document TEXT NOT NULL,
      description TEXT,
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL
    );
    CREATE UNIQUE INDEX iam_managed_policies_name ON iam_managed_policies(account_id, name_key);
    CREATE TABLE iam_policy_attachments (
      entity_id TEXT COLLATE "C" NOT NULL REFERENCES iam_entities(id) ON DELETE CASCADE,
      policy_arn TEXT COLLATE "C" NOT NULL,
      PRIMARY KEY (entity_id, policy_arn)
    );
    CREATE INDEX iam_policy_attachments_policy ON iam_policy_attachments(policy_arn);
    CREATE TABLE iam_group_members (
      group_id TEXT COLLATE "C" NOT NULL REFERENCES iam_entities(id) ON DELETE CASCADE,
      user_id TEXT COLLATE "C" NOT NULL REFERENCES iam_entities(id) ON DELETE CASCADE,
      PRIMARY KEY (group_id, user_id)
    );
    CREATE INDEX iam_group_members_user ON iam_group_members(user_id);
    CREATE TABLE sts_sessions (
      access_key_id TEXT COLLATE "C" PRIMARY KEY,
      account_id TEXT NOT NULL,
      role_id TEXT NOT NULL,
      role_arn TEXT NOT NULL,
      role_name TEXT NOT NULL,
      session_name TEXT NOT NULL,
      wrapped_credentials BYTEA NOT NULL,
      created_at BIGINT NOT NULL,
      expires_at BIGINT NOT NULL,
      session_policy TEXT,
      policy_arns TEXT[] NOT NULL,
      session_tags JSONB NOT NULL,
      transitive_tag_keys TEXT[] NOT NULL,
      source_identity TEXT,
      source_principal_arn TEXT NOT NULL
    );
    CREATE INDEX sts_sessions_expiry ON sts_sessions(expires_at);
    -- Deleting a role deletes its sessions (SQLite scans for them; a shared database should not).
    CREATE INDEX sts_sessions_role ON sts_sessions(role_id);
    CREATE TABLE organizations (
      id TEXT COLLATE "C" PRIMARY KEY,
      arn TEXT NOT NULL,
      management_account_id TEXT COLLATE "C" NOT NULL UNIQUE REFERENCES accounts(account_id),
      feature_set TEXT NOT NULL,
      root_id TEXT COLLATE "C" NOT NULL,
      created_at BIGINT NOT NULL,
      enabled_policy_types TEXT[] NOT NULL
    );
    CREATE TABLE org_policies (
      organization_id TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
      id TEXT COLLATE "C" NOT NULL,
      arn TEXT NOT NULL,
      name TEXT NOT NULL,
      description TEXT NOT NULL,
      type TEXT COLLATE "C" NOT NULL,
      content TEXT NOT NULL,
      aws_managed BOOLEAN NOT NULL,
      PRIMARY KEY (organization_id, id)
    );
    CREATE UNIQUE INDEX org_policies_name ON org_policies(organization_id, type, name);
    CREATE TABLE org_policy_attachments (
      organization_id TEXT COLLATE "C" NOT NULL,
      policy_id TEXT COLLATE "C" NOT NULL,
      target_id TEXT COLLATE "C" NOT NULL,
      PRIMARY KEY (organization_id, policy_id, target_id),
      FOREIGN KEY (organization_id, policy_id) REFERENCES org_policies(organization_id, id) ON DELETE CASCADE
    );
    CREATE INDEX org_policy_attachments_target ON org_policy_attachments(organization_id, target_id);

    ${[
      'account_aliases', 'iam_entities', 'iam_tags', 'iam_inline_policies', 'iam_managed_policies', 'iam_policy_attachments',
      'iam_group_members', 'organizations', 'org_policies', 'org_policy_attachments',
    ]
      .map((table) => `CREATE TRIGGER ${table}_identity_changes AFTER INSERT OR UPDATE OR DELETE ON ${table}
           FOR EACH ROW EXECUTE FUNCTION keyhold_note_change('identity');`)
      .join('\n')}
    `,
  ],
  [
    4,
    // LookupEvents by its rare attributes (issue 13 review): EventId and ResourceName each match a
    // handful of records, but without an index of their own the lookup walked every record of the
    // account (audit_events_account_time) and filtered it — 21-46 ms at 20k records. EventId is
    // a plain column; resource names are newline-joined in one column, so they are indexed as the
    // array the lookup asks about (audit-log-postgres.ts LOOKUP_FILTERS: `string_to_array(...) @>`).
    // (4 is another change's number; the two are independent, in either order.) CREATE INDEX in
    // the migration's transaction blocks audit writes while it builds: on a large existing trail
    // the first start after upgrading takes that long.
    `
    CREATE INDEX audit_events_event_id ON audit_events (event_id);
    CREATE INDEX audit_events_resource_names ON audit_events USING GIN (string_to_array(resource_names, E'\\n'));
    `,
  ],
]);
