/**
 * Numbered SQLite migrations. Append only: a migration that has shipped is never edited.
 * Keys are identified by ARN: a multi-Region key has one row per Region under the same key id.
 */

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
]);
