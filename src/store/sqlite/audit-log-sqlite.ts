/**
 * SQLite implementation of the audit-log port. The trail lives in its own directory
 * (`<data dir>/audit/`): `trail.db` holds the trail's settings (id, wrapped signing key, public
 * key) and its signed digests; `stream-<n>.db` holds stream n's records. Every file uses WAL
 * with `synchronous=FULL`, so a commit is on disk when it returns; writers of different
 * streams never share a lock or an fsync.
 *
 * Records table: only the rowid B-tree is written on the hot path, so a commit dirties a handful
 * of pages whatever the batch size. The lookup index — one WITHOUT ROWID table keyed by
 * (kind, account, value, time, seq) for time, event name, user name, access key id, resource
 * name, writes (ReadOnly=false) and event sources other than KMS — is filled in bulk after the
 * commit was acknowledged, without fsync (it is derived data: rebuilt from the records after a
 * crash). Lookups read the index for indexed records and scan the short unindexed tail, in one
 * read transaction. Dense attributes (ReadOnly=true, the KMS source, resource type) and event
 * ids (time-ordered: the id names its own millisecond) are filters over the time entries.
 */
import Database from 'better-sqlite3';
import { hash as oneShotHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { AuditJournal, readJournalFrom, type JournalFrame } from './audit-journal';
import { join } from 'node:path';
import type {
  AuditAppend,
  AuditDigestRow,
  AuditEventRow,
  AuditIntent,
  AuditStore,
  AuditStream,
  ChainHead,
  ChainLink,
  LookupQuery,
  StreamInfo,
} from '../audit-log';
import { statementCache, type Connection, type Row, type Statement } from './connection';

/** The event source of nearly every record; its events are found by filtering the time entries. */
const KMS_SOURCE = 'kms.amazonaws.com';
/** Lookup index kinds. */
const K_TIME = 0;
const K_NAME = 1;
const K_USER = 2;
const K_ACCESS_KEY = 3;
const K_RESOURCE = 4;
const K_WRITE = 5;
const K_SOURCE = 6;

const TRAIL_FILE = 'trail.db';
const STREAM_FILE = /^stream-(\d+)\.db$/;

const TRAIL_SCHEMA = `
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS digests (seq INTEGER PRIMARY KEY, body TEXT NOT NULL, signature TEXT NOT NULL);
`;

const STREAM_SCHEMA = `
CREATE TABLE IF NOT EXISTS stream_info (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  trail_id TEXT NOT NULL,
  stream INTEGER NOT NULL,
  head_seq INTEGER NOT NULL,
  head_hash BLOB NOT NULL,
  indexed_through INTEGER NOT NULL,
  pruned_through INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
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
  resource_names TEXT NOT NULL,
  body TEXT NOT NULL,
  prev_hash BLOB NOT NULL,
  hash BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS lookup_index (
  kind INTEGER NOT NULL,
  account TEXT NOT NULL,
  value TEXT NOT NULL,
  event_time INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (kind, account, value, event_time, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS intents (id TEXT PRIMARY KEY, owner INTEGER NOT NULL, created_at INTEGER NOT NULL, event TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS journal_state (id INTEGER PRIMARY KEY CHECK (id = 1), applied_frame INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS journal_pos (id INTEGER PRIMARY KEY CHECK (id = 1), frame INTEGER NOT NULL, end_offset INTEGER NOT NULL);
`;

/**
 * How a connection treats a stream's journal (audit-journal.ts): `own` — this connection's
 * writer appends every commit to it (fdatasync) and keeps SQLite at synchronous=NORMAL;
 * `replay` — another process's stream: frames SQLite lost are applied when it is opened, and
 * this connection's own writes (recovery) stay synchronous; `read` — read-only, records still
 * only in the journal are read after SQLite's (verify); `behind` — the write-behind connection of
 * the stream's own writer (its apply thread, issue 11): applies frames the writer has made
 * durable (`applyThrough`), at synchronous=NORMAL like the writer, and never replays at open
 * (frames past the writer's last fdatasync are not acknowledged and may still change).
 */
export type JournalMode = 'own' | 'replay' | 'read' | 'behind';

/** One appended row as a journal frame holds it. */
type FrameRow = [
  seq: number, prev: string, hash: string, time: number, eventId: string, account: string, eventName: string, eventSource: string,
  readOnly: number, username: string | null, accessKeyId: string | null, requestId: string | null, types: string, names: string,
  body: string, completes: string | null,
];
/** A journal frame's content: the rows appended and the intents stored, by one commit. */
interface FramePayload {
  readonly e: FrameRow[];
  readonly i: [id: string, owner: number, createdAt: number, event: string][];
}

/** A frame journaled and acknowledged but not yet applied to SQLite (`own` mode). */
interface PendingFrame {
  readonly frame: number;
  /**
   * The frame's encoded payload (FramePayload as JSON), parsed again only if this connection
   * applies it itself (rare: the apply thread applies from the journal). Kept as bytes, not as
   * the rows' objects: frames stay here until the apply thread has applied them (about APPLY_MS),
   * long enough for objects to survive into V8's old generation and cost the writer thread's GC
   * (issue 11, measured in its profile).
   */
  readonly bytes: Buffer;
  /** Records (events and intents) it holds. */
  readonly records: number;
  /** Offset just past the frame in the journal. */
  readonly end: number;
}

/** The columns of a record's resources: distinct types sorted and comma-joined, distinct names newline-joined. */
function resourceColumns(e: AuditAppend): [types: string, names: string] {
  if (e.resources.length === 0) return ['', ''];
  if (e.resources.length === 1) return [(e.resources[0] as { type: string }).type, (e.resources[0] as { name: string }).name];
  return [[...new Set(e.resources.map((r) => r.type))].sort().join(','), [...new Set(e.resources.map((r) => r.name))].join('\n')];
}

/** Chains `events` after `head` into journal rows (pure: no database). */
function chainRows(events: readonly AuditAppend[], head: ChainHead, link: ChainLink, out: FrameRow[]): ChainHead {
  let seq = head.seq;
  let hash = head.hash;
  for (const e of events) {
    const prev = hash;
    seq += 1;
    hash = link(prev, e.body);
    const [types, names] = resourceColumns(e);
    out.push([seq, prev.toString('hex'), hash.toString('hex'), e.time, e.eventId, e.account, e.eventName, e.eventSource, e.readOnly ? 1 : 0,
      e.username, e.accessKeyId, e.requestId, types, names, e.body, e.completes ?? null]);
  }
  return { seq, hash };
}

/** Whether a journal row matches a lookup (the JavaScript twin of the tail scan's SQL). */
function tailMatches(r: AuditEventRow, q: LookupQuery, lower: number, upper: number, tieTime: number, tieSeq: number): boolean {
  if (r.account !== q.account || r.time < lower || r.time > upper || (r.time === tieTime && r.seq >= tieSeq)) return false;
  const a = q.attribute;
  if (a === undefined) return true;
  const v = a.value;
  switch (a.key) {
    case 'EventName':
      return r.eventName === v;
    case 'Username':
      return r.username === v;
    case 'AccessKeyId':
      return r.accessKeyId === v;
    case 'ResourceName':
      return r.resourceNames !== '' && r.resourceNames.split('\n').includes(v);
    case 'ReadOnly':
      return r.readOnly === (v !== 'false');
    case 'EventSource':
      return r.eventSource === v;
    case 'ResourceType':
      return r.resourceTypes !== '' && r.resourceTypes.split(',').includes(v);
    case 'EventId':
      return r.eventId === v;
  }
}

function rowOfFrame(stream: number, r: FrameRow): AuditEventRow {
  return {
    stream,
    seq: r[0],
    time: r[3],
    eventId: r[4],
    account: r[5],
    eventName: r[6],
    eventSource: r[7],
    readOnly: r[8] === 1,
    username: r[9],
    accessKeyId: r[10],
    requestId: r[11],
    resourceTypes: r[12],
    resourceNames: r[13],
    body: r[14],
    prevHash: Buffer.from(r[1], 'hex'),
    hash: Buffer.from(r[2], 'hex'),
  };
}

const EVENT_COLUMNS =
  'e.seq, e.event_time, e.event_id, e.account, e.event_name, e.event_source, e.read_only, e.username, e.access_key_id, e.request_id, e.resource_types, e.resource_names, e.body, e.prev_hash, e.hash';

function eventFromRow(stream: number, r: Row): AuditEventRow {
  return {
    stream,
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
    resourceNames: r.resource_names as string,
    body: r.body as string,
    prevHash: r.prev_hash as Buffer,
    hash: r.hash as Buffer,
  };
}

/** The index entries (kind, value) of a record. */
function indexEntries(r: Row): [number, string][] {
  return entriesOf(r.event_name as string, r.username as string | null, r.access_key_id as string | null, r.resource_names as string, r.read_only as number, r.event_source as string);
}

/** The lookup index entries of a journal frame's row (the same as indexEntries of its stored row). */
function frameRowEntries(r: FrameRow): [number, string][] {
  return entriesOf(r[6], r[9], r[10], r[13], r[8], r[7]);
}

function entriesOf(eventName: string, username: string | null, accessKeyId: string | null, names: string, readOnly: number, eventSource: string): [number, string][] {
  const out: [number, string][] = [[K_TIME, ''], [K_NAME, eventName]];
  if (username !== null) out.push([K_USER, username]);
  if (accessKeyId !== null) out.push([K_ACCESS_KEY, accessKeyId]);
  if (names !== '') for (const n of names.split('\n')) out.push([K_RESOURCE, n]);
  if (readOnly === 0) out.push([K_WRITE, '']);
  if (eventSource !== KMS_SOURCE) out.push([K_SOURCE, eventSource]);
  return out;
}

/** The millisecond a time-ordered (UUIDv7) event id names, if it is one. */
function eventIdTime(id: string): number | undefined {
  const m = /^([0-9a-f]{8})-([0-9a-f]{4})-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.exec(id);
  return m === null ? undefined : parseInt(`${m[1]}${m[2]}`, 16);
}

/** How a lookup attribute reads: an index kind and value, plus a filter on the record columns. */
interface Plan {
  readonly kind: number;
  readonly value: string;
  /** SQL over `e` with one `?` for `param` (or none). */
  readonly filter: string | undefined;
  readonly param?: unknown;
  /** The tail scan's filter (always one `?` when there is an attribute). */
  readonly tail: string | undefined;
  readonly lower?: number;
  readonly upper?: number;
}

function plan(q: LookupQuery): Plan {
  const a = q.attribute;
  if (a === undefined) return { kind: K_TIME, value: '', filter: undefined, tail: undefined };
  const v = a.value;
  switch (a.key) {
    case 'EventName':
      return { kind: K_NAME, value: v, filter: undefined, tail: 'e.event_name = ?', param: v };
    case 'Username':
      return { kind: K_USER, value: v, filter: undefined, tail: 'e.username = ?', param: v };
    case 'AccessKeyId':
      return { kind: K_ACCESS_KEY, value: v, filter: undefined, tail: 'e.access_key_id = ?', param: v };
    case 'ResourceName':
      return { kind: K_RESOURCE, value: v, filter: undefined, tail: "instr(char(10) || e.resource_names || char(10), char(10) || ? || char(10)) > 0", param: v };
    case 'ReadOnly':
      return v === 'false'
        ? { kind: K_WRITE, value: '', filter: undefined, tail: 'e.read_only = ?', param: 0 }
        : { kind: K_TIME, value: '', filter: 'e.read_only = ?', tail: 'e.read_only = ?', param: 1 };
    case 'EventSource':
      return v === KMS_SOURCE
        ? { kind: K_TIME, value: '', filter: 'e.event_source = ?', tail: 'e.event_source = ?', param: v }
        : { kind: K_SOURCE, value: v, filter: undefined, tail: 'e.event_source = ?', param: v };
    case 'ResourceType': {
      const f = "instr(',' || e.resource_types || ',', ',' || ? || ',') > 0";
      return { kind: K_TIME, value: '', filter: f, tail: f, param: v };
    }
    case 'EventId': {
      const t = eventIdTime(v) ?? -1;
      return { kind: K_TIME, value: '', filter: 'e.event_id = ?', tail: 'e.event_id = ?', param: v, lower: t, upper: t };
    }
  }
}

/** Opening options of the trail. */
export interface SqliteAuditStoreOptions {
  /** The trail's directory (`<data dir>/audit`). */
  readonly dir: string;
  /** Query only (LookupEvents, verify, export): never creates or writes. */
  readonly readonly?: boolean;
  readonly busyTimeoutMs?: number;
  /**
   * The writer thread of stream `journalOwner` (issue 11): commits to that stream go through its
   * journal; other streams opened for writing replay theirs. Unset: no journal is written
   * (the primary's main thread, tools), journals are still read when read-only.
   */
  readonly journalOwner?: number;
  /** Size of a new journal (default JOURNAL_BYTES; tests make it small to reach the wrap-around). */
  readonly journalBytes?: number;
  /** The apply thread of stream `writesBehind`: that stream opens in `behind` mode (issue 11). */
  readonly writesBehind?: number;
}

function open(path: string, readonly: boolean, busyTimeoutMs: number): Connection {
  const db = new Database(path, { readonly, fileMustExist: readonly }) as unknown as Connection;
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  if (!readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
  }
  return db;
}

/**
 * One stream file.
 *
 * `own` mode (the stream's writer thread; issue 11, "journal first"): a commit chains its
 * records from the head kept in memory, writes them as one journal frame and fdatasyncs it —
 * that is the durability point, and SQLite is not touched. The frames wait in memory and are
 * applied to SQLite behind the acknowledgements in larger transactions (`apply`, called by the
 * writer thread when enough records wait or after a short delay, and before anything that reads
 * SQLite for writing: recovery, a probe, the journal's wrap-around, close). A crash loses only
 * SQLite's copy: the next writer to open the stream applies the frames again (`#replay`), and
 * until then every reader (LookupEvents, `audit verify`, digests) reads the frames past SQLite's
 * `applied_frame` from the journal itself, so an acknowledged record is never missing anywhere.
 */
export class SqliteAuditStream implements AuditStream {
  readonly stream: number;
  readonly #db: Connection;
  readonly #stmt: (sql: string) => Statement;
  readonly #journalPath: string;
  readonly #mode: JournalMode | undefined;
  /** `own` mode: the journal, the next frame's number, the chain head, and the frames SQLite has not applied yet. */
  #journal: AuditJournal | undefined;
  #nextFrame = 1;
  #head: ChainHead | undefined;
  #pending: PendingFrame[] = [];
  #pendingRecords = 0;
  /** The synchronous setting this connection returns to after unsynced index work. */
  readonly #sync: 'FULL' | 'NORMAL';

  readonly #journalBytes: number | undefined;
  readonly #busyMs: number;

  constructor(path: string, stream: number, readonly: boolean, busyTimeoutMs: number, mode?: JournalMode, journalBytes?: number) {
    this.#journalBytes = journalBytes;
    this.#busyMs = busyTimeoutMs;
    this.stream = stream;
    this.#db = open(path, readonly, busyTimeoutMs);
    this.#stmt = statementCache(this.#db);
    this.#journalPath = path.replace(/\.db$/, '.journal');
    this.#mode = readonly ? 'read' : mode;
    this.#sync = this.#mode === 'own' || this.#mode === 'behind' ? 'NORMAL' : 'FULL';
    // The lookup index grows at one spot per user, key and event name: keep those pages cached.
    this.#db.pragma(`cache_size = ${readonly ? -16384 : -65536}`);
    if (!readonly) {
      // Checkpoints run after acknowledgements (checkpoint()), never inside a commit.
      this.#db.pragma('wal_autocheckpoint = 0');
      this.#db.pragma('journal_size_limit = 67108864');
      this.#db.exec(STREAM_SCHEMA);
      if (this.#mode === 'own' || this.#mode === 'replay') this.#replay();
      if (this.#mode === 'own') this.#openJournal();
      if (this.#mode === 'behind') this.#db.pragma('synchronous = NORMAL');
    }
  }

  /** The frame SQLite has applied through (0 before any). */
  #applied(): number {
    return ((this.#stmt('SELECT applied_frame FROM journal_state WHERE id = 1').get() as Row | undefined)?.applied_frame as number | undefined) ?? 0;
  }

  /** The frames past `applied` on disk now (read from where the last applied frame ended, if known). */
  #framesAfter(applied: number): JournalFrame[] {
    let hint: number | undefined;
    try {
      const pos = this.#stmt('SELECT frame, end_offset FROM journal_pos WHERE id = 1').get() as Row | undefined;
      if (pos !== undefined && pos.frame === applied) hint = pos.end_offset as number;
    } catch {
      // a stream file older than journal_pos (read-only): scan from the start
    }
    return readJournalFrom(this.#journalPath, applied + 1, hint);
  }

  /**
   * Applies the journal's frames SQLite does not have (a crash lost them, or another process's
   * writer has not applied them yet), in one synchronous transaction. Under the stream's write
   * lock; frames already applied are skipped, so the owner and the primary may both do it.
   */
  #replay(): void {
    if (!existsSync(this.#journalPath)) return;
    this.#db
      .transaction(() => {
        for (const f of this.#framesAfter(this.#applied())) this.#applyFrame(f.frame, JSON.parse(f.payload.toString('utf8')) as FramePayload, f.end);
      })
      .immediate();
  }

  /**
   * `behind` mode (the writer's apply thread): applies the journal's frames numbered up to
   * `through` — the last frame the writer has fdatasync'd — that SQLite does not have yet, in
   * one transaction without fsync (the journal holds them durably). Frames past `through` are
   * never read: the writer may still fail and rewrite them. Returns how many records it applied.
   *
   * When the lookup index is current (the usual case), the rows applied are indexed in the same
   * transaction, from the frame's values in memory: one transaction per step instead of two, and
   * no reading back of the rows just written (issue 11: the apply thread's CPU per record). When
   * it is behind (the writer thread applied frames itself, or a restart), `index()` catches up.
   */
  applyThrough(through: number): number {
    if (this.#mode !== 'behind') throw new Error('applyThrough: not a write-behind connection');
    if (through <= this.#applied()) return 0;
    return this.#db
      .transaction(() => {
        const info = this.#stmt('SELECT head_seq, indexed_through FROM stream_info WHERE id = 1').get() as Row | undefined;
        const indexing = info !== undefined && (info.indexed_through as number) >= (info.head_seq as number);
        const add = this.#stmt('INSERT OR IGNORE INTO lookup_index (kind, account, value, event_time, seq) VALUES (?, ?, ?, ?, ?)');
        let n = 0;
        let lastSeq = 0;
        for (const f of this.#framesAfter(this.#applied())) {
          if (f.frame > through) break;
          const p = JSON.parse(f.payload.toString('utf8')) as FramePayload;
          this.#applyFrame(f.frame, p, f.end);
          n += p.e.length + p.i.length;
          if (!indexing) continue;
          for (const r of p.e) {
            for (const [kind, value] of frameRowEntries(r)) add.run(kind, r[5], value, r[3], r[0]);
            lastSeq = r[0];
          }
        }
        if (lastSeq > 0) this.#stmt('UPDATE stream_info SET indexed_through = ? WHERE id = 1').run(lastSeq);
        return n;
      })
      .immediate();
  }

  /**
   * `own` mode: drops from memory the frames SQLite has applied meanwhile (the apply thread's
   * connection applies them; issue 11). Returns how many records still wait.
   */
  forgetApplied(): number {
    if (this.#pending.length === 0) return 0;
    const applied = this.#applied();
    if ((this.#pending[0] as PendingFrame).frame > applied) return this.#pendingRecords;
    this.#pending = this.#pending.filter((f) => f.frame > applied);
    this.#pendingRecords = this.#pending.reduce((n, f) => n + f.records, 0);
    return this.#pendingRecords;
  }

  /** `own` mode: the last frame made durable in the journal (0 before any). */
  get journaledThrough(): number {
    return this.#nextFrame - 1;
  }

  /** Another process's stream (primary): applies what its writer journaled but has not applied yet. */
  catchUp(): void {
    if (this.#mode === 'replay') this.#replay();
  }

  /** Writes one journal frame's rows and intents into SQLite (inside a transaction). */
  #applyFrame(frame: number, p: FramePayload, end: number): void {
    const add = this.#stmt('INSERT OR REPLACE INTO intents (id, owner, created_at, event) VALUES (?, ?, ?, ?)');
    for (const [id, owner, createdAt, event] of p.i) add.run(id, owner, createdAt, event);
    const h = this.#stmt('SELECT head_seq, head_hash FROM stream_info WHERE id = 1').get() as Row | undefined;
    if (h === undefined) throw new Error(`audit stream ${this.stream} is not initialized`);
    let seq = h.head_seq as number;
    let hash = h.head_hash as Buffer;
    if (p.e.length > 0) {
      const insert = this.#insertStatement();
      const complete = this.#stmt('DELETE FROM intents WHERE id = ?');
      for (const r of p.e) {
        if (r[0] !== seq + 1 || r[1] !== hash.toString('hex')) {
          throw new Error(`audit stream ${this.stream}: journal frame ${frame} does not continue record ${seq}`);
        }
        seq = r[0];
        hash = Buffer.from(r[2], 'hex');
        insert.run(seq, r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], Buffer.from(r[1], 'hex'), hash);
        if (r[15] !== null) complete.run(r[15]);
      }
      this.#stmt('UPDATE stream_info SET head_seq = ?, head_hash = ? WHERE id = 1').run(seq, hash);
    }
    this.#setApplied(frame);
    this.#stmt('INSERT INTO journal_pos (id, frame, end_offset) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET frame = excluded.frame, end_offset = excluded.end_offset').run(frame, end);
  }

  #setApplied(frame: number): void {
    this.#stmt('INSERT INTO journal_state (id, applied_frame) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET applied_frame = excluded.applied_frame').run(frame);
  }

  /**
   * `own` mode at open: SQLite is made durable (it now holds every frame), then the journal
   * starts again at offset 0, so its frames always continue a durable SQLite state.
   */
  #openJournal(): void {
    this.#durable();
    this.#journal = AuditJournal.open(this.#journalPath, this.#journalBytes);
    this.#journal.restart(0);
    this.#nextFrame = this.#applied() + 1;
    // (a stream not initialized yet gets its head from initialize())
    this.#db.pragma('synchronous = NORMAL');
  }

  #sqliteHead(): ChainHead {
    const r = this.#stmt('SELECT head_seq, head_hash FROM stream_info WHERE id = 1').get() as Row | undefined;
    if (r === undefined) throw new Error(`audit stream ${this.stream} is not initialized`);
    return { seq: r.head_seq as number, hash: r.head_hash as Buffer };
  }

  /** One synchronous (fsync'd) write: everything committed before is durable. */
  #durable(): void {
    this.#db.pragma('synchronous = FULL');
    try {
      this.#db.transaction(() => this.#setApplied(this.#applied())).immediate();
    } finally {
      this.#db.pragma(`synchronous = ${this.#sync}`);
    }
  }

  #insertStatement(): Statement {
    return this.#stmt(
      `INSERT INTO events (seq, event_time, event_id, account, event_name, event_source, read_only, username, access_key_id,
        request_id, resource_types, resource_names, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  /**
   * Runs background work (applying, indexing) waiting at most `busyMs` for the write lock instead
   * of the connection's busy timeout: the writer thread must not stall its commits behind
   * another holder of the lock for work that can wait.
   */
  inBackground<T>(busyMs: number, work: () => T): T {
    this.#db.pragma(`busy_timeout = ${busyMs}`);
    try {
      return work();
    } finally {
      this.#db.pragma(`busy_timeout = ${this.#busyMs}`);
    }
  }

  /** Records journaled and acknowledged but not yet in SQLite (`own` mode). */
  get pendingRecords(): number {
    return this.#pendingRecords;
  }

  /**
   * `own` mode: applies the frames that wait to SQLite, in one transaction without fsync (the
   * journal holds them durably). Throws if SQLite cannot be written; they stay pending then.
   * Returns how many records were applied.
   */
  apply(): number {
    if (this.#pending.length === 0) return 0;
    const frames = this.#pending;
    this.#db
      .transaction(() => {
        const applied = this.#applied();
        for (const f of frames) if (f.frame > applied) this.#applyFrame(f.frame, JSON.parse(f.bytes.toString('utf8')) as FramePayload, f.end);
      })
      .immediate();
    const n = this.#pendingRecords;
    this.#pending = [];
    this.#pendingRecords = 0;
    return n;
  }

  /**
   * `own` mode: one journal frame — records chained after the in-memory head, intents stored —
   * fdatasync'd. Throws (changing nothing) if it could not be made durable.
   */
  #commitJournal(j: AuditJournal, events: readonly AuditAppend[], intents: FramePayload['i'], link: ChainLink, sync = true): ChainHead {
    const head = (this.#head ??= this.#sqliteHead());
    const rows: FrameRow[] = [];
    const next = chainRows(events, head, link, rows);
    const payload: FramePayload = { e: rows, i: intents };
    const bytes = Buffer.from(JSON.stringify(payload), 'utf8');
    if (!j.fits(bytes.length)) {
      // Full: SQLite must hold every frame durably before the journal starts over.
      this.apply();
      this.#durable();
      j.restart(bytes.length);
    }
    const frame = this.#nextFrame;
    const end = j.write(frame, bytes, sync);
    this.#nextFrame = frame + 1;
    this.#head = next;
    this.#pending.push({ frame, bytes, records: rows.length + intents.length, end });
    this.#pendingRecords += rows.length + intents.length;
    return next;
  }

  /** Runs `work` in a synchronous write transaction (no journal: tools, tests, other streams). */
  #write<T>(work: () => T): T {
    return this.#db.transaction(work).immediate();
  }

  initialize(trailId: string, genesis: Buffer): StreamInfo {
    this.#stmt(
      'INSERT OR IGNORE INTO stream_info (id, trail_id, stream, head_seq, head_hash, indexed_through, pruned_through) VALUES (1, ?, ?, 0, ?, 0, 0)',
    ).run(trailId, this.stream, genesis);
    return this.info();
  }

  info(): StreamInfo {
    const r = this.#stmt('SELECT * FROM stream_info WHERE id = 1').get() as Row | undefined;
    if (r === undefined) throw new Error(`audit stream ${this.stream} is not initialized`);
    const tail = this.#mode === 'own' ? undefined : this.#journalOnly().at(-1);
    const own = this.#mode === 'own' ? (this.#head ??= { seq: r.head_seq as number, hash: r.head_hash as Buffer }) : undefined;
    return {
      trailId: r.trail_id as string,
      stream: r.stream as number,
      head: own ?? (tail === undefined ? { seq: r.head_seq as number, hash: r.head_hash as Buffer } : { seq: tail.seq, hash: tail.hash }),
      indexedThrough: r.indexed_through as number,
      prunedThrough: r.pruned_through as number,
    };
  }

  #append(events: readonly AuditAppend[], link: ChainLink): ChainHead {
    const h = this.#sqliteHead();
    if (events.length === 0) return h;
    const rows: FrameRow[] = [];
    const head = chainRows(events, h, link, rows);
    const insert = this.#insertStatement();
    const complete = this.#stmt('DELETE FROM intents WHERE id = ?');
    for (const r of rows) {
      insert.run(r[0], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], Buffer.from(r[1], 'hex'), Buffer.from(r[2], 'hex'));
      if (r[15] !== null) complete.run(r[15]);
    }
    this.#stmt('UPDATE stream_info SET head_seq = ?, head_hash = ? WHERE id = 1').run(head.seq, head.hash);
    return head;
  }

  /**
   * `own` mode: writes one journal frame WITHOUT making it durable — the caller has it
   * fdatasync'd (`journalFd`) before acknowledging it (the writer thread, issue 11: the
   * next frame is prepared and written while the previous one is being synced). Throws, changing
   * nothing, if it could not be written.
   */
  commitUnsynced(events: readonly AuditAppend[], intents: readonly AuditIntent[], recover: readonly string[], link: ChainLink): ChainHead {
    const j = this.#journal;
    if (j === undefined) throw new Error('commitUnsynced: not the journal owner');
    return this.#commitOwn(j, events, intents, recover, link, false);
  }

  /** `own` mode: the journal's file descriptor (its fdatasync makes every frame written so far durable). */
  get journalFd(): number {
    if (this.#journal === undefined) throw new Error('journalFd: not the journal owner');
    return this.#journal.fd;
  }

  #commitOwn(j: AuditJournal, events: readonly AuditAppend[], intents: readonly AuditIntent[], recover: readonly string[], link: ChainLink, sync: boolean): ChainHead {
    // Intents named by `recover` may still wait in memory: SQLite must hold them to be read.
    if (recover.length > 0) this.apply();
    const stored: FramePayload['i'] = intents.map((i) => [i.id, i.owner, i.createdAt, JSON.stringify(i.event)]);
    const all = recover.length > 0 ? [...events, ...this.#intentRecords(recover)] : events;
    return this.#commitJournal(j, all, stored, link, sync);
  }

  commit(events: readonly AuditAppend[], intents: readonly AuditIntent[], recover: readonly string[], link: ChainLink): ChainHead {
    const j = this.#journal;
    if (j !== undefined) return this.#commitOwn(j, events, intents, recover, link, true);
    return this.#write(() => {
      if (intents.length > 0) {
        const add = this.#stmt('INSERT OR REPLACE INTO intents (id, owner, created_at, event) VALUES (?, ?, ?, ?)');
        for (const i of intents) add.run(i.id, i.owner, i.createdAt, JSON.stringify(i.event));
      }
      return this.#append(recover.length > 0 ? [...events, ...this.#intentRecords(recover)] : events, link);
    });
  }

  /** The outcome-unknown records of the stored intents `ids` names (those still pending). */
  #intentRecords(ids: readonly string[]): AuditAppend[] {
    const get = this.#stmt('SELECT event FROM intents WHERE id = ?');
    const out: AuditAppend[] = [];
    for (const id of ids) {
      const r = get.get(id) as Row | undefined;
      if (r !== undefined) out.push({ ...(JSON.parse(r.event as string) as AuditAppend), completes: id });
    }
    return out;
  }

  index(max: number): number {
    // Only what SQLite holds can be indexed: apply what waits first.
    this.apply();
    // What SQLite holds (not the journal's tail a reader's info() adds: that cannot be indexed yet).
    const r = this.#stmt('SELECT head_seq, indexed_through FROM stream_info WHERE id = 1').get() as Row | undefined;
    if (r === undefined || (r.indexed_through as number) >= (r.head_seq as number)) return 0;
    // Derived data: no fsync. A later durable commit (or checkpoint) syncs these pages too, and
    // after a crash whatever is missing is simply indexed again. (A connection at NORMAL already
    // commits without fsync in WAL mode: only a FULL one needs switching.)
    const toggle = this.#sync === 'FULL';
    if (toggle) this.#db.pragma('synchronous = OFF');
    // (restored to this connection's setting below)
    try {
      return this.#db
        .transaction(() => {
          const from = (this.#stmt('SELECT indexed_through FROM stream_info WHERE id = 1').get() as Row).indexed_through as number;
          const rows = this.#stmt(
            `SELECT seq, event_time, account, event_name, event_source, read_only, username, access_key_id, resource_names
             FROM events WHERE seq > ? ORDER BY seq LIMIT ?`,
          ).all(from, max) as Row[];
          if (rows.length === 0) return 0;
          const add = this.#stmt('INSERT OR IGNORE INTO lookup_index (kind, account, value, event_time, seq) VALUES (?, ?, ?, ?, ?)');
          for (const r of rows) for (const [kind, value] of indexEntries(r)) add.run(kind, r.account, value, r.event_time, r.seq);
          this.#stmt('UPDATE stream_info SET indexed_through = ? WHERE id = 1').run((rows[rows.length - 1] as Row).seq);
          return rows.length;
        })
        .immediate();
    } finally {
      if (toggle) this.#db.pragma(`synchronous = ${this.#sync}`);
    }
  }

  checkpoint(): void {
    this.#db.pragma('wal_checkpoint(PASSIVE)');
  }

  touch(now: number): void {
    const j = this.#journal;
    if (j !== undefined) {
      // The probe exercises both writes: SQLite (what waits is applied) and a journal frame.
      this.apply();
      this.#commitJournal(j, [], [], () => Buffer.alloc(0));
      return;
    }
    this.#write(() => this.#stmt('UPDATE stream_info SET trail_id = trail_id WHERE id = ? AND ? > 0').run(1, now));
  }

  intents(): AuditIntent[] {
    if (this.#mode === 'own') this.apply();
    // One read transaction: the intents table and the applied frame it reflects agree.
    return this.#db.transaction(() => this.#intentsNow())();
  }

  #intentsNow(): AuditIntent[] {
    const rows = this.#stmt('SELECT id, owner, created_at, event FROM intents ORDER BY created_at, id').all() as Row[];
    const out = new Map<string, AuditIntent>();
    for (const r of rows) {
      out.set(r.id as string, { id: r.id as string, owner: r.owner as number, createdAt: r.created_at as number, event: JSON.parse(r.event as string) as AuditAppend });
    }
    if (this.#mode !== 'own') {
      // Frames SQLite has not applied yet store and complete intents too.
      for (const p of this.#tailPayloads()) {
        for (const [id, owner, createdAt, event] of p.i) out.set(id, { id, owner, createdAt, event: JSON.parse(event) as AuditAppend });
        for (const r of p.e) if (r[15] !== null) out.delete(r[15]);
      }
    }
    return [...out.values()].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Deletes stored intents (the primary recorded their outcome in its own stream). */
  forgetIntents(ids: readonly string[]): void {
    if (ids.length === 0) return;
    this.#write(() => {
      const del = this.#stmt('DELETE FROM intents WHERE id = ?');
      for (const id of ids) del.run(id);
    });
  }

  recoverIntents(pick: (intent: AuditIntent) => boolean, link: ChainLink): number {
    const j = this.#journal;
    if (j !== undefined) {
      const chosen = this.intents().filter(pick);
      if (chosen.length > 0) this.#commitJournal(j, chosen.map((i) => ({ ...i.event, completes: i.id })), [], link);
      return chosen.length;
    }
    this.catchUp();
    if (this.intents().filter(pick).length === 0) return 0;
    return this.#write(() => {
      // Chosen again under the write lock: another writer may have completed some meanwhile.
      const now = this.intents().filter(pick);
      this.#append(now.map((i) => ({ ...i.event, completes: i.id })), link);
      return now.length;
    });
  }

  prune(seq: number): number {
    // Only what SQLite holds can be deleted. This stream's writer applies what waits first;
    // another stream's frames not applied yet by their writer stay (pruning past them would let
    // that apply re-insert records below the cut): the next prune, which starts from
    // pruned_through, takes them.
    if (this.#mode === 'own') this.apply();
    const through = Math.min(seq, this.#sqliteHead().seq);
    // Short transactions, oldest records first, so the stream's writer never waits long.
    let removed = 0;
    for (let from = this.info().prunedThrough; from < through; ) {
      const to = Math.min(through, from + 5000);
      removed += this.#db
        .transaction(() => {
          const n = this.#stmt('DELETE FROM events WHERE seq <= ?').run(to).changes;
          this.#stmt('UPDATE stream_info SET pruned_through = max(pruned_through, ?) WHERE id = 1').run(to);
          return n;
        })
        .immediate();
      from = to;
    }
    // Index rows are keyed by attribute, not by seq: sweep them in short transactions so the
    // stream's writer interleaves. Lookups join on the records, so unswept rows are never returned.
    let cursor: unknown[] = [-1, '', '', -1, -1];
    const del = this.#stmt('DELETE FROM lookup_index WHERE kind = ? AND account = ? AND value = ? AND event_time = ? AND seq = ?');
    for (;;) {
      const rows = this.#stmt(
        `SELECT kind, account, value, event_time, seq FROM lookup_index WHERE (kind, account, value, event_time, seq) > (?, ?, ?, ?, ?)
         ORDER BY kind, account, value, event_time, seq LIMIT 5000`,
      ).all(...cursor) as Row[];
      if (rows.length === 0) break;
      const last = rows[rows.length - 1] as Row;
      cursor = [last.kind, last.account, last.value, last.event_time, last.seq];
      this.#db
        .transaction(() => {
          for (const r of rows) if ((r.seq as number) <= through) del.run(r.kind, r.account, r.value, r.event_time, r.seq);
        })
        .immediate();
    }
    return removed;
  }

  /** This stream's part of a lookup page (see AuditStore.lookup for the cursor). */
  lookup(q: LookupQuery, p: Plan): AuditEventRow[] {
    let lower = Math.max(q.startTime ?? Number.MIN_SAFE_INTEGER, p.lower ?? Number.MIN_SAFE_INTEGER);
    let upper = Math.min(q.endTime ?? Number.MAX_SAFE_INTEGER, p.upper ?? Number.MAX_SAFE_INTEGER);
    let tieTime = Number.MAX_SAFE_INTEGER;
    let tieSeq = Number.MAX_SAFE_INTEGER;
    const a = q.after;
    if (a !== undefined) {
      // Newest-first order is (time, stream, seq): streams after the cursor's continue strictly
      // before its time, its own stream before its seq at that time, earlier streams at it.
      if (this.stream > a.stream) upper = Math.min(upper, a.time - 1);
      else upper = Math.min(upper, a.time);
      if (this.stream === a.stream) {
        tieTime = a.time;
        tieSeq = a.seq;
      }
    }
    if (lower > upper) return [];
    const params = p.param === undefined ? [] : [p.param];
    return this.#db.transaction(() => {
      const through = (this.#stmt('SELECT indexed_through FROM stream_info WHERE id = 1').get() as Row | undefined)?.indexed_through as number ?? 0;
      const indexed = this.#stmt(
        `SELECT ${EVENT_COLUMNS} FROM lookup_index i JOIN events e ON e.seq = i.seq
         WHERE i.kind = ? AND i.account = ? AND i.value = ? AND i.event_time >= ? AND i.event_time <= ?
           AND NOT (i.event_time = ? AND i.seq >= ?) AND i.seq <= ?${p.filter === undefined ? '' : ` AND ${p.filter}`}
         ORDER BY i.event_time DESC, i.seq DESC LIMIT ?`,
      ).all(p.kind, q.account, p.value, lower, upper, tieTime, tieSeq, through, ...(p.filter === undefined ? [] : params), q.limit) as Row[];
      const tail = this.#stmt(
        `SELECT ${EVENT_COLUMNS} FROM events e
         WHERE e.seq > ? AND e.account = ? AND e.event_time >= ? AND e.event_time <= ? AND NOT (e.event_time = ? AND e.seq >= ?)${
           p.tail === undefined ? '' : ` AND ${p.tail}`
         }
         ORDER BY e.event_time DESC, e.seq DESC LIMIT ?`,
      ).all(through, q.account, lower, upper, tieTime, tieSeq, ...(p.tail === undefined ? [] : params), q.limit) as Row[];
      const out = [...indexed, ...tail].map((r) => eventFromRow(this.stream, r));
      // Acknowledged records the writer has not applied to SQLite yet (or that a crash left
      // only in the journal): read from the journal, so LookupEvents never lags the journal.
      for (const r of this.#journalOnly()) if (tailMatches(r, q, lower, upper, tieTime, tieSeq)) out.push(r);
      return out;
    })();
  }

  *events(from: number, to: number = Number.MAX_SAFE_INTEGER): IterableIterator<AuditEventRow> {
    if (this.#mode === 'own') this.apply();
    // The journal's tail first: SQLite read afterwards holds at least every frame before it, so
    // a frame the writer applies meanwhile is read from one or the other, never from neither.
    const tail = this.#journalOnly();
    // A fresh statement: iterate() keeps it busy until the loop ends.
    const stmt = this.#db.prepare(`SELECT ${EVENT_COLUMNS} FROM events e WHERE e.seq >= ? AND e.seq <= ? ORDER BY e.seq`);
    let last = from - 1;
    for (const r of stmt.iterate(from, to)) {
      const row = eventFromRow(this.stream, r as Row);
      last = row.seq;
      yield row;
    }
    // Records only in the journal (not applied yet, or a crash lost SQLite's copy) follow.
    for (const r of tail) if (r.seq > last && r.seq >= from && r.seq <= to) yield r;
  }

  /**
   * Not the writer: journal records past SQLite's head, in order (frames the writer has not
   * applied yet, or that a crash left only in the journal; the next writer applies them).
   */
  #journalOnly(): AuditEventRow[] {
    if (this.#mode === 'own') return [];
    const head = (this.#stmt('SELECT head_seq FROM stream_info WHERE id = 1').get() as Row | undefined)?.head_seq as number | undefined ?? 0;
    const out: AuditEventRow[] = [];
    for (const p of this.#tailPayloads()) for (const r of p.e) if (r[0] > head) out.push(rowOfFrame(this.stream, r));
    return out;
  }

  /** Not the writer: the payloads of the journal frames SQLite has not applied. */
  #tailPayloads(): FramePayload[] {
    if (this.#mode === 'own') return [];
    return this.#framesAfter(this.#applied0()).map((f) => JSON.parse(f.payload.toString('utf8')) as FramePayload);
  }

  /** applied_frame, also on a stream file older than the journal (no table). */
  #applied0(): number {
    try {
      return this.#applied();
    } catch {
      return 0;
    }
  }

  findByHash(hash: Buffer): number | undefined {
    const r = this.#stmt('SELECT seq FROM events WHERE hash = ?').get(hash) as Row | undefined;
    return r === undefined ? undefined : (r.seq as number);
  }

  indexConsistent(): boolean {
    // Two sequential scans compared as sets: the entries the records imply and the entries
    // stored, each folded into a count and an XOR of SHA-256 digests (entries are unique).
    const { indexedThrough, prunedThrough } = this.info();
    const fold = (acc: { n: number; x: Buffer }, kind: unknown, account: unknown, value: unknown, time: unknown, seq: unknown): void => {
      const d = oneShotHash('sha256', `${kind}\0${account}\0${value}\0${time}\0${seq}`, 'buffer') as unknown as Buffer;
      for (let i = 0; i < 32; i += 4) acc.x.writeUInt32LE((acc.x.readUInt32LE(i) ^ d.readUInt32LE(i)) >>> 0, i);
      acc.n += 1;
    };
    const expected = { n: 0, x: Buffer.alloc(32) };
    const records = this.#db.prepare(
      'SELECT seq, event_time, account, event_name, event_source, read_only, username, access_key_id, resource_names FROM events WHERE seq > ? AND seq <= ?',
    );
    for (const r of records.iterate(prunedThrough, indexedThrough)) {
      for (const [kind, value] of indexEntries(r as Row)) fold(expected, kind, (r as Row).account, value, (r as Row).event_time, (r as Row).seq);
    }
    const actual = { n: 0, x: Buffer.alloc(32) };
    const entries = this.#db.prepare('SELECT kind, account, value, event_time, seq FROM lookup_index WHERE seq > ? AND seq <= ?');
    for (const r of entries.iterate(prunedThrough, indexedThrough)) {
      const e = r as Row;
      fold(actual, e.kind, e.account, e.value, e.event_time, e.seq);
    }
    return expected.n === actual.n && expected.x.equals(actual.x);
  }

  close(): void {
    try {
      this.apply();
    } catch {
      // applied from the journal when the stream is next opened
    }
    this.#journal?.close();
    this.#journal = undefined;
    this.#db.close();
  }
}

