/**
 * Numbered PostgreSQL migrations (issue 14). Append only: a migration that has shipped is never
 * edited. Numbering is the PostgreSQL schema's own, independent of src/store/sqlite/migrations.ts.
 *
 * This first migration holds what exists for PostgreSQL so far: the audit trail (the tables of the
 * SQLite trail's trail.db and stream-N.db, with a `stream` column where SQLite has one file per
 * stream), the lease table of the lifecycle jobs, and the sealed domain key that moves from the
 * data directory into the database (DESIGN §6). Keys, aliases, grants and identities follow as
 * the next migration once the Store ports of issue 13 are in place.
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
]);
