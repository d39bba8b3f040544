/**
 * SQLite implementation of the audit-log port: its own database file (`audit.db` in the data
 * directory), WAL with `synchronous=FULL`, so a commit is on disk when it returns. Every process
 * of a deployment opens it; a commit takes the write lock (BEGIN IMMEDIATE), reads the chain head,
 * appends and moves the head, so batches from different processes interleave whole.
 *
 * Indexes serve LookupEvents (one attribute plus a time range, newest first): time, event name,
 * user name, access key id, event id, and a WITHOUT ROWID table of resource names. Rarely used
 * selective attributes (ReadOnly=false, event sources other than KMS) have partial indexes so the
 * common event pays nothing for them; dense ones (ReadOnly=true, the KMS source, resource type)
 * are filters over the time index. Event ids are time-ordered, so every index grows at its right
 * edge and inserts stay cheap at tens of millions of rows.
 */
import Database from 'better-sqlite3';
import type {
  AuditAppend,
  AuditDigestRow,
  AuditEventRow,
  AuditIntent,
  AuditLog,
  AuditLogMeta,
  ChainHead,
  ChainLink,
  DigestBuilder,
  LookupQuery,
} from '../audit-log';

/** The narrow slice of better-sqlite3 this adapter uses (STYLE habit 6). */
interface Statement {
  run(...params: unknown[]): { changes: number };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  iterate(...params: unknown[]): IterableIterator<unknown>;
}
interface Connection {
  prepare(sql: string): Statement;
  exec(sql: string): void;
  pragma(sql: string, options?: { simple?: boolean }): unknown;
  transaction<T extends (...args: never[]) => unknown>(fn: T): T & { immediate: T };
  close(): void;
}

type Row = Record<string, unknown>;