/** The SQLite trail. */
export class SqliteAuditStore implements AuditStore {
  readonly #dir: string;
  readonly #readonly: boolean;
  readonly #busy: number;
  readonly #journalOwner: number | undefined;
  readonly #journalBytes: number | undefined;
  readonly #writesBehind: number | undefined;
  readonly #db: Connection;
  readonly #streams = new Map<number, SqliteAuditStream>();
  readonly #stmt: (sql: string) => Statement;

  constructor(options: SqliteAuditStoreOptions) {
    this.#dir = options.dir;
    this.#readonly = options.readonly === true;
    this.#busy = options.busyTimeoutMs ?? 10_000;
    this.#journalOwner = options.journalOwner;
    this.#journalBytes = options.journalBytes;
    this.#writesBehind = options.writesBehind;
    if (!this.#readonly) mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
    this.#db = open(join(this.#dir, TRAIL_FILE), this.#readonly, this.#busy);
    this.#stmt = statementCache(this.#db);
    if (!this.#readonly) this.#db.exec(TRAIL_SCHEMA);
  }

  /** Whether a trail exists in `dir`. */
  static exists(dir: string): boolean {
    return existsSync(join(dir, TRAIL_FILE));
  }

  initialize(create: () => string): string {
    this.#db.transaction(() => {
      if (this.getSetting('trail_id') === undefined) this.#stmt('INSERT INTO settings (name, value) VALUES (?, ?)').run('trail_id', create());
    }).immediate();
    return this.trailId();
  }

