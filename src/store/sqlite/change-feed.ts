/**
 * The SQLite ChangeFeed (issue 13). `PRAGMA data_version` on the read connection moves whenever
 * any other connection — this process's write connection included — commits; only then is the
 * `changes` table (migration 6, filled by triggers) read past the last seq seen. It is looked at
 * most once per turn of the event loop (data_version costs ~7 µs; one request asks several
 * caches), and at once after each commit of this process (`afterCommit`), so this process's own
 * writes are seen before the writing request answers.
 *
 * Staleness: a change acknowledged by any worker process is seen by every worker of the node at
 * the first cache check of the next event-loop turn that handles a request — a client's next
 * request, sent after the acknowledgement, always comes in a later turn (read-your-writes across
 * workers). An idle worker catches up on its next request.
 */
import type { Change, ChangeFeed, ChangeListener, EntityKind } from '../change-feed';
import type { Connection, Row, Statement } from './connection';

/** The feed over one read connection. */
export class SqliteChangeFeed implements ChangeFeed {
  readonly #dataVersion: Statement;
  readonly #db: Pick<Connection, 'prepare'>;
  #since: Statement | undefined;
  readonly #listeners: ChangeListener[] = [];
  /** The last seq delivered; undefined until the changes table exists (`start`). */
  #seq: number | undefined;
  #version = -1;
  /** Whether this turn of the event loop has looked already. */
  #lookedThisTurn = false;
  /** Ends the turn (made once: refresh runs on every request, so no closure per turn). */
  readonly #endTurn = (): void => {
    this.#lookedThisTurn = false;
  };

  constructor(db: Pick<Connection, 'prepare'>) {
    this.#db = db;
    this.#dataVersion = db.prepare('PRAGMA data_version').pluck();
  }

  /** Starts from the newest change (after migrations created the table). */
  start(): void {
    this.#since = this.#db.prepare('SELECT seq, entity, id FROM changes WHERE seq > ? ORDER BY seq');
    this.#seq = this.#db.prepare('SELECT COALESCE(MAX(seq), 0) FROM changes').pluck().get() as number;
    this.#version = this.#dataVersion.get() as number;
  }

  /** Starts if the changes table exists; whether it did. */
  #tryStart(): boolean {
    const exists = this.#db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'changes'").get() !== undefined;
    if (exists) this.start();
    return exists;
  }

  subscribe(listener: ChangeListener): void {
    this.#listeners.push(listener);
  }

  refresh(): void {
    if (this.#lookedThisTurn) return;
    this.#lookedThisTurn = true;
    setImmediate(this.#endTurn).unref();
    this.#look();
  }

  /** Looks now: this process has just committed. */
  afterCommit(): void {
    this.#look();
  }

  #look(): void {
    // A Store opened on a migrated file without calling migrate() (a cluster worker) starts here.
    if (this.#since === undefined && !this.#tryStart()) return;
    if (this.#since === undefined || this.#seq === undefined) return;
    const v = this.#dataVersion.get() as number;
    if (v === this.#version) return;
    this.#version = v;
    const rows = this.#since.all(this.#seq) as Row[];
    if (rows.length === 0) return;
    const last = this.#seq;
    const first = (rows[0] as Row).seq as number;
    this.#seq = (rows[rows.length - 1] as Row).seq as number;
    // Seqs are contiguous: a gap means pruning removed changes this process never saw.
    const batch: readonly Change[] | 'everything' = first !== last + 1 ? 'everything' : rows.map(toChange);
    for (const l of this.#listeners) l(batch);
  }
}

function toChange(r: Row): Change {
  return { entity: r.entity as EntityKind, id: r.id as string };
}
