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
 * character matches. A segment of at most 32 characters computes each character's mask from the
 * segment as it goes (O(n · m), m ≤ 32, nothing allocated per segment, so a pattern of 16,000
 * wildcards compiles into two flat arrays). A longer segment uses a multiword state, O(n · ⌈m/32⌉),
 * its masks compiled on first use: dense only for characters occurring at least once per word of
 * the segment and lists of positions for the rest, so they take O(m) memory. A search starts
 * where the previous segment ended, so the whole match scans the value once. Characters are
 * UTF-16 code units, as everywhere in the matcher.
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

/** Whether codes[from, to) match `value` exactly at `at` (a direct comparison, O(m)). */
function matchesAt(codes: Int32Array, from: number, to: number, value: string, at: number): boolean {
  if (at < 0 || at + (to - from) > value.length) return false;
  for (let p = from; p < to; p++) {
    const c = codes[p] as number;
    if (c !== ANY_CHAR && c !== value.charCodeAt(at + p - from)) return false;
  }
  return true;
}

/**
 * The leftmost start ≥ `from` at which codes[off, off+m) (m ≤ 32) matches inside value[from, to),
 * or -1: single-word Shift-And with each character's mask computed from the segment (O(m) per
 * character, m ≤ 32), so a pattern of thousands of short segments allocates nothing per segment.
 */
function leftmostShort(codes: Int32Array, off: number, m: number, value: string, from: number, to: number): number {
  const lastBit = 1 << (m - 1);
  let d = 0;
  for (let i = from; i < to; i++) {
    const c = value.charCodeAt(i);
    let mask = 0;
    for (let p = 0; p < m; p++) {
      const code = codes[off + p] as number;
      if (code === c || code === ANY_CHAR) mask |= 1 << p;
    }
    d = ((d << 1) | 1) & mask;
    if ((d & lastBit) !== 0) return i - m + 1;
  }
  return -1;
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

/** A pattern split at its stars: segment k is codes[bounds[k], bounds[k+1]); the first is anchored at the start, the last at the end. */
export interface StarPattern {
  readonly codes: Int32Array;
  readonly bounds: Int32Array;
  /** Masks of the segments longer than one word, compiled on first use. */
  readonly long: Map<number, SegmentMasks>;
}

/**
 * Compiles a pattern given as all its characters (ANY_CHAR for `?`) and the offsets where each
 * star-separated segment starts (`bounds` has one more entry, the end); one segment means the
 * pattern has no star.
 */
export function compileStarPattern(codes: Int32Array, bounds: Int32Array): StarPattern {
  return { codes, bounds, long: new Map() };
}

/** Whether `value` matches the pattern: O(n · ⌈m/32⌉) for the longest segment m (short segments O(n · m)). */
export function matchStarPattern(p: StarPattern, value: string): boolean {
  const { codes, bounds } = p;
  const segments = bounds.length - 1;
  const headEnd = bounds[1] as number;
  if (segments === 1) return value.length === headEnd && matchesAt(codes, 0, headEnd, value, 0);
  if (value.length < codes.length || !matchesAt(codes, 0, headEnd, value, 0)) return false;
  const tailStart = bounds[segments - 1] as number;
  const end = value.length - (codes.length - tailStart);
  if (!matchesAt(codes, tailStart, codes.length, value, end)) return false;
  let at = headEnd;
  for (let k = 1; k < segments - 1; k++) {
    const off = bounds[k] as number;
    const m = (bounds[k + 1] as number) - off;
    if (m === 0) continue;
    let found: number;
    if (m <= 32) found = leftmostShort(codes, off, m, value, at, end);
    else {
      let seg = p.long.get(k);
      if (seg === undefined) p.long.set(k, (seg = compileSegment(codes.subarray(off, off + m))));
      found = leftmost(seg, value, at, end);
    }
    if (found < 0) return false;
    at = found + m;
  }
  return at <= end;
}
