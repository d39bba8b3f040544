/**
 * The audit trail in PostgreSQL (issue 14): the tables of migration 1 holding what the SQLite
 * trail keeps in trail.db and stream-N.db — settings, signed digests, one row of bookkeeping per
 * stream, the records of every stream, pending intents. Asynchronous, unlike the SQLite adapter
 * (audit-log.ts's `AuditStream`/`AuditStore` are synchronous because SQLite runs on a writer
 * thread); the record format, the stored columns and the chain are the same, so one verifier's
 * logic serves both.
 *
 * A commit appends a batch to one stream in one transaction: it locks the stream's row (SELECT
 * ... FOR UPDATE), links each record to the head read there, and moves the head. The head is
 * never cached across commits, so a commit whose outcome the caller never learnt (a timeout, a
 * dropped connection) cannot fork the chain, and two writers that share a stream by mistake
 * still produce one continuous chain. The chain function is passed in (src/audit/chain.ts's
 * `chainLink`), as for the SQLite adapter: the store layer does not import the audit layer.
 */
import type { PoolClient, QueryResultRow } from 'pg';
import type { AuditAppend, AuditDigestRow, AuditEventRow, AuditIntent, ChainHead, ChainLink, LookupAttributeKey, LookupQuery, PruneDecision, PruneView, StreamInfo } from '../audit-log';
import type { AuditReader } from '../audit-reader';
import { classify, type PostgresPool, type Tx } from './connection';

/** The advisory lock key under which digests are written (ASCII "kh-dgst"). */
const DIGEST_LOCK_KEY = '30232366675358580';

const EVENT_COLUMNS =
  'stream, seq, event_time, event_id, account, event_name, event_source, read_only, username, access_key_id, request_id, resource_types, resource_names, body, prev_hash, hash';

interface EventDbRow {
  stream: number;
  seq: string;
  event_time: string;
  event_id: string;
  account: string;
  event_name: string;
  event_source: string;
  read_only: boolean;
  username: string | null;
  access_key_id: string | null;
  request_id: string | null;
  resource_types: string;
  resource_names: string;
  body: string;
  prev_hash: Buffer;
  hash: Buffer;
}