/** The primary Region-independent event source whose events are the dense majority. */
const KMS_SOURCE = 'kms.amazonaws.com';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit_head (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS audit_events (
  seq INTEGER PRIMARY KEY,
  event_time INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  account TEXT NOT NULL,
  event_name TEXT NOT NULL,
  event_source TEXT NOT NULL,
  read_only INTEGER NOT NULL,
  username TEXT,
  access_key_id TEXT,
  request_id TEXT,
  resource_types TEXT NOT NULL,
  body TEXT NOT NULL,
  prev_hash BLOB NOT NULL,
  hash BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_events_time ON audit_events (account, event_time);
CREATE INDEX IF NOT EXISTS audit_events_name ON audit_events (account, event_name, event_time);
CREATE INDEX IF NOT EXISTS audit_events_user ON audit_events (account, username, event_time) WHERE username IS NOT NULL;
CREATE INDEX IF NOT EXISTS audit_events_akid ON audit_events (account, access_key_id, event_time) WHERE access_key_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS audit_events_id ON audit_events (event_id);
CREATE INDEX IF NOT EXISTS audit_events_writes ON audit_events (account, event_time) WHERE read_only = 0;
CREATE INDEX IF NOT EXISTS audit_events_sources ON audit_events (account, event_source, event_time) WHERE event_source <> '${KMS_SOURCE}';
CREATE TABLE IF NOT EXISTS audit_resources (
  account TEXT NOT NULL,
  name TEXT NOT NULL,
  event_time INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (account, name, event_time, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audit_digests (seq INTEGER PRIMARY KEY, body TEXT NOT NULL, signature TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit_intents (id TEXT PRIMARY KEY, owner INTEGER NOT NULL, created_at INTEGER NOT NULL, event TEXT NOT NULL);
`;

const EVENT_COLUMNS =
  'e.seq, e.event_time, e.event_id, e.account, e.event_name, e.event_source, e.read_only, e.username, e.access_key_id, e.request_id, e.resource_types, e.body, e.prev_hash, e.hash';

function eventFromRow(r: Row): AuditEventRow {
  return {
    seq: r.seq as number,
    time: r.event_time as number,
    eventId: r.event_id as string,
    account: r.account as string,
    eventName: r.event_name as string,
    eventSource: r.event_source as string,
    readOnly: r.read_only === 1,
    username: (r.username as string | null) ?? null,
    accessKeyId: (r.access_key_id as string | null) ?? null,
    requestId: (r.request_id as string | null) ?? null,
    resourceTypes: r.resource_types as string,
    body: r.body as string,
    prevHash: r.prev_hash as Buffer,
    hash: r.hash as Buffer,
  };
}

/** The distinct resource types of an event, as stored in `resource_types` (comma-joined, sorted). */
export function resourceTypesColumn(e: AuditAppend): string {
  return [...new Set(e.resources.map((r) => r.type))].sort().join(',');
}

/** Options for opening the audit database. */
export interface SqliteAuditLogOptions {
  readonly path: string;
  /** Query only (LookupEvents, verify, export): never creates or writes. */
  readonly readonly?: boolean;
  readonly busyTimeoutMs?: number;
}

/** The SQLite audit log. */
export class SqliteAuditLog implements AuditLog {
  readonly #db: Connection;
  readonly #stmts = new Map<string, Statement>();
  readonly #readonly: boolean;

  constructor(options: SqliteAuditLogOptions) {
    this.#readonly = options.readonly === true;
    this.#db = new Database(options.path, { readonly: this.#readonly, fileMustExist: this.#readonly }) as unknown as Connection;
    this.#db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 10_000}`);
    if (!this.#readonly) {
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma('synchronous = FULL');
      this.#db.exec(SCHEMA);
    }
  }

  #stmt(sql: string): Statement {
    let s = this.#stmts.get(sql);
    if (s === undefined) {
      s = this.#db.prepare(sql);
      this.#stmts.set(sql, s);
    }
    return s;
  }

  #head(): ChainHead {
    const r = this.#stmt('SELECT seq, hash FROM audit_head WHERE id = 1').get() as Row | undefined;
    if (r === undefined) throw new Error('the audit trail is not initialized');
    return { seq: r.seq as number, hash: r.hash as Buffer };
  }

  initialize(create: () => { trailId: string; genesis: Buffer }): AuditLogMeta {
    this.#db
      .transaction(() => {
        if (this.getSetting('trail_id') !== undefined) return;
        const { trailId, genesis } = create();
        this.#stmt('INSERT INTO audit_settings (name, value) VALUES (?, ?)').run('trail_id', trailId);
        this.#stmt('INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, ?)').run(genesis);
      })
      .immediate();
    return this.meta();
  }

  meta(): AuditLogMeta {
    const trailId = this.getSetting('trail_id');
    if (trailId === undefined) throw new Error('the audit trail is not initialized');
    return {
      trailId,
      publicKeyPem: this.getSetting('signing_public_key'),
      head: this.#head(),
      prunedThroughSeq: Number(this.getSetting('pruned_through_seq') ?? 0),
      prunedThroughDigest: Number(this.getSetting('pruned_through_digest') ?? 0),
    };
  }

  getSetting(name: string): string | undefined {
    const r = this.#stmt('SELECT value FROM audit_settings WHERE name = ?').get(name) as Row | undefined;
    return r === undefined ? undefined : (r.value as string);
  }

  touch(now: number): void {
    this.#stmt("INSERT OR REPLACE INTO audit_settings (name, value) VALUES ('last_probe', ?)").run(String(now));
  }

  setSettingIfAbsent(name: string, value: string): string {
    this.#stmt('INSERT OR IGNORE INTO audit_settings (name, value) VALUES (?, ?)').run(name, value);
    return this.getSetting(name) as string;
  }

  #append(events: readonly AuditAppend[], link: ChainLink): ChainHead {
    let { seq, hash } = this.#head();
    const insert = this.#stmt(
      `INSERT INTO audit_events (seq, event_time, event_id, account, event_name, event_source, read_only, username, access_key_id,
        request_id, resource_types, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertResource = this.#stmt('INSERT OR IGNORE INTO audit_resources (account, name, event_time, seq) VALUES (?, ?, ?, ?)');
    const complete = this.#stmt('DELETE FROM audit_intents WHERE id = ?');
    for (const e of events) {
      const prev = hash;
      seq += 1;
      hash = link(prev, e.body);
      insert.run(seq, e.time, e.eventId, e.account, e.eventName, e.eventSource, e.readOnly ? 1 : 0, e.username, e.accessKeyId,
        e.requestId, resourceTypesColumn(e), e.body, prev, hash);
      for (const r of e.resources) insertResource.run(e.account, r.name, e.time, seq);
      if (e.completes !== undefined) complete.run(e.completes);
    }
    if (events.length > 0) this.#stmt('UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1').run(seq, hash);
    return { seq, hash };
  }

  commit(events: readonly AuditAppend[], intents: readonly AuditIntent[], link: ChainLink): ChainHead {
    return this.#db
      .transaction(() => {
        const addIntent = this.#stmt('INSERT OR REPLACE INTO audit_intents (id, owner, created_at, event) VALUES (?, ?, ?, ?)');
        for (const i of intents) addIntent.run(i.id, i.owner, i.createdAt, JSON.stringify(i.event));
        return this.#append(events, link);
      })
      .immediate();
  }

  intents(): AuditIntent[] {
    const rows = this.#stmt('SELECT id, owner, created_at, event FROM audit_intents ORDER BY created_at, id').all() as Row[];
    return rows.map((r) => ({
      id: r.id as string,
      owner: r.owner as number,
      createdAt: r.created_at as number,
      event: JSON.parse(r.event as string) as AuditAppend,
    }));
  }

  recoverIntents(pick: (intent: AuditIntent) => boolean, link: ChainLink): number {
    return this.#db
      .transaction(() => {
        const chosen = this.intents().filter(pick);
        this.#append(chosen.map((i) => ({ ...i.event, completes: i.id })), link);
        return chosen.length;
      })
      .immediate();
  }

  writeDigest(build: DigestBuilder): AuditDigestRow | undefined {
    return this.#db
      .transaction(() => {
        const last = this.#stmt('SELECT seq, body, signature FROM audit_digests ORDER BY seq DESC LIMIT 1').get() as AuditDigestRow | undefined;
        const digest = build(this.#head(), last);
        if (digest !== undefined) {
          this.#stmt('INSERT INTO audit_digests (seq, body, signature) VALUES (?, ?, ?)').run(digest.seq, digest.body, digest.signature);
        }
        return digest;
      })
      .immediate();
  }

  prune(eventSeq: number, digestSeq: number, build: DigestBuilder): number {
    const removed = this.#db
      .transaction(() => {
        const n = this.#stmt('DELETE FROM audit_events WHERE seq <= ?').run(eventSeq).changes;
        this.#stmt('DELETE FROM audit_digests WHERE seq <= ?').run(digestSeq);
        this.#stmt("INSERT OR REPLACE INTO audit_settings (name, value) VALUES ('pruned_through_seq', ?)").run(String(eventSeq));
        this.#stmt("INSERT OR REPLACE INTO audit_settings (name, value) VALUES ('pruned_through_digest', ?)").run(String(digestSeq));
        this.writeDigest(build);
        return n;
      })
      .immediate();
    // The resource index has no seq order; sweep it in short transactions so other writers
    // interleave. Lookups join on the events table, so rows not yet swept are never returned.
    let cursor: unknown[] = ['', '', -1, -1];
    for (;;) {
      const rows = this.#stmt(
        `SELECT account, name, event_time, seq FROM audit_resources WHERE (account, name, event_time, seq) > (?, ?, ?, ?)
         ORDER BY account, name, event_time, seq LIMIT 5000`,
      ).all(...cursor) as Row[];
      if (rows.length === 0) break;
      const last = rows[rows.length - 1] as Row;
      cursor = [last.account, last.name, last.event_time, last.seq];
      const del = this.#stmt('DELETE FROM audit_resources WHERE account = ? AND name = ? AND event_time = ? AND seq = ?');
      this.#db
        .transaction(() => {
          for (const r of rows) if ((r.seq as number) <= eventSeq) del.run(r.account, r.name, r.event_time, r.seq);
        })
        .immediate();
    }
    return removed;
  }

  lookup(q: LookupQuery): AuditEventRow[] {
    const lower = q.startTime ?? Number.MIN_SAFE_INTEGER;
    let upper = q.endTime ?? Number.MAX_SAFE_INTEGER;
    let cursorTime = Number.MAX_SAFE_INTEGER;
    let cursorSeq = Number.MAX_SAFE_INTEGER;
    if (q.after !== undefined) {
      upper = Math.min(upper, q.after.time);
      cursorTime = q.after.time;
      cursorSeq = q.after.seq;
    }
    // `event_time <= upper` is the index range; the NOT(...) term only trims rows at the cursor's time.
    const window = 'e.event_time >= ? AND e.event_time <= ? AND NOT (e.event_time = ? AND e.seq >= ?)';
    const order = 'ORDER BY e.event_time DESC, e.seq DESC LIMIT ?';
    const a = q.attribute;
    let sql: string;
    let params: unknown[];
    if (a === undefined) {
      sql = `SELECT ${EVENT_COLUMNS} FROM audit_events e WHERE e.account = ? AND ${window} ${order}`;
      params = [q.account];
    } else {
      switch (a.key) {
        case 'EventId':
          sql = `SELECT ${EVENT_COLUMNS} FROM audit_events e WHERE e.event_id = ? AND e.account = ? AND ${window} ${order}`;
          params = [a.value, q.account];
          break;
        case 'EventName':
          sql = `SELECT ${EVENT_COLUMNS} FROM audit_events e WHERE e.account = ? AND e.event_name = ? AND ${window} ${order}`;
          params = [q.account, a.value];
          break;
        case 'Username':
          sql = `SELECT ${EVENT_COLUMNS} FROM audit_events e WHERE e.account = ? AND e.username = ? AND ${window} ${order}`;
          params = [q.account, a.value];
          break;
        case 'AccessKeyId':
          sql = `SELECT ${EVENT_COLUMNS} FROM audit_events e WHERE e.account = ? AND e.access_key_id = ? AND ${window} ${order}`;
          params = [q.account, a.value];
          break;
        case 'ReadOnly':
          // The literal predicates let SQLite choose the partial index for writes.
          sql =
            a.value === 'false'
              ? `SELECT ${EVENT_COLUMNS} FROM audit_events e WHERE e.account = ? AND e.read_only = 0 AND ${window} ${order}`
              : `SELECT ${EVENT_COLUMNS} FROM audit_events e WHERE e.account = ? AND e.read_only = 1 AND ${window} ${order}`;
          params = [q.account];
          break;
        case 'EventSource':
          sql =
            a.value === KMS_SOURCE
              ? `SELECT ${EVENT_COLUMNS} FROM audit_events e INDEXED BY audit_events_time WHERE e.account = ? AND e.event_source = ? AND ${window} ${order}`
              : `SELECT ${EVENT_COLUMNS} FROM audit_events e WHERE e.account = ? AND e.event_source <> '${KMS_SOURCE}' AND e.event_source = ? AND ${window} ${order}`;
          params = [q.account, a.value];
          break;
        case 'ResourceType':
          sql = `SELECT ${EVENT_COLUMNS} FROM audit_events e INDEXED BY audit_events_time
                 WHERE e.account = ? AND (',' || e.resource_types || ',') LIKE ('%,' || ? || ',%') ESCAPE '\\' AND ${window} ${order}`;
          params = [q.account, a.value.replace(/[\\%_]/g, (c) => `\\${c}`)];
          break;
        case 'ResourceName':
          sql = `SELECT ${EVENT_COLUMNS} FROM audit_resources r JOIN audit_events e ON e.seq = r.seq
                 WHERE r.account = ? AND r.name = ? AND r.event_time >= ? AND r.event_time <= ? AND NOT (r.event_time = ? AND r.seq >= ?)
                 ORDER BY r.event_time DESC, r.seq DESC LIMIT ?`;
          params = [q.account, a.value];
          break;
      }
    }
    const rows = this.#stmt(sql).all(...params, lower, upper, cursorTime, cursorSeq, q.limit) as Row[];
    return rows.map(eventFromRow);
  }

  *events(from: number, to: number = Number.MAX_SAFE_INTEGER): IterableIterator<AuditEventRow> {
    // A fresh statement: iterate() keeps it busy until the loop ends.
    const stmt = this.#db.prepare(`SELECT ${EVENT_COLUMNS} FROM audit_events e WHERE e.seq >= ? AND e.seq <= ? ORDER BY e.seq`);
    for (const r of stmt.iterate(from, to)) yield eventFromRow(r as Row);
  }

  digests(): AuditDigestRow[] {
    return this.#stmt('SELECT seq, body, signature FROM audit_digests ORDER BY seq').all() as AuditDigestRow[];
  }

  findByHash(hash: Buffer): number | undefined {
    const r = this.#stmt('SELECT seq FROM audit_events WHERE hash = ?').get(hash) as Row | undefined;
    return r === undefined ? undefined : (r.seq as number);
  }

  resourceRows(): number {
    const pruned = Number(this.getSetting('pruned_through_seq') ?? 0);
    return (this.#stmt('SELECT count(*) AS n FROM audit_resources WHERE seq > ?').get(pruned) as Row).n as number;
  }

  close(): void {
    this.#db.close();
  }
}
