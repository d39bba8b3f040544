/**
 * Random bytes for per-request salts and IVs without a system call each time: the OS CSPRNG
 * fills a 4 KiB pool at once and callers take disjoint slices, each byte handed out once and
 * zeroed in the pool as it is taken (the technique Node itself uses for randomUUID).
 */
import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let offset = POOL_SIZE;

/** Writes `length` fresh random bytes into `target` at `at`. */
export function fillRandom(target: Buffer, at: number, length: number): void {
  if (length > POOL_SIZE / 4) {
    randomFillSync(target, at, length);
    return;
  }
  if (offset + length > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  pool.copy(target, at, offset, offset + length);
  pool.fill(0, offset, offset + length);
  offset += length;
}