function eventFromRow(r: EventDbRow): AuditEventRow {
  return {
    stream: r.stream,
    seq: Number(r.seq),
    time: Number(r.event_time),
    eventId: r.event_id,
    account: r.account,
    eventName: r.event_name,
    eventSource: r.event_source,
    readOnly: r.read_only,
    username: r.username,
    accessKeyId: r.access_key_id,
    requestId: r.request_id,
    resourceTypes: r.resource_types,
    resourceNames: r.resource_names,
    body: r.body,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** The resource columns of a record, as the SQLite adapter derives them (audit-log-sqlite.ts #append). */
function resourceColumns(e: AuditAppend): { types: string; names: string } {
  if (e.resources.length === 0) return { types: '', names: '' };
  if (e.resources.length === 1) return { types: (e.resources[0] as { type: string }).type, names: (e.resources[0] as { name: string }).name };
  return {
    types: [...new Set(e.resources.map((r) => r.type))].sort().join(','),
    names: [...new Set(e.resources.map((r) => r.name))].join('\n'),
  };
}

function checkStream(stream: number): void {
  if (!Number.isInteger(stream) || stream < 0 || stream > 2_147_483_647) throw new Error(`audit stream ${stream} is not a valid stream number`);
}

/** A batch linked to a head: the column arrays of its records, its intents, and the new head. */
interface LinkedBatch {
  readonly cols: readonly unknown[];
  readonly intents: readonly AuditIntent[];
  readonly completes: readonly string[];
  readonly head: ChainHead;
}

/** Links `events` after `head` (src/audit/chain.ts's link, passed in) into one column array per stored column. */
function linkBatch(head: ChainHead, events: readonly AuditAppend[], newIntents: readonly AuditIntent[], link: ChainLink): LinkedBatch {
  const completes = events.flatMap((e) => (e.completes === undefined ? [] : [e.completes]));
  const completed = new Set(completes);
  // Intents completed in this very commit need not be stored at all.
  const intents = newIntents.filter((i) => !completed.has(i.id));
  let seq = head.seq;
  let hash = head.hash;
  const cols: unknown[][] = Array.from({ length: 15 }, () => []);
  for (const e of events) {
    const prev = hash;
    seq += 1;
    hash = link(prev, e.body);
    const { types, names } = resourceColumns(e);
    const row = [seq, e.time, e.eventId, e.account, e.eventName, e.eventSource, e.readOnly, e.username, e.accessKeyId, e.requestId, types, names, e.body, prev, hash];
    for (let i = 0; i < 15; i++) (cols[i] as unknown[]).push(row[i]);
  }
  return { cols, intents, completes, head: { seq, hash } };
}

/**
 * The writes of a commit as common table expressions of one statement: the records (arrays, one
 * parameter per column: one round trip whatever the batch holds), the new intents, the completed
 * intents removed. Parameters: $1 stream, $2-$16 columns, $17-$20 intents, $21 completed ids.
 */
const WRITE_CTES = `ev AS (
    INSERT INTO audit_events (${EVENT_COLUMNS})
    SELECT $1, u.* FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::boolean[], $9::text[],
                             $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::bytea[], $16::bytea[]) AS u
  ), it AS (
    INSERT INTO audit_intents (id, stream, owner, created_at, event)
    SELECT i.id, $1, i.owner, i.created_at, i.event FROM unnest($17::text[], $18::integer[], $19::bigint[], $20::text[]) AS i(id, owner, created_at, event)
    ON CONFLICT (id) DO UPDATE SET stream = excluded.stream, owner = excluded.owner, created_at = excluded.created_at, event = excluded.event
  ), done AS (
    DELETE FROM audit_intents WHERE id = ANY($21::text[])
  )`;

/**
 * The fast path's one statement: WRITE_CTES applied only when the stream's head is still the one
 * this process last committed ($24/$25), which moves it. Prepared once per connection (its text
 * never changes), so a commit costs PostgreSQL no parsing or planning.
 */
const CONDITIONAL_COMMIT = `WITH moved AS (
    UPDATE audit_streams SET head_seq = $22, head_hash = $23 WHERE stream = $1 AND head_seq = $24 AND head_hash = $25 RETURNING stream
  ), ${WRITE_CTES.replace(/FROM unnest/g, 'FROM moved, unnest').replace('WHERE id = ANY($21::text[])', 'WHERE id = ANY($21::text[]) AND EXISTS (SELECT 1 FROM moved)')}
  SELECT count(*)::int AS moved FROM moved`;

/** The parameters of WRITE_CTES, then $22/$23: the new head. */
function writeParams(stream: number, w: LinkedBatch): unknown[] {
  return [
    stream, ...w.cols,
    w.intents.map((i) => i.id), w.intents.map((i) => i.owner), w.intents.map((i) => i.createdAt), w.intents.map((i) => JSON.stringify(i.event)),
    w.completes, w.head.seq, w.head.hash,
  ];
}

/** One commit's content. */
export interface AuditCommit {
  readonly events: readonly AuditAppend[];
  readonly intents: readonly AuditIntent[];
  /** Intents whose request's own record was lost: their outcome-unknown records are appended now. */
  readonly recover: readonly string[];
}

/** The PostgreSQL trail. */
export class PostgresAuditLog {
  readonly #pool: PostgresPool;
  /** The head each stream had after this object's last commit to it (the fast path's expectation). */
  readonly #heads = new Map<number, ChainHead>();

  /** The owner stored with this process's intents, per stream it claimed (audit-stream-claim.ts). */
  readonly #owners = new Map<number, number>();

  constructor(pool: PostgresPool) {
    this.#pool = pool;
  }

  /** Stores `owner` (the claim's fencing epoch) as the owner of every intent this object commits to `stream`. */
  ownIntentsAs(stream: number, owner: number): void {
    this.#owners.set(stream, owner);
  }

  /** Trail identity, creating it on first use (whichever node comes first). */
  async initialize(create: () => string): Promise<string> {
    await this.#pool.query('INSERT INTO audit_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', ['trail_id', create()]);
    return this.trailId();
  }

  async trailId(): Promise<string> {
    const id = await this.getSetting('trail_id');
    if (id === undefined) throw new Error('the audit trail is not initialized');
    return id;
  }

  async getSetting(name: string): Promise<string | undefined> {
    const rows = await this.#pool.query<{ value: string }>('SELECT value FROM audit_settings WHERE name = $1', [name]);
    return rows[0]?.value;
  }

  /** Sets `name` unless it exists; returns the stored value. */
  async setSettingIfAbsent(name: string, value: string): Promise<string> {
    await this.#pool.query('INSERT INTO audit_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, value]);
    return (await this.getSetting(name)) as string;
  }

  /** Creates stream `stream`'s bookkeeping unless it exists (its head at the genesis value). */
  async initializeStream(trailId: string, stream: number, genesis: Buffer): Promise<StreamInfo> {
    checkStream(stream);
    await this.#pool.query(
      'INSERT INTO audit_streams (stream, trail_id, head_seq, head_hash) VALUES ($1, $2, 0, $3) ON CONFLICT (stream) DO NOTHING',
      [stream, trailId, genesis],
    );
    return this.info(stream);
  }

  async info(stream: number): Promise<StreamInfo> {
    const rows = await this.#pool.query<{ trail_id: string; stream: number; head_seq: string; head_hash: Buffer; indexed_through: string; pruned_through: string }>(
      'SELECT trail_id, stream, head_seq, head_hash, indexed_through, pruned_through FROM audit_streams WHERE stream = $1',
      [stream],
    );
    const r = rows[0];
    if (r === undefined) throw new Error(`audit stream ${stream} is not initialized`);
    return {
      trailId: r.trail_id,
      stream: r.stream,
      head: { seq: Number(r.head_seq), hash: r.head_hash },
      indexedThrough: Number(r.indexed_through),
      prunedThrough: Number(r.pruned_through),
    };
  }

  async streamIds(): Promise<number[]> {
    return (await this.#pool.query<{ stream: number }>('SELECT stream FROM audit_streams ORDER BY stream')).map((r) => r.stream);
  }

  /**
   * Appends `c.events` after stream `stream`'s head, stores `c.intents`, and appends the records
   * of the intents `c.recover` names (removing them), in one durable transaction. An event whose
   * `completes` names an intent removes it in the same transaction.
   *
   * Fast path (the head this object committed last, nothing to recover): one statement in its
   * own transaction — one round trip — that moves the head only if it is still where this
   * writer left it, and writes the records only if it moved it. Otherwise, or when the head
   * had moved (another writer on the stream, a commit whose outcome was never learnt), the
   * head is read under the stream's row lock and the batch is linked to it.
   */
  async commit(stream: number, c0: AuditCommit, link: ChainLink): Promise<ChainHead> {
    // Intents are owned by this process's claim on the stream (audit-stream-claim.ts), unique
    // across nodes, rather than by a PID that another host may also have.
    const owner = this.#owners.get(stream);
    const c = owner === undefined || c0.intents.length === 0 ? c0 : { ...c0, intents: c0.intents.map((i) => ({ ...i, owner })) };
    const known = this.#heads.get(stream);
    this.#heads.delete(stream); // until this commit's outcome is known
    let head: ChainHead | undefined;
    if (known !== undefined && c.recover.length === 0) head = await this.#conditionalCommit(stream, c, link, known);
    head ??= await this.#pool.transaction(async (tx) => {
      const r = (await tx.query<{ head_seq: string; head_hash: Buffer }>('SELECT head_seq, head_hash FROM audit_streams WHERE stream = $1 FOR UPDATE', [stream]))[0];
      if (r === undefined) throw new Error(`audit stream ${stream} is not initialized`);
      const events = c.recover.length === 0 ? c.events : [...c.events, ...(await this.#recovered(tx, c.recover))];
      const w = linkBatch({ seq: Number(r.head_seq), hash: r.head_hash }, events, c.intents, link);
      await tx.query(`WITH ${WRITE_CTES} UPDATE audit_streams SET head_seq = $22, head_hash = $23 WHERE stream = $1`, writeParams(stream, w));
      return w.head;
    });
    this.#heads.set(stream, head);
    return head;
  }

  /** The fast path of commit(): undefined when the head was not `known` (nothing was written). */
  async #conditionalCommit(stream: number, c: AuditCommit, link: ChainLink, known: ChainHead): Promise<ChainHead | undefined> {
    const w = linkBatch(known, c.events, c.intents, link);
    const rows = await this.#pool.query<{ moved: number }>(CONDITIONAL_COMMIT, [...writeParams(stream, w), known.seq, known.hash], 'keyhold-audit-commit');
    return rows[0]?.moved === 1 ? w.head : undefined;
  }

  /** The outcome-unknown records of the intents `ids` names that still wait (in `ids` order). */
  async #recovered(tx: Tx, ids: readonly string[]): Promise<AuditAppend[]> {
    // FOR UPDATE: two nodes recovering the same orphan at once append its record once (the
    // second waits, then finds the row deleted and skips it).
    const found = await tx.query<{ id: string; event: string }>('SELECT id, event FROM audit_intents WHERE id = ANY($1::text[]) FOR UPDATE', [[...ids]]);
    const byId = new Map(found.map((r) => [r.id, r.event]));
    const out: AuditAppend[] = [];
    for (const id of ids) {
      const ev = byId.get(id);
      if (ev !== undefined) out.push({ ...(JSON.parse(ev) as AuditAppend), completes: id });
    }
    return out;
  }

  /** A durable write that changes nothing: whether commits to `stream` work (the probe of a failing sink). */
  async touch(stream: number): Promise<void> {
    await this.#pool.transaction((tx) => tx.query('UPDATE audit_streams SET head_seq = head_seq WHERE stream = $1', [stream]));
  }

  /** Records of `stream` with from <= seq <= to, in chain order. */
  async events(stream: number, from = 1, to: number = Number.MAX_SAFE_INTEGER): Promise<AuditEventRow[]> {
    const rows = await this.#pool.query<EventDbRow>(
      `SELECT ${EVENT_COLUMNS} FROM audit_events WHERE stream = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq`,
      [stream, from, to],
    );
    return rows.map(eventFromRow);
  }

  /** Pending intents, oldest first (all streams, or one). */
  async intents(stream?: number): Promise<(AuditIntent & { stream: number })[]> {
    const rows = await this.#pool.query<{ id: string; stream: number; owner: number; created_at: string; event: string }>(
      `SELECT id, stream, owner, created_at, event FROM audit_intents${stream === undefined ? '' : ' WHERE stream = $1'} ORDER BY created_at, id`,
      stream === undefined ? [] : [stream],
    );
    return rows.map((r) => ({ id: r.id, stream: r.stream, owner: r.owner, createdAt: Number(r.created_at), event: JSON.parse(r.event) as AuditAppend }));
  }

  /** Every stored digest, in order. */
  async digests(): Promise<AuditDigestRow[]> {
    const rows = await this.#pool.query<{ seq: string; body: string; signature: string }>('SELECT seq, body, signature FROM audit_digests ORDER BY seq');
    return rows.map((r) => ({ seq: Number(r.seq), body: r.body, signature: r.signature }));
  }

  /**
   * Writes the digest `build` returns, given every stream's head and the newest stored digest,
   * in one transaction under an advisory lock: nodes writing digests at once make one chain of
   * digests, never two with the same number.
   */
  async writeDigest(
    build: (heads: ReadonlyMap<number, { seq: number; hash: Buffer }>, last: AuditDigestRow | undefined) => AuditDigestRow | undefined,
  ): Promise<AuditDigestRow | undefined> {
    return this.#pool.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [DIGEST_LOCK_KEY]);
      const heads = await streamHeads(tx);
      const digest = build(heads, await digestWhere(tx, 'ORDER BY seq DESC LIMIT 1'));
      if (digest !== undefined) await tx.query('INSERT INTO audit_digests (seq, body, signature) VALUES ($1, $2, $3)', [digest.seq, digest.body, digest.signature]);
      return digest;
    });
  }

  /**
   * Retention, step 1: in one transaction under the digests' advisory lock, `decide` is shown
   * every stream's head, the newest digest and a reader of stored digests by number (the oldest
   * stored is `first`); what it returns is stored at once: its digest (which declares the new
   * cut) and the deletion of the digests through `throughDigest`. Its `cuts` (each stream's
   * declared cut, new or not) go back to the caller for step 2, `deletePruned`.
   */
  async declarePrune(
    decide: (view: PruneView) => Promise<PruneDecision>,
  ): Promise<PruneDecision> {
    return this.#pool.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [DIGEST_LOCK_KEY]);
      const first = (await tx.query<{ first: string | null }>('SELECT min(seq) AS first FROM audit_digests'))[0]?.first;
      const decision = await decide({
        heads: await streamHeads(tx),
        last: await digestWhere(tx, 'ORDER BY seq DESC LIMIT 1'),
        first: Number(first ?? 0),
        digestAt: (seq) => digestWhere(tx, 'WHERE seq = $1', [seq]),
      });
      if (decision.digest !== undefined) {
        const d = decision.digest;
        await tx.query('INSERT INTO audit_digests (seq, body, signature) VALUES ($1, $2, $3)', [d.seq, d.body, d.signature]);
        await tx.query('DELETE FROM audit_digests WHERE seq <= $1', [decision.throughDigest ?? 0]);
      }
      return decision;
    });
  }

  /**
   * Retention, step 2: deletes each stream's records through its declared cut, `chunk` records
   * per transaction, moving the stream's `pruned_through` with each; returns how many were
   * deleted. Records left by a crash midway are taken by the next call (the cut stays declared).
   */
  async deletePruned(cuts: ReadonlyMap<number, number>, chunk = 5000): Promise<number> {
    let removed = 0;
    const done = new Map(
      (await this.#pool.query<{ stream: number; pruned_through: string }>('SELECT stream, pruned_through FROM audit_streams')).map((r) => [r.stream, Number(r.pruned_through)] as const),
    );
    for (const [stream, cut] of cuts) {
      for (let from = done.get(stream) ?? cut; from < cut; ) {
        const to = Math.min(cut, from + chunk);
        removed += await this.#pool.transaction(async (tx) => {
          const gone = await tx.query('DELETE FROM audit_events WHERE stream = $1 AND seq > $2 AND seq <= $3 RETURNING 1', [stream, from, to]);
          await tx.query('UPDATE audit_streams SET pruned_through = GREATEST(pruned_through, $2) WHERE stream = $1', [stream, to]);
          return gone.length;
        });
        from = to;
      }
    }
    return removed;
  }
}


