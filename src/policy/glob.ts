/**
 * Wildcard patterns and policy-variable templates, compiled once and matched without regexes.
 *
 * Three wildcard dialects (IAM User Guide):
 * - `plain` (Action, StringLike): `*` is any run of characters, `?` any one character.
 * - `resource` (the Resource element): wildcards stay inside one colon-separated ARN segment,
 *   except that "if the `*` wildcard is the last character of a resource ARN segment, it can
 *   expand to match beyond the colon boundaries" (reference_policies_elements_resource), and in
 *   the resource part (after the fifth colon) both match colons like any other character.
 * - `arn` (ArnLike/ArnEquals): "each of the six colon-delimited components of the ARN is checked
 *   separately" (reference_policies_elements_condition_operators); a `*` that ends the whole
 *   pattern still covers the rest.
 *
 * Patterns whose stars all cross every character (StringLike, actions, the resource part of an
 * ARN) are matched by segment search in near-linear time (segment-search.ts; issue 12 item 7: a
 * 16,000-token `?*` pattern against a 300,000-character value took 21 s as a dynamic programme).
 * Patterns with wildcards confined to one ARN segment, where leftmost-first is not optimal, run
 * as a bit-parallel automaton (bit-parallel-nfa.ts), O(length × ⌈positions/32⌉). Neither
 * backtracks, as a regex built from a policy (`*a*a*a…b`) could. Variables (`${aws:username}`, `${key, 'default'}`, `${*}`, `${?}`,
 * `${$}`; reference_policies_variables) are resolved per request into literal text: a value
 * taken from the request never acts as a wildcard.
 */
import { compileNfa, matchNfa, type BitParallelNfa, type NfaLoop, type NfaPosition } from './bit-parallel-nfa';
import { ANY_CHAR, compileStarPattern, matchStarPattern } from './segment-search';

/** How `*` and `?` behave in a pattern. */
export type WildcardDialect = 'plain' | 'resource' | 'arn' | 'none';

/** The request context that variables read from: lowercased keys to one value or a list. */
export type VariableSource = ReadonlyMap<string, string | readonly string[]>;

const LIT = 0;
const STAR_ANY = 1;
const STAR_SEG = 2;
const ONE_ANY = 3;
const ONE_SEG = 4;
const VAR = 5;

/** One `${...}` reference: a lowercased context key and an optional default. */
interface VariableRef {
  readonly key: string;
  readonly fallback: string | undefined;
}

/** The value of a policy variable: single-valued keys only (multivalued keys cannot be variables). */
export function variableValue(source: VariableSource, key: string): string | undefined {
  const v = source.get(key);
  return typeof v === 'string' ? v : undefined;
}

/**
 * Parses `${...}` starting at `at` (the `$`). Returns the literal for `${*}`/`${?}`/`${$}`, a
 * variable reference, or undefined when the text is not a well-formed variable (then it stays
 * literal text).
 */
function parseVariable(s: string, at: number): { end: number; literal?: string; ref?: VariableRef } | undefined {
  let i = at + 2;
  // Special characters: ${*} ${?} ${$}
  if (i + 1 < s.length && s[i + 1] === '}' && (s[i] === '*' || s[i] === '?' || s[i] === '$')) {
    return { end: i + 2, literal: s[i] as string };
  }
  const keyStart = i;
  while (i < s.length && s[i] !== '}' && s[i] !== ',') i++;
  if (i >= s.length) return undefined;
  const key = s.slice(keyStart, i).trim();
  if (key === '' || /\s/.test(key)) return undefined;
  if (s[i] === '}') return { end: i + 1, ref: { key: key.toLowerCase(), fallback: undefined } };
  // Default value: ${key, 'text'} with '' standing for one quote.
  i++;
  while (i < s.length && s[i] === ' ') i++;
  if (s[i] !== "'") return undefined;
  i++;
  let fallback = '';
  for (;;) {
    if (i >= s.length) return undefined;
    if (s[i] === "'") {
      if (s[i + 1] === "'") {
        fallback += "'";
        i += 2;
        continue;
      }
      i++;
      break;
    }
    fallback += s[i];
    i++;
  }
  while (i < s.length && s[i] === ' ') i++;
  if (s[i] !== '}') return undefined;
  return { end: i + 1, ref: { key: key.toLowerCase(), fallback } };
}

