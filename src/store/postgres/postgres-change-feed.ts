/**
 * The PostgreSQL ChangeFeed (issue 14; port: src/store/change-feed.ts). Triggers NOTIFY each row
 * change on channel `keyhold_changes` as "ENTITY ID" (migration 2); NOTIFY is transactional, so
 * a listener hears exactly the committed changes, in commit order. Each process LISTENs on one
 * dedicated connection and hands every change to its subscribers (the cache layer) as it
 * arrives: another node's change reaches this node's caches a few milliseconds after its commit.
 *
 * Promises and how they are kept:
 * - This process's own commits: every transaction of the runner ends with a mark
 *   ("#mark ORIGIN N", sent with COMMIT); the runner waits until this listener heard it, so the
 *   changes are delivered before the committing call returns.
 * - Sibling worker processes of the node (read-your-writes across node:cluster workers): after
 *   its own mark arrived the committer publishes N in its slot of the node's marks file
 *   (node-marks.ts); `refresh`, once per turn of the event loop, reads the file and treats
 *   everything as changed when a sibling published a mark this process has not heard yet.
 * - Lost notifications: a listener that reconnects delivers 'everything' (what it missed is
 *   unknown). A heartbeat on the listening connection every HEARTBEAT_MS proves it alive; while
 *   it has not answered for STALE_AFTER_MS (a dead socket that no error reported), every
 *   `refresh` delivers 'everything', so caches are not trusted beyond 1 s without the database.
 */
import { randomBytes } from 'node:crypto';
import { Client, type ClientConfig, type Notification } from 'pg';
import type { Change, ChangeFeed, ChangeListener, EntityKind } from '../change-feed';
import { MAX_SLOTS, type NodeMarks } from './node-marks';

/** The channel the triggers of migration 2 notify. */
export const CHANGE_CHANNEL = 'keyhold_changes';
const HEARTBEAT_MS = 250;
const STALE_AFTER_MS = 1000;
/** How long a commit waits for its own mark before telling its caches 'everything' instead. */
const OWN_MARK_WAIT_MS = 1000;
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 2000;

const ENTITIES: ReadonlySet<string> = new Set<EntityKind>(['key', 'alias', 'key-aliases', 'grant', 'identity']);

/** Which marks of one origin (a process slot) this process has heard. */
interface OriginState {
  /** Every mark up to here is heard or was covered by an 'everything'. */
  floor: number;
  /** Heard marks above `floor` (a later commit's mark can arrive first). */
  readonly above: Set<number>;
}

/** Options of the feed. */
export interface PostgresChangeFeedOptions {
  /** The listening connection's configuration (src/store/postgres/connection.ts `poolConfig`). */
  readonly client: ClientConfig;
  /** The node's marks file, opened for this process's slot; absent: no sibling processes to tell (tests, CLI commands). */
  readonly marks?: NodeMarks;
  readonly onError?: (err: Error) => void;
}

/** The feed of one process. */
export class PostgresChangeFeed implements ChangeFeed {
  readonly #config: ClientConfig;
  readonly #marks: NodeMarks | undefined;
  readonly #onError: (err: Error) => void;
  readonly #listeners: ChangeListener[] = [];
  /** "TOKEN.SLOT": the marks this process sends. */
  readonly #origin: string;
  readonly #originPrefix: string;
  #nextMark: number;
  /** Marks of this node's sibling processes ("TOKEN.SLOT"). */
  readonly #heard = new Map<string, OriginState>();
  /** Own marks heard before their commit asked (consumed by `committed`). */
  readonly #ownHeard = new Set<number>();
  readonly #waiting = new Map<number, (heard: boolean) => void>();
  #client: Client | undefined;
  #connected = false;
  #lastAlive = 0;
  #heartbeat: NodeJS.Timeout | undefined;
  #reconnect: NodeJS.Timeout | undefined;
  #backoff = RECONNECT_MIN_MS;
  #closed = false;
  #lookedThisTurn = false;
  #ready: Promise<void>;
  #markReady: () => void = () => undefined;