/** Every stream's head, in a digest writer's transaction. */
async function streamHeads(tx: Tx): Promise<Map<number, { seq: number; hash: Buffer }>> {
  const rows = await tx.query<{ stream: number; head_seq: string; head_hash: Buffer }>('SELECT stream, head_seq, head_hash FROM audit_streams');
  return new Map(rows.map((r) => [r.stream, { seq: Number(r.head_seq), hash: r.head_hash }] as const));
}

/** The one stored digest `clause` selects (undefined: none). */
async function digestWhere(tx: Tx, clause: string, params: readonly unknown[] = []): Promise<AuditDigestRow | undefined> {
  const r = (await tx.query<{ seq: string; body: string; signature: string }>(`SELECT seq, body, signature FROM audit_digests ${clause}`, params))[0];
  return r === undefined ? undefined : { seq: Number(r.seq), body: r.body, signature: r.signature };
}

/** Something that answers statements: the pool (each on any connection) or one connection. */
interface Queryable {
  query<R extends QueryResultRow = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
}

/** Records per round trip when a reader walks a stream (verify, export). */
const PAGE_ROWS = 1000;

/**
 * LookupEvents attributes as SQL over audit_events (one parameter, `$P`), matching the SQLite
 * adapter's lookups (sqlite/audit-log-sqlite.ts `plan`/`tailMatches`): resource names are
 * newline-joined and resource types comma-joined in their columns, so a match is a whole item.
 */
