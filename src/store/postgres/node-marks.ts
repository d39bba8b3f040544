/**
 * Commit marks shared by the worker processes of one node (issue 14: a change acknowledged by a
 * node is honoured by every worker of that node at once). A small file in the node's data
 * directory: a random 16-byte node token, then one 8-byte slot per worker (its KEYHOLD_AUDIT_STREAM
 * slot; 0 is the primary). After each commit, and once its own change notification has arrived,
 * a process writes the commit's mark number into its slot; before answering a request a sibling
 * reads the slots (one pread of 1 KiB, a few microseconds — PostgreSQL's equivalent of SQLite's
 * shared-memory `data_version`) and, if a slot holds a mark whose notification it has not heard
 * yet, treats everything as changed (src/store/postgres/postgres-change-feed.ts).
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

/** Slots in the file: worker slots 0..MAX_SLOTS-1. */
export const MAX_SLOTS = 128;
const HEADER = 16;
const SIZE = HEADER + MAX_SLOTS * 8;

/** The marks file of one node, opened by one process for one slot. */
export class NodeMarks {
  readonly token: string;
  readonly slot: number;
  readonly #fd: number;
  readonly #buf = Buffer.alloc(MAX_SLOTS * 8);
  readonly #previous = Buffer.alloc(MAX_SLOTS * 8);
  readonly #one = Buffer.alloc(8);
  #published: number;
  #closed = false;

  constructor(path: string, slot: number) {
    if (!Number.isInteger(slot) || slot < 0 || slot >= MAX_SLOTS) throw new Error(`worker slot ${slot} is outside 0..${MAX_SLOTS - 1}`);
    this.slot = slot;
    this.#fd = openOrCreate(path);
    const header = Buffer.alloc(HEADER);
    // A sibling that created the file a moment ago may not have written its token yet.
    for (let i = 0; readSync(this.#fd, header, 0, HEADER, 0) < HEADER || header.every((b) => b === 0); i++) {
      if (i > 200) throw new Error(`${path} has no node token`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
    this.token = header.toString('hex');
    this.read();
    this.#published = this.mark(slot);
  }

  /** The last mark this slot published (a restarted worker continues from it). */
  get published(): number {
    return this.#published;
  }

  /** Reads every slot's last published mark (`mark(i)` then gives slot i's); whether any changed since the last read. */
  read(): boolean {
    readSync(this.#fd, this.#buf, 0, this.#buf.length, HEADER);
    if (this.#buf.equals(this.#previous)) return false;
    this.#buf.copy(this.#previous);
    return true;
  }

  /** Slot `i`'s mark as of the last `read`. */
  mark(i: number): number {
    return this.#buf.readDoubleLE(i * 8);
  }

  /** Publishes `mark` in this process's slot (marks only grow). */
  publish(mark: number): void {
    if (this.#closed || mark <= this.#published) return;
    this.#published = mark;
    this.#one.writeDoubleLE(mark, 0);
    writeSync(this.#fd, this.#one, 0, 8, HEADER + this.slot * 8);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.#fd);
  }
}

function openOrCreate(path: string): number {
  try {
    const fd = openSync(path, 'wx+', 0o600);
    const init = Buffer.alloc(SIZE);
    randomBytes(HEADER).copy(init, 0);
    writeSync(fd, init, 0, SIZE, 0);
    return fd;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return openSync(path, 'r+');
  }
}
