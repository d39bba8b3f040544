/**
 * Wildcard matching for patterns whose wildcards may be confined to one ARN segment (`*` and `?`
 * that do not match `:`), where taking segments leftmost-first is not optimal: the pattern's
 * automaton is simulated bit-parallel, Shift-And extended with self-loops for stars
 * (Baeza-Yates & Gonnet 1992; Navarro & Raffinot, "Flexible Pattern Matching in Strings", §4.3).
 * O(n · ⌈m/32⌉) for m characters and `?`s in the pattern and n in the value, instead of the
 * O(tokens × n) of a dynamic programme (issue 12 item 7). Per-character masks are dense only for
 * characters that occur at least once per word, so memory stays O(m).
 */

const COLON = 58;

/** One character position of the pattern. */
export type NfaPosition =
  | { readonly kind: 'char'; readonly code: number }
  | { readonly kind: 'any' } // `?` matching every character
  | { readonly kind: 'seg' }; // `?` matching any character but `:`

/** What follows a state: nothing, a star matching everything, or a star stopping at `:`. */
export type NfaLoop = 'none' | 'any' | 'seg';

/** A compiled automaton: state j (j positions consumed) is bit j-1; state 0 is tracked apart. */
export interface BitParallelNfa {
  readonly m: number;
  readonly words: number;
  readonly any: Uint32Array;
  readonly seg: Uint32Array;
  readonly loopAny: Uint32Array;
  readonly loopSeg: Uint32Array;
  readonly startLoop: NfaLoop;
  readonly dense: ReadonlyMap<number, Uint32Array>;
  readonly sparse: ReadonlyMap<number, readonly number[]>;
}

function setBit(mask: Uint32Array, p: number): void {
  mask[p >>> 5] = ((mask[p >>> 5] as number) | (1 << (p & 31))) >>> 0;
}

/**
 * Compiles positions and loops: `loops[j]` is the star after state j (loops[0] before the first
 * position), so `loops.length === positions.length + 1`.
 */
export function compileNfa(positions: readonly NfaPosition[], loops: readonly NfaLoop[]): BitParallelNfa {
  const m = positions.length;
  const words = Math.max(1, Math.ceil(m / 32));
  const any = new Uint32Array(words);
  const seg = new Uint32Array(words);
  const loopAny = new Uint32Array(words);
  const loopSeg = new Uint32Array(words);
  const byCode = new Map<number, number[]>();
  positions.forEach((pos, p) => {
    if (pos.kind === 'any') setBit(any, p);
    else if (pos.kind === 'seg') setBit(seg, p);
    else {
      let list = byCode.get(pos.code);
      if (list === undefined) byCode.set(pos.code, (list = []));
      list.push(p);
    }
    const loop = loops[p + 1];
    if (loop === 'any') setBit(loopAny, p);
    else if (loop === 'seg') setBit(loopSeg, p);
  });
  const dense = new Map<number, Uint32Array>();
  const sparse = new Map<number, readonly number[]>();
  for (const [code, list] of byCode) {
    if (list.length >= words) {
      const mask = new Uint32Array(words);
      for (const p of list) setBit(mask, p);
      dense.set(code, mask);
    } else {
      sparse.set(code, list);
    }
  }
  return { m, words, any, seg, loopAny, loopSeg, startLoop: loops[0] ?? 'none', dense, sparse };
}

// Scratch state; matching is synchronous and never re-entered.
let state = new Uint32Array(8);
let shifted = new Uint32Array(8);

/** Whether the automaton accepts the whole of `value`. */
export function matchNfa(nfa: BitParallelNfa, value: string): boolean {
  const { m, words, any, seg, loopAny, loopSeg, startLoop, dense, sparse } = nfa;
  if (state.length < words) {
    state = new Uint32Array(words * 2);
    shifted = new Uint32Array(words * 2);
  }
  state.fill(0, 0, words);
  let start = true;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const colon = c === COLON;
    let carry = start ? 1 : 0;
    let alive = 0;
    for (let w = 0; w < words; w++) {
      const d = state[w] as number;
      shifted[w] = ((d << 1) | carry) >>> 0;
      carry = d >>> 31;
    }
    const full = dense.get(c);
    for (let w = 0; w < words; w++) {
      let accepts = any[w] as number;
      let stays = loopAny[w] as number;
      if (!colon) {
        accepts |= seg[w] as number;
        stays |= loopSeg[w] as number;
      }
      if (full !== undefined) accepts |= full[w] as number;
      const next = (((shifted[w] as number) & accepts) | ((state[w] as number) & stays)) >>> 0;
      state[w] = next;
      alive |= next;
    }
    if (full === undefined) {
      const list = sparse.get(c);
      if (list !== undefined) {
        for (const p of list) {
          const bit = 1 << (p & 31);
          if (((shifted[p >>> 5] as number) & bit) !== 0) {
            state[p >>> 5] = ((state[p >>> 5] as number) | bit) >>> 0;
            alive = 1;
          }
        }
      }
    }
    start = start && (startLoop === 'any' || (startLoop === 'seg' && !colon));
    if (!start && alive === 0) return false;
  }
  if (m === 0) return start;
  return ((state[(m - 1) >>> 5] as number) & (1 << ((m - 1) & 31))) !== 0;
}