/** A pattern compiled once; `test` does no parsing and builds no regex. */
export interface Pattern {
  /** Whether the pattern uses policy variables (its match depends on the request context). */
  readonly hasVariables: boolean;
  /** Whether the pattern is `*` alone and so matches everything. */
  readonly matchesAll: boolean;
  test(value: string, source: VariableSource): boolean;
}

/** A template with variables resolved to a string; undefined when a variable has no value. */
export interface Template {
  readonly hasVariables: boolean;
  resolve(source: VariableSource): string | undefined;
}

interface Tokens {
  kinds: number[];
  texts: (string | undefined)[];
  refs: (VariableRef | undefined)[];
}

function tokenize(pattern: string, dialect: WildcardDialect, variables: boolean, lowerCase: boolean): Tokens {
  const kinds: number[] = [];
  const texts: (string | undefined)[] = [];
  const refs: (VariableRef | undefined)[] = [];
  let colons = 0;
  let lit = '';
  const flush = (): void => {
    if (lit !== '') {
      kinds.push(LIT);
      texts.push(lowerCase ? lit.toLowerCase() : lit);
      refs.push(undefined);
      lit = '';
    }
  };
  const push = (kind: number, ref?: VariableRef): void => {
    flush();
    // Adjacent `*`s collapse; a segment star next to an any star is subsumed by it.
    const last = kinds[kinds.length - 1];
    if ((kind === STAR_ANY || kind === STAR_SEG) && (last === STAR_ANY || last === STAR_SEG)) {
      if (kind === STAR_ANY) kinds[kinds.length - 1] = STAR_ANY;
      return;
    }
    kinds.push(kind);
    texts.push(undefined);
    refs.push(ref);
  };
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (variables && c === '$' && pattern[i + 1] === '{') {
      const v = parseVariable(pattern, i);
      if (v !== undefined) {
        if (v.literal !== undefined) lit += v.literal;
        else push(VAR, v.ref);
        i = v.end - 1;
        continue;
      }
    }
    if (dialect !== 'none' && c === '*') {
      const atEnd = i === pattern.length - 1;
      if (dialect === 'plain' || colons >= 5 || atEnd) push(STAR_ANY);
      else if (dialect === 'resource' && pattern[i + 1] === ':') push(STAR_ANY);
      else push(STAR_SEG);
      continue;
    }
    if (dialect !== 'none' && c === '?') {
      push(dialect === 'plain' || colons >= 5 ? ONE_ANY : ONE_SEG);
      continue;
    }
    if (c === ':') colons++;
    lit += c;
  }
  flush();
  return { kinds, texts, refs };
}

/**
 * The pattern's characters (ANY_CHAR for ONE_ANY) and the offsets of the segments between
 * STAR_ANY tokens, VAR tokens taken as the literal text resolved into `texts`; undefined when a
 * wildcard is confined to an ARN segment (STAR_SEG, ONE_SEG), which leftmost-first matching
 * cannot decide. Flat arrays: a pattern of 16,000 wildcards allocates two arrays, not 16,000.
 */
function starSegments(kinds: readonly number[], texts: readonly (string | undefined)[]): { codes: Int32Array; bounds: Int32Array } | undefined {
  const codes: number[] = [];
  const bounds: number[] = [0];
  for (let k = 0; k < kinds.length; k++) {
    const kind = kinds[k];
    if (kind === STAR_ANY) bounds.push(codes.length);
    else if (kind === ONE_ANY) codes.push(ANY_CHAR);
    else if (kind === LIT || kind === VAR) {
      const t = texts[k] as string;
      for (let i = 0; i < t.length; i++) codes.push(t.charCodeAt(i));
    } else return undefined;
  }
  bounds.push(codes.length);
  return { codes: Int32Array.from(codes), bounds: Int32Array.from(bounds) };
}

