/**
 * Numbered SQLite migrations. Append only: a migration that has shipped is never edited.
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
      key_id TEXT PRIMARY KEY,
      arn TEXT NOT NULL UNIQUE,
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
      current_version INTEGER NOT NULL
    );
    CREATE INDEX keys_account_region ON keys(account_id, region, key_id);
    CREATE INDEX keys_deletion ON keys(deletion_date) WHERE deletion_date IS NOT NULL;
    CREATE TABLE key_versions (
      key_id TEXT NOT NULL REFERENCES keys(key_id) ON DELETE CASCADE,
      version INTEGER NOT NULL,
      material_id TEXT NOT NULL,
      wrapped_material BLOB NOT NULL,
      created_at INTEGER NOT NULL,
      PRIMARY KEY (key_id, version)
    );
    CREATE TABLE aliases (
      account_id TEXT NOT NULL,
      region TEXT NOT NULL,
      alias_name TEXT NOT NULL,
      target_key_id TEXT NOT NULL REFERENCES keys(key_id) ON DELETE CASCADE,
      creation_date INTEGER NOT NULL,
      last_updated_date INTEGER NOT NULL,
      PRIMARY KEY (account_id, region, alias_name)
    );
    CREATE INDEX aliases_target ON aliases(target_key_id);
    CREATE TABLE tags (
      key_id TEXT NOT NULL REFERENCES keys(key_id) ON DELETE CASCADE,
      tag_key TEXT NOT NULL,
      tag_value TEXT NOT NULL,
      PRIMARY KEY (key_id, tag_key)
    );
    `,
  ],
]);