const LOOKUP_FILTERS: Readonly<Record<LookupAttributeKey, (v: string) => readonly [sql: string, param: unknown]>> = Object.freeze({
  EventId: (v) => ['event_id = $P', v],
  EventName: (v) => ['event_name = $P', v],
  Username: (v) => ['username = $P', v],
  AccessKeyId: (v) => ['access_key_id = $P', v],
  EventSource: (v) => ['event_source = $P', v],
  ReadOnly: (v) => ['read_only = $P', v !== 'false'],
  // The expression of the index audit_events_resource_names (migration 4): a whole name of the list.
  ResourceName: (v) => ["string_to_array(resource_names, E'\\n') @> ARRAY[$P::text]", v],
  ResourceType: (v) => ["strpos(',' || resource_types || ',', ',' || $P::text || ',') > 0", v],
});

/**
 * The read port (../audit-reader.ts) over the PostgreSQL trail. `live` reads through the pool,
 * each call seeing what is committed when it runs (LookupEvents: every acknowledged record,
 * since a record is acknowledged only once committed). `snapshot` holds one REPEATABLE READ,
 * READ ONLY transaction on one connection for the reader's life, so `keyhold audit verify` and
 * `export` see one consistent state of a trail that live nodes keep appending to: a head read
 * after the walk otherwise names records committed during it, a false truncation.
 */
