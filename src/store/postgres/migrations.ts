/**
 * Numbered PostgreSQL migrations (issue 14). Append only: a migration that has shipped is never
 * edited. Numbering is the PostgreSQL schema's own, independent of src/store/sqlite/migrations.ts.
 *
 * This first migration holds what exists for PostgreSQL so far: the audit trail (the tables of the
 * SQLite trail's trail.db and stream-N.db, with a `stream` column where SQLite has one file per
 * stream), the lease table of the lifecycle jobs, and the sealed domain key that moves from the
 * data directory into the database (DESIGN §6). Migration 2 holds the Store's tables and the
 * change notifications; identities follow in migration 3.
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
]);
