/**
 * The append-only journal in front of an audit stream's SQLite file (issue 11). A commit writes
 * one frame here and fdatasyncs it — the only fsync on a request's path — and applies the same
 * rows to SQLite without syncing (synchronous=NORMAL: consistent after a crash, possibly
 * missing the newest transactions). After a crash the frames SQLite lost are applied again from
 * here (`stream-<n>.journal`, replayed when the stream is next opened for writing).
 *
 * The file is preallocated and zero-filled, so an fdatasync only flushes data blocks, never the
 * file size or block map. Frame: magic (u32 LE) · frame number (f64 LE) · payload length (u32
 * LE) · CRC-32 of the payload (u32 LE) · payload. Frames run from offset 0 with consecutive
 * numbers; the first frame that is torn (bad CRC, zeros, an older number) ends the journal.
 * When the file is full, SQLite is made durable (one synchronous commit) and writing starts again
 * at offset 0 with the next number: older frames left behind never continue the new run.
 * A frame holds the rows a commit appended (with their chain values) and the intents it stored,
 * as JSON (SqliteAuditStream encodes and applies it).
 */
import { closeSync, existsSync, fdatasyncSync, fstatSync, fsyncSync, openSync, readSync, writeSync, writevSync } from 'node:fs';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';

const MAGIC = 0x314a484b; // "KHJ1"
const HEADER = 20;
/** Initial size of a journal; it grows (zero-filled, in whole steps) if one frame would not fit. */
export const JOURNAL_BYTES = 8 * 1024 * 1024;
const ZEROS = Buffer.alloc(1024 * 1024);

/** A frame read back. */
export interface JournalFrame {
  readonly frame: number;
  readonly payload: Buffer;
  /** Offset just past this frame. */
  readonly end: number;
}

/**
 * Frames from `start` while they are intact and consecutively numbered; with `first`, the frame
 * at `start` must carry that number (else none are read).
 */
function scanFd(fd: number, start = 0, first?: number): JournalFrame[] {
  const size = fstatSync(fd).size;
  const out: JournalFrame[] = [];
  const head = Buffer.alloc(HEADER);
  let offset = start;
  let expected: number | undefined = first;
  while (offset + HEADER <= size) {
    if (readSync(fd, head, 0, HEADER, offset) !== HEADER) break;
    if (head.readUInt32LE(0) !== MAGIC) break;
    const frame = head.readDoubleLE(4);
    const length = head.readUInt32LE(12);
    if (!Number.isInteger(frame) || frame < 1 || (expected !== undefined && frame !== expected)) break;
    if (offset + HEADER + length > size) break;
    const payload = Buffer.alloc(length);
    if (readSync(fd, payload, 0, length, offset + HEADER) !== length) break;
    if (crc32(payload) !== head.readUInt32LE(16)) break;
    offset += HEADER + length;
    out.push({ frame, payload, end: offset });
    expected = frame + 1;
  }
  return out;
}

/** Reads the frames of the journal at `path` (none if it does not exist). */
export function readJournal(path: string): JournalFrame[] {
  if (!existsSync(path)) return [];
  const fd = openSync(path, 'r');
  try {
    return scanFd(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * The frames numbered from `first` on (a reader's view of what SQLite has not applied yet):
 * read from `hint` (the end of the last applied frame, when known) and, if the frame there is
 * not `first`, the current run from offset 0 (the writer starts a new run there after making
 * SQLite durable), keeping the frames numbered `first` or later.
 */
export function readJournalFrom(path: string, first: number, hint: number | undefined): JournalFrame[] {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  try {
    if (hint !== undefined && hint > 0) {
      const at = scanFd(fd, hint, first);
      if (at.length > 0) return at;
    }
    return scanFd(fd, 0).filter((f) => f.frame >= first);
  } finally {
    closeSync(fd);
  }
}

/** A stream's journal, open for appending (its writer thread only). */
export class AuditJournal {
  readonly #fd: number;
  #size: number;
  #offset = 0;

  private constructor(fd: number, size: number) {
    this.#fd = fd;
    this.#size = size;
  }

  /** Opens (creating and preallocating to at least `bytes`) the journal at `path`. */
  static open(path: string, bytes: number = JOURNAL_BYTES): AuditJournal {
    const created = !existsSync(path);
    const fd = openSync(path, created ? 'w+' : 'r+', 0o600);
    const j = new AuditJournal(fd, fstatSync(fd).size);
    if (j.#size < bytes) j.#grow(bytes);
    if (created) {
      const d = openSync(dirname(path), 'r');
      try {
        fsyncSync(d);
      } finally {
        closeSync(d);
      }
    }
    return j;
  }

  /** The frames on disk now. */
  scan(): JournalFrame[] {
    return scanFd(this.#fd);
  }

  /** Zero-fills the file up to `size` bytes and syncs it (size and blocks). */
  #grow(size: number): void {
    for (let at = this.#size; at < size; ) {
      const n = Math.min(ZEROS.length, size - at);
      at += writeSync(this.#fd, ZEROS, 0, n, at);
    }
    fsyncSync(this.#fd);
    this.#size = size;
  }

  /** Whether a frame of `payloadBytes` fits after the current position. */
  fits(payloadBytes: number): boolean {
    return this.#offset + HEADER + payloadBytes <= this.#size;
  }

  /**
   * Starts again at offset 0 (the caller made everything before durable elsewhere), growing the
   * file first if a frame of `payloadBytes` would not fit even there.
   */
  restart(payloadBytes: number): void {
    if (HEADER + payloadBytes > this.#size) this.#grow(Math.ceil((2 * (HEADER + payloadBytes)) / ZEROS.length) * ZEROS.length);
    this.#offset = 0;
  }

  /** Writes frame `frame` and makes it durable (fdatasync); returns the offset just past it. */
  append(frame: number, payload: Buffer): number {
    return this.write(frame, payload, true);
  }

  /** The file descriptor, to fdatasync frames written without `sync` (audit-writer-thread.ts). */
  get fd(): number {
    return this.#fd;
  }

  /**
   * Writes frame `frame` — and with `sync`, makes it durable (fdatasync) — and returns the offset
   * just past it. Without `sync` the caller has the frame fdatasync'd before acknowledging it.
   * Throws if it does not fit or the write fails; the header written is then zeroed again (best
   * effort), so a frame that was never acknowledged is not read back later.
   */
  write(frame: number, payload: Buffer, sync: boolean): number {
    if (!this.fits(payload.length)) throw new Error('the audit journal frame does not fit');
    const head = Buffer.alloc(HEADER);
    head.writeUInt32LE(MAGIC, 0);
    head.writeDoubleLE(frame, 4);
    head.writeUInt32LE(payload.length, 12);
    head.writeUInt32LE(crc32(payload), 16);
    const total = HEADER + payload.length;
    try {
      // Header and payload in one system call, without copying the payload into a new buffer.
      let written = writevSync(this.#fd, [head, payload], this.#offset);
      while (written < total) {
        const rest = written < HEADER ? Buffer.concat([head.subarray(written), payload]) : payload.subarray(written - HEADER);
        written += writeSync(this.#fd, rest, 0, rest.length, this.#offset + written);
      }
      if (sync) fdatasyncSync(this.#fd);
    } catch (e) {
      try {
        writeSync(this.#fd, Buffer.alloc(HEADER), 0, HEADER, this.#offset);
      } catch {
        // the disk is failing: the frame's CRC or a later scan's numbering still ends the run
      }
      throw e;
    }
    this.#offset += total;
    return this.#offset;
  }

  close(): void {
    closeSync(this.#fd);
  }
}