export class PostgresAuditReader implements AuditReader {
  readonly #q: Queryable;
  readonly #release: () => Promise<void>;

  private constructor(q: Queryable, release: () => Promise<void>) {
    this.#q = q;
    this.#release = release;
  }

  /** A reader through the pool (the pool stays the caller's to close). */
  static live(pool: PostgresPool): PostgresAuditReader {
    return new PostgresAuditReader(pool, async () => undefined);
  }

  /** A reader of one snapshot of the trail; `close()` ends its transaction and returns the connection. */
  static async snapshot(pool: PostgresPool): Promise<PostgresAuditReader> {
    let client: PoolClient;
    try {
      client = await pool.pool.connect();
    } catch (e) {
      throw classify(e);
    }
    const onError = (): void => undefined; // a dropped socket fails the next query, never the process
    client.on('error', onError);
    const q: Queryable = {
      query: async <R extends QueryResultRow>(sql: string, params: readonly unknown[] = []) => {
        try {
          return (await client.query<R>(sql, params as unknown[])).rows;
        } catch (e) {
          throw classify(e);
        }
      },
    };
    try {
      await q.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      // A long walk computes between pages: the server's idle-in-transaction bound (connection.ts) is for requests.
      await q.query('SET LOCAL idle_in_transaction_session_timeout = 600000');
    } catch (e) {
      client.removeListener('error', onError);
      client.release(true);
      throw e;
    }
    let done = false;
    return new PostgresAuditReader(q, async () => {
      if (done) return;
      done = true;
      let failed = false;
      try {
        await q.query('COMMIT');
      } catch {
        failed = true; // read only: nothing to lose; the connection is discarded
      }
      client.removeListener('error', onError);
      client.release(failed);
    });
  }

