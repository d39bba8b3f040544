/**
 * Wildcard matching in near-linear time for patterns whose stars all cross every character
 * (`StringLike`, actions, the resource part of an ARN): issue 12 item 7.
 *
 * A pattern `S0*S1*…*Sk` is split at its stars into segments of literal characters and `?`s.
 * S0 must match at the start and Sk at the end; each middle segment is taken at its leftmost
 * place after the previous one. Leftmost is optimal: any match that places a middle segment
 * later can place it earlier, since the stars around it absorb the difference; only the last
 * segment is anchored (at the end), so it is checked there rather than searched.
 *
 * Middle segments are found with the bit-parallel Shift-And search (Baeza-Yates & Gonnet, "A new
 * approach to text searching", CACM 35(10), 1992), which handles `?` as a position every
 * character matches: O(n · ⌈m/32⌉) for a segment of m characters in a value of n. A segment
 * longer than one 32-bit word uses a multiword state; the per-character masks are dense only for
 * characters occurring at least once per word of the segment and lists of positions for the rest,
 * so the masks take O(m) memory and each step O(⌈m/32⌉) time. Characters are UTF-16 code units,
 * as everywhere in the matcher.
 */

/** `?` in a segment: any one character. */
export const ANY_CHAR = -1;

/** One segment compiled for Shift-And. */
export interface SegmentMasks {
  /** Characters (code units) of the segment, ANY_CHAR for `?`. */
  readonly codes: Int32Array;
  readonly words: number;
  /** Positions where every character matches (`?`). */
  readonly any: Uint32Array;
  /** Frequent characters: a full mask. */
  readonly dense: ReadonlyMap<number, Uint32Array>;
  /** Rare characters: their positions. */
  readonly sparse: ReadonlyMap<number, readonly number[]>;
}

function compileSegment(codes: Int32Array): SegmentMasks {
  const m = codes.length;
  const words = Math.max(1, Math.ceil(m / 32));
  const any = new Uint32Array(words);
  const positions = new Map<number, number[]>();
  for (let p = 0; p < m; p++) {
    const c = codes[p] as number;
    if (c === ANY_CHAR) any[p >>> 5] = ((any[p >>> 5] as number) | (1 << (p & 31))) >>> 0;
    else {
      let list = positions.get(c);
      if (list === undefined) positions.set(c, (list = []));
      list.push(p);
    }
  }
  const dense = new Map<number, Uint32Array>();
  const sparse = new Map<number, readonly number[]>();
  for (const [c, list] of positions) {
    // At most m / words characters can be this frequent, so dense masks total O(m) words.
    if (list.length >= words) {
      const mask = new Uint32Array(words);
      for (const p of list) mask[p >>> 5] = ((mask[p >>> 5] as number) | (1 << (p & 31))) >>> 0;
      dense.set(c, mask);
    } else {
      sparse.set(c, list);
    }
  }
  return { codes, words, any, dense, sparse };
}

/** Whether `seg` matches `value` exactly at `at` (a direct comparison, O(m)). */
function matchesAt(codes: Int32Array, value: string, at: number): boolean {
  if (at < 0 || at + codes.length > value.length) return false;
  for (let p = 0; p < codes.length; p++) {
    const c = codes[p] as number;
    if (c !== ANY_CHAR && c !== value.charCodeAt(at + p)) return false;
  }
  return true;
}

// Scratch state for the multiword search; matching is synchronous and never re-entered.
let state = new Uint32Array(8);
let shifted = new Uint32Array(8);

/** The leftmost start ≥ `from` at which `seg` matches inside value[from, to), or -1. */
function leftmost(seg: SegmentMasks, value: string, from: number, to: number): number {
  const m = seg.codes.length;
  if (m === 0) return from <= to ? from : -1;
  const { words, any, dense, sparse } = seg;
  if (state.length < words) {
    state = new Uint32Array(words * 2);
    shifted = new Uint32Array(words * 2);
  }
  state.fill(0, 0, words);
  const last = (m - 1) >>> 5;
  const lastBit = 1 << ((m - 1) & 31);
  for (let i = from; i < to; i++) {
    const c = value.charCodeAt(i);
    // shifted = (state << 1) | 1: every position may start a match.
    let carry = 1;
    for (let w = 0; w < words; w++) {
      const d = state[w] as number;
      shifted[w] = ((d << 1) | carry) >>> 0;
      carry = d >>> 31;
    }
    const full = dense.get(c);
    if (full !== undefined) {
      for (let w = 0; w < words; w++) state[w] = (shifted[w] as number) & ((any[w] as number) | (full[w] as number));
    } else {
      for (let w = 0; w < words; w++) state[w] = (shifted[w] as number) & (any[w] as number);
      const list = sparse.get(c);
      if (list !== undefined) {
        for (const p of list) {
          const bit = 1 << (p & 31);
          if (((shifted[p >>> 5] as number) & bit) !== 0) state[p >>> 5] = ((state[p >>> 5] as number) | bit) >>> 0;
        }
      }
    }
    if (((state[last] as number) & lastBit) !== 0) return i - m + 1;
  }
  return -1;
}

/** A pattern split at its stars: a head, middle segments and a tail (`starred` = at least one star). */
export interface StarPattern {
  readonly head: Int32Array;
  readonly middle: readonly SegmentMasks[];
  readonly tail: Int32Array;
  readonly starred: boolean;
  readonly minLength: number;
}

/**
 * Compiles segments given as code arrays (ANY_CHAR for `?`), in the order they appear between
 * stars; one segment means the pattern has no star.
 */
export function compileStarPattern(segments: readonly Int32Array[]): StarPattern {
  const head = segments[0] ?? new Int32Array(0);
  const starred = segments.length > 1;
  const tail = starred ? (segments[segments.length - 1] as Int32Array) : new Int32Array(0);
  const middle = segments.slice(1, -1).filter((s) => s.length > 0).map(compileSegment);
  return { head, middle, tail, starred, minLength: segments.reduce((n, s) => n + s.length, 0) };
}

/** Whether `value` matches the pattern: O(n · ⌈m/32⌉) for the longest segment m. */
export function matchStarPattern(p: StarPattern, value: string): boolean {
  if (!p.starred) return value.length === p.head.length && matchesAt(p.head, value, 0);
  if (value.length < p.minLength || !matchesAt(p.head, value, 0)) return false;
  const end = value.length - p.tail.length;
  if (!matchesAt(p.tail, value, end)) return false;
  let at = p.head.length;
  for (const seg of p.middle) {
    const found = leftmost(seg, value, at, end);
    if (found < 0) return false;
    at = found + seg.codes.length;
  }
  return at <= end;
}