/** The tokens as the positions and star loops of a bit-parallel automaton (VAR tokens resolved into `texts`). */
function automaton(kinds: readonly number[], texts: readonly (string | undefined)[]): BitParallelNfa {
  const positions: NfaPosition[] = [];
  const loops: NfaLoop[] = ['none'];
  for (let k = 0; k < kinds.length; k++) {
    const kind = kinds[k];
    if (kind === STAR_ANY) loops[positions.length] = 'any';
    else if (kind === STAR_SEG) {
      if (loops[positions.length] !== 'any') loops[positions.length] = 'seg';
    } else if (kind === ONE_ANY || kind === ONE_SEG) {
      positions.push({ kind: kind === ONE_ANY ? 'any' : 'seg' });
      loops.push('none');
    } else {
      const t = texts[k] as string;
      for (let i = 0; i < t.length; i++) {
        positions.push({ kind: 'char', code: t.charCodeAt(i) });
        loops.push('none');
      }
    }
  }
  return compileNfa(positions, loops);
}

/**
 * The matcher for resolved tokens: segment search (segment-search.ts) when every wildcard
 * crosses colons, else the bit-parallel automaton (bit-parallel-nfa.ts); both near-linear.
 */
function matcherOf(kinds: readonly number[], texts: readonly (string | undefined)[]): (v: string) => boolean {
  const segments = starSegments(kinds, texts);
  if (segments !== undefined) {
    const compiled = compileStarPattern(segments.codes, segments.bounds);
    return (v) => matchStarPattern(compiled, v);
  }
  const nfa = automaton(kinds, texts);
  // Cheap rejections before the full match: the fixed prefix and suffix.
  const prefix = kinds[0] === LIT ? (texts[0] as string) : '';
  const suffix = kinds.length > 1 && kinds[kinds.length - 1] === LIT ? (texts[texts.length - 1] as string) : '';
  return (v) => v.startsWith(prefix) && v.endsWith(suffix) && matchNfa(nfa, v);
}

const MATCH_ALL: Pattern = Object.freeze({ hasVariables: false, matchesAll: true, test: () => true });

/**
 * Compiles a wildcard pattern. `variables` enables `${...}` (policy Version 2012-10-17 only);
 * `lowerCase` folds the pattern (callers then pass lowercased values, as for actions).
 */
export function compilePattern(pattern: string, dialect: WildcardDialect, variables: boolean, lowerCase = false): Pattern {
  const { kinds, texts, refs } = tokenize(pattern, dialect, variables, lowerCase);
  if (kinds.length === 1 && kinds[0] === STAR_ANY) return MATCH_ALL;
  if (kinds.length === 0) return { hasVariables: false, matchesAll: false, test: (v) => v === '' };
  const hasVariables = kinds.includes(VAR);
  if (!hasVariables) {
    if (kinds.length === 1 && kinds[0] === LIT) {
      const exact = texts[0] as string;
      return { hasVariables, matchesAll: false, test: (v) => v === exact };
    }
    if (kinds.length === 2 && kinds[0] === LIT && kinds[1] === STAR_ANY) {
      const prefix = texts[0] as string;
      return { hasVariables, matchesAll: false, test: (v) => v.startsWith(prefix) };
    }
    const test = matcherOf(kinds, texts);
    return { hasVariables, matchesAll: false, test: (v) => test(v) };
  }
  return {
    hasVariables,
    matchesAll: false,
    test: (v, source) => {
      const resolved = texts.slice();
      for (let k = 0; k < kinds.length; k++) {
        const ref = refs[k];
        if (ref === undefined) continue;
        const value = variableValue(source, ref.key) ?? ref.fallback;
        if (value === undefined) return false; // an unresolved variable never matches
        resolved[k] = lowerCase ? value.toLowerCase() : value;
      }
      return matcherOf(kinds, resolved)(v);
    },
  };
}

/** Compiles a template: text with `${...}` variables and no wildcards. */
export function compileTemplate(text: string, variables: boolean): Template {
  const { kinds, texts, refs } = tokenize(text, 'none', variables, false);
  if (!kinds.includes(VAR)) {
    const fixed = texts.join('');
    return { hasVariables: false, resolve: () => fixed };
  }
  return {
    hasVariables: true,
    resolve: (source) => {
      let out = '';
      for (let k = 0; k < kinds.length; k++) {
        const ref = refs[k];
        if (ref === undefined) {
          out += texts[k] as string;
          continue;
        }
        const value = variableValue(source, ref.key) ?? ref.fallback;
        if (value === undefined) return undefined;
        out += value;
      }
      return out;
    },
  };
}