  constructor(options: PostgresChangeFeedOptions) {
    this.#config = options.client;
    this.#marks = options.marks;
    this.#onError = options.onError ?? (() => undefined);
    const token = this.#marks?.token ?? randomBytes(8).toString('hex');
    this.#originPrefix = `${token}.`;
    this.#origin = `${token}.${this.#marks?.slot ?? 0}`;
    this.#nextMark = this.#marks?.published ?? 0;
    if (this.#marks !== undefined) {
      // Siblings' commits before this process started are in no cache of it.
      this.#marks.read();
      for (let slot = 0; slot < MAX_SLOTS; slot++) if (slot !== this.#marks.slot) this.#state(`${this.#originPrefix}${slot}`).floor = this.#marks.mark(slot);
    }
    this.#ready = new Promise((resolve) => (this.#markReady = resolve));
    this.#connect();
  }

  /** Resolves once the listener first listens (tests; a Store works before, treating everything as changed). */
  ready(): Promise<void> {
    return this.#ready;
  }

  subscribe(listener: ChangeListener): void {
    this.#listeners.push(listener);
  }

  /** Whether the listener is connected and answered recently. */
  get healthy(): boolean {
    return this.#connected && Date.now() - this.#lastAlive < STALE_AFTER_MS;
  }

  refresh(): void {
    if (this.#lookedThisTurn) return;
    this.#lookedThisTurn = true;
    setImmediate(() => {
      this.#lookedThisTurn = false;
    }).unref();
    if (!this.healthy) {
      this.#deliver('everything');
      return;
    }
    const marks = this.#marks;
    // One pread of the node's marks (~10 µs on a loaded machine); the slots are scanned only when they moved.
    if (marks === undefined || !marks.read()) return;
    let behind = false;
    for (let slot = 0; slot < MAX_SLOTS; slot++) {
      if (slot === marks.slot) continue;
      const m = marks.mark(slot);
      if (m === 0) continue;
      const st = this.#state(`${this.#originPrefix}${slot}`);
      if (st.floor >= m) continue;
      // A sibling acknowledged a commit whose changes this listener has not delivered yet.
      behind = true;
      this.#raise(st, m);
    }
    if (behind) this.#deliver('everything');
  }

  /** The mark the next commit of this process sends (the runner puts it in its COMMIT). */
  nextMark(): { readonly n: number; readonly payload: string } {
    this.#nextMark += 1;
    return { n: this.#nextMark, payload: `#mark ${this.#origin} ${this.#nextMark}` };
  }

  /**
   * After a commit that sent mark `n`: resolves once this process's caches have its changes (or
   * were told 'everything'), then tells the node's other workers.
   */
  async committed(n: number): Promise<void> {
    if (!this.#ownHeard.delete(n)) {
      if (!this.healthy) {
        this.#deliver('everything');
      } else {
        const heard = await new Promise<boolean>((resolve) => {
          // The heartbeat or an error may end the wait: 'everything' then (below).

          const timer = setTimeout(() => {
            this.#waiting.delete(n);
            resolve(false);
          }, OWN_MARK_WAIT_MS);
          this.#waiting.set(n, (heard) => {
            clearTimeout(timer);
            resolve(heard);
          });
        });
        if (!heard) this.#deliver('everything');
      }
    }
    this.#marks?.publish(n);
  }

  /**
   * After a write that sent no mark (the IdentityStore's own transactions): waits for a round
   * trip on the listening connection — notifications committed before it arrive before its
   * answer — then publishes a fresh mark, which the siblings never hear and so treat as 'everything'.
   */
  async wroteWithoutMark(): Promise<void> {
    const c = this.#client;
    let synced = false;
    if (c !== undefined && this.#connected) {
      try {
        await c.query('SELECT 1');
        synced = true;
      } catch {
        /* reported by the client's error handler */
      }
    }
    if (!synced) this.#deliver('everything');
    this.#marks?.publish(this.nextMark().n);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#heartbeat);
    clearTimeout(this.#reconnect);
    for (const w of this.#waiting.values()) w(false);
    this.#waiting.clear();
    const c = this.#client;
    this.#client = undefined;
    this.#connected = false;
    this.#marks?.close();
    if (c !== undefined) await c.end().catch(() => undefined);
  }

  #state(origin: string): OriginState {
    let st = this.#heard.get(origin);
    if (st === undefined) {
      st = { floor: 0, above: new Set() };
      this.#heard.set(origin, st);
    }
    return st;
  }

  #raise(st: OriginState, to: number): void {
    st.floor = Math.max(st.floor, to);
    for (const m of st.above) if (m <= st.floor) st.above.delete(m);
    while (st.above.delete(st.floor + 1)) st.floor += 1;
  }

  #deliver(changes: readonly Change[] | 'everything'): void {
    for (const l of this.#listeners) l(changes);
  }

  #onNotification(msg: Notification): void {
    if (msg.channel !== CHANGE_CHANNEL || msg.payload === undefined) return;
    const payload = msg.payload;
    const space = payload.indexOf(' ');
    const head = space < 0 ? payload : payload.slice(0, space);
    if (head === '#mark') {
      const [, origin, n] = payload.split(' ');
      if (origin === undefined || n === undefined) return;
      const mark = Number(n);
      if (origin === this.#origin) {
        const waiter = this.#waiting.get(mark);
        if (waiter === undefined) this.#ownHeard.add(mark);
        else {
          this.#waiting.delete(mark);
          waiter(true);
        }
        return;
      }
      // Only this node's siblings' marks matter (the marks file names them); other nodes' are noise here.
      if (this.#marks === undefined || !origin.startsWith(this.#originPrefix)) return;
      const st = this.#state(origin);
      if (mark > st.floor) st.above.add(mark);
      this.#raise(st, st.floor);
      return;
    }
    if (!ENTITIES.has(head)) return;
    this.#deliver([{ entity: head as EntityKind, id: space < 0 ? '' : payload.slice(space + 1) }]);
  }

  #connect(): void {
    if (this.#closed) return;
    const c = new Client(this.#config);
    this.#client = c;
    let failed = false;
    const fail = (err: Error): void => {
      if (failed) return;
      failed = true;
      this.#connected = false;
      clearInterval(this.#heartbeat);
      if (this.#client === c) this.#client = undefined;
      c.end().catch(() => undefined);
      if (this.#closed) return;
      this.#onError(err);
      // Nothing heard while down: commits waiting for their mark go on with 'everything'.
      for (const w of this.#waiting.values()) w(false);
      this.#waiting.clear();
      this.#reconnect = setTimeout(() => this.#connect(), this.#backoff);
      this.#backoff = Math.min(this.#backoff * 2, RECONNECT_MAX_MS);
    };
    c.on('error', fail);
    c.on('end', () => fail(new Error('the change-feed connection ended')));
    c.on('notification', (m) => this.#onNotification(m));
    c.connect()
      .then(() => c.query(`LISTEN ${CHANGE_CHANNEL}`))
      .then(() => {
        if (this.#closed || failed) return;
        this.#connected = true;
        this.#lastAlive = Date.now();
        this.#backoff = RECONNECT_MIN_MS;
        // Whatever was committed while nobody listened is unknown.
        this.#deliver('everything');
        this.#markReady();
        let inFlight = false;
        this.#heartbeat = setInterval(() => {
          if (inFlight) return;
          inFlight = true;
          c.query('SELECT 1')
            .then(() => (this.#lastAlive = Date.now()))
            .catch((e: Error) => fail(e))
            .finally(() => (inFlight = false));
        }, HEARTBEAT_MS);
        this.#heartbeat.unref();
      })
      .catch((e: Error) => fail(e));
  }
}