  trailId(): string {
    const id = this.getSetting('trail_id');
    if (id === undefined) throw new Error('the audit trail is not initialized');
    return id;
  }

  getSetting(name: string): string | undefined {
    const r = this.#stmt('SELECT value FROM settings WHERE name = ?').get(name) as Row | undefined;
    return r === undefined ? undefined : (r.value as string);
  }

  setSettingIfAbsent(name: string, value: string): string {
    this.#stmt('INSERT OR IGNORE INTO settings (name, value) VALUES (?, ?)').run(name, value);
    return this.getSetting(name) as string;
  }

  streamIds(): number[] {
    const ids: number[] = [];
    for (const f of readdirSync(this.#dir)) {
      const m = STREAM_FILE.exec(f);
      if (m !== null) ids.push(Number(m[1]));
    }
    return ids.sort((a, b) => a - b);
  }

  stream(n: number): SqliteAuditStream {
    let s = this.#streams.get(n);
    if (s === undefined) {
      const owner = this.#journalOwner;
      const mode = this.#readonly
        ? 'read'
        : this.#writesBehind === n
          ? 'behind'
          : owner === undefined
            ? undefined
            : owner === n
              ? 'own'
              : 'replay';
      s = new SqliteAuditStream(join(this.#dir, `stream-${n}.db`), n, this.#readonly, this.#busy, mode, mode === 'own' ? this.#journalBytes : undefined);
      this.#streams.set(n, s);
    }
    return s;
  }

  digests(): AuditDigestRow[] {
    return this.#stmt('SELECT seq, body, signature FROM digests ORDER BY seq').all() as AuditDigestRow[];
  }

  writeDigest(build: (last: AuditDigestRow | undefined) => AuditDigestRow | undefined): AuditDigestRow | undefined {
    return this.#db
      .transaction(() => {
        const last = this.#stmt('SELECT seq, body, signature FROM digests ORDER BY seq DESC LIMIT 1').get() as AuditDigestRow | undefined;
        const digest = build(last);
        if (digest !== undefined) this.#stmt('INSERT INTO digests (seq, body, signature) VALUES (?, ?, ?)').run(digest.seq, digest.body, digest.signature);
        return digest;
      })
      .immediate();
  }

  deleteDigestsThrough(seq: number): void {
    this.#stmt('DELETE FROM digests WHERE seq <= ?').run(seq);
  }

  lookup(q: LookupQuery): AuditEventRow[] {
    const p = plan(q);
    const rows: AuditEventRow[] = [];
    for (const n of this.streamIds()) {
      let s: SqliteAuditStream;
      try {
        s = this.stream(n);
      } catch {
        continue; // a stream file being created right now
      }
      for (const r of s.lookup(q, p)) rows.push(r);
    }
    rows.sort((x, y) => y.time - x.time || y.stream - x.stream || y.seq - x.seq);
    return rows.slice(0, q.limit);
  }

  close(): void {
    for (const s of this.#streams.values()) s.close();
    this.#streams.clear();
    this.#db.close();
  }
}