  async trailId(): Promise<string> {
    const id = await this.getSetting('trail_id');
    if (id === undefined) throw new Error('the audit trail is not initialized');
    return id;
  }

  async getSetting(name: string): Promise<string | undefined> {
    return (await this.#q.query<{ value: string }>('SELECT value FROM audit_settings WHERE name = $1', [name]))[0]?.value;
  }

  async streamIds(): Promise<number[]> {
    return (await this.#q.query<{ stream: number }>('SELECT stream FROM audit_streams ORDER BY stream')).map((r) => r.stream);
  }

  async head(stream: number): Promise<ChainHead> {
    const r = (await this.#q.query<{ head_seq: string; head_hash: Buffer }>('SELECT head_seq, head_hash FROM audit_streams WHERE stream = $1', [stream]))[0];
    if (r === undefined) throw new Error(`audit stream ${stream} is not initialized`);
    return { seq: Number(r.head_seq), hash: r.head_hash };
  }

  async *events(stream: number, from: number, to: number = Number.MAX_SAFE_INTEGER): AsyncIterableIterator<AuditEventRow> {
    let next = from;
    while (next <= to) {
      const rows = await this.#q.query<EventDbRow>(
        `SELECT ${EVENT_COLUMNS} FROM audit_events WHERE stream = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq LIMIT ${PAGE_ROWS}`,
        [stream, next, to],
      );
      for (const r of rows) yield eventFromRow(r);
      if (rows.length < PAGE_ROWS) return;
      next = Number((rows[rows.length - 1] as EventDbRow).seq) + 1;
    }
  }

  async findByHash(stream: number, hash: Buffer): Promise<number | undefined> {
    const r = (await this.#q.query<{ seq: string }>('SELECT seq FROM audit_events WHERE stream = $1 AND hash = $2 ORDER BY seq LIMIT 1', [stream, hash]))[0];
    return r === undefined ? undefined : Number(r.seq);
  }

  /** Always true: lookups filter the record's own columns, which verify checks against each record's body; no index is kept apart. */
  async indexConsistent(): Promise<boolean> {
    return true;
  }

  async digests(): Promise<AuditDigestRow[]> {
    const rows = await this.#q.query<{ seq: string; body: string; signature: string }>('SELECT seq, body, signature FROM audit_digests ORDER BY seq');
    return rows.map((r) => ({ seq: Number(r.seq), body: r.body, signature: r.signature }));
  }

  /** One page, newest first in (time, stream, seq) order, strictly after `q.after` (audit_events_account_time serves the account and time range). */
  async lookup(q: LookupQuery): Promise<AuditEventRow[]> {
    const where = ['account = $1', 'event_time >= $2::bigint', 'event_time <= $3::bigint'];
    const params: unknown[] = [q.account, q.startTime ?? Number.MIN_SAFE_INTEGER, q.endTime ?? Number.MAX_SAFE_INTEGER];
    if (q.after !== undefined) {
      params.push(q.after.time, q.after.stream, q.after.seq);
      where.push(`(event_time, stream, seq) < ($${params.length - 2}::bigint, $${params.length - 1}::integer, $${params.length}::bigint)`);
    }
    if (q.attribute !== undefined) {
      const [sql, param] = LOOKUP_FILTERS[q.attribute.key](q.attribute.value);
      params.push(param);
      where.push(sql.replace(/\$P/g, `$${params.length}`));
    }
    params.push(q.limit);
    const rows = await this.#q.query<EventDbRow>(
      `SELECT ${EVENT_COLUMNS} FROM audit_events WHERE ${where.join(' AND ')} ORDER BY event_time DESC, stream DESC, seq DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(eventFromRow);
  }

  async close(): Promise<void> {
    await this.#release();
  }
}
