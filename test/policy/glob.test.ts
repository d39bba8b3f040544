/** The wildcard matcher: dialects, and no catastrophic backtracking on hostile patterns. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePattern, compileTemplate } from '../../src/policy/glob';

const none = new Map<string, string>();

test('a pattern of many stars against a long non-matching value finishes quickly', () => {
  const p = compilePattern(`${'*a'.repeat(40)}b`, 'plain', false);
  const start = process.hrtime.bigint();
  assert.equal(p.test('a'.repeat(5000), none), false);
  assert.ok(process.hrtime.bigint() - start < 1_000_000_000n);
});

test('plain * and ? cross colons; resource and arn dialects keep them in a segment', () => {
  assert.equal(compilePattern('a?b', 'plain', false).test('a:b', none), true);
  assert.equal(compilePattern('arn:a?b:x:y:z:r', 'arn', false).test('arn:a:b:x:y:z:r', none), false);
  assert.equal(compilePattern('arn:aws:s*:r:a:x', 'arn', false).test('arn:aws:s3:zz:r:a:x', none), false);
  assert.equal(compilePattern('arn:aws:s*:r:a:x', 'resource', false).test('arn:aws:s3:zz:r:a:x', none), true);
  assert.equal(compilePattern('arn:aws:s*x:r', 'resource', false).test('arn:aws:s:x:r', none), false);
  assert.equal(compilePattern('arn:aws:s3*:a:x', 'resource', false).test('arn:aws:s3:zz:a:x', none), true);
  assert.equal(compilePattern('arn:aws:s3:::b/*', 'arn', false).test('arn:aws:s3:::b/k:1:2', none), true);
});

test('a pattern without wildcards matches only itself; an empty pattern only the empty string', () => {
  assert.equal(compilePattern('abc', 'plain', false).test('abc', none), true);
  assert.equal(compilePattern('abc', 'plain', false).test('abcd', none), false);
  assert.equal(compilePattern('', 'plain', false).test('', none), true);
  assert.equal(compilePattern('', 'plain', false).test('x', none), false);
});

test('templates substitute variables and keep text without them', () => {
  assert.equal(compileTemplate('a-${x:y}-b', true).resolve(new Map([['x:y', 'v']])), 'a-v-b');
  assert.equal(compileTemplate('a-${x:y}-b', true).resolve(none), undefined);
  assert.equal(compileTemplate('a-${x:y}-b', false).resolve(none), 'a-${x:y}-b');
  assert.equal(compileTemplate("${x:y, 'd'}", true).resolve(none), 'd');
});

/** A deterministic PRNG (mulberry32), so a failure names a reproducible seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The reference: a plain glob matcher, a memoised recursion over (pattern, value) positions. */
function reference(pattern: string, value: string): boolean {
  const memo = new Map<number, boolean>();
  const go = (p: number, v: number): boolean => {
    const key = p * (value.length + 1) + v;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let r: boolean;
    if (p === pattern.length) r = v === value.length;
    else if (pattern[p] === '*') r = go(p + 1, v) || (v < value.length && go(p, v + 1));
    else r = v < value.length && (pattern[p] === '?' || pattern[p] === value[v]) && go(p + 1, v + 1);
    memo.set(key, r);
    return r;
  };
  return go(0, 0);
}

/** A value that often matches `pattern`: its wildcards filled at random, then sometimes mutated. */
function valueFor(pattern: string, rnd: () => number): string {
  let v = '';
  for (const c of pattern) {
    if (c === '*') for (let n = Math.floor(rnd() * 4); n > 0; n--) v += rnd() < 0.5 ? 'a' : 'b';
    else if (c === '?') v += rnd() < 0.5 ? 'a' : 'b';
    else v += c;
  }
  if (rnd() < 0.4 && v.length > 0) {
    const at = Math.floor(rnd() * v.length);
    v = v.slice(0, at) + (rnd() < 0.5 ? 'a' : 'b:') + v.slice(at + 1);
  }
  return v;
}

test('StringLike matching agrees with a reference glob matcher on random patterns, short and multiword segments', () => {
  for (const [seed, maxLength] of [[1, 8], [2, 20], [3, 90], [4, 300]] as const) {
    const rnd = prng(seed);
    for (let n = 0; n < 1500; n++) {
      let pattern = '';
      const length = Math.floor(rnd() * maxLength);
      // Few stars in the long patterns, so segments outgrow a 32-bit word.
      const starRate = maxLength > 50 ? 0.02 : 0.25;
      for (let i = 0; i < length; i++) {
        const r = rnd();
        pattern += r < starRate ? '*' : r < starRate + 0.15 ? '?' : r < 0.7 ? 'a' : r < 0.95 ? 'b' : ':';
      }
      const value = rnd() < 0.2 ? Array.from({ length: Math.floor(rnd() * maxLength) }, () => (rnd() < 0.5 ? 'a' : 'b')).join('') : valueFor(pattern, rnd);
      const compiled = compilePattern(pattern, 'plain', false);
      assert.equal(compiled.test(value, none), reference(pattern, value), `seed ${seed}: ${JSON.stringify(pattern)} vs ${JSON.stringify(value)}`);
      // The same pattern through a policy variable resolved into literal text keeps its wildcards out.
      const withVariable = compilePattern('${x}' + pattern, 'plain', true);
      assert.equal(withVariable.test('q' + value, new Map([['x', 'q']])), reference(pattern, value));
    }
  }
});

test('a 16,000-token "?*" pattern is compiled and decided against a long value in near-linear time', () => {
  const start = process.hrtime.bigint();
  const p = compilePattern('?*'.repeat(16_000), 'plain', false);
  assert.equal(p.test('x'.repeat(300_000), none), true);
  assert.equal(p.test('x'.repeat(15_999), none), false);
  // Tokens × length would be 9.6·10^9 steps (21 s); the segment search is ~3·10^5.
  assert.ok(process.hrtime.bigint() - start < 3_000_000_000n);
});

/**
 * The reference for the ARN dialects, written from the rules (glob.ts header) as a regex: before
 * the pattern's fifth colon `*` and `?` stay within a segment, except a `*` that ends the
 * pattern or (resource dialect) ends a segment.
 */
function dialectRegex(pattern: string, dialect: 'resource' | 'arn'): RegExp {
  let colons = 0;
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    const crosses = colons >= 5;
    if (c === '*') out += crosses || i === pattern.length - 1 || (dialect === 'resource' && pattern[i + 1] === ':') ? '[\\s\\S]*' : '[^:]*';
    else if (c === '?') out += crosses ? '[\\s\\S]' : '[^:]';
    else {
      if (c === ':') colons++;
      out += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${out}$`);
}

test('resource and arn dialect matching agrees with a reference on random patterns, short and multiword', () => {
  for (const [seed, maxLength, starRate] of [[11, 12, 0.2], [12, 30, 0.1], [13, 120, 0.03]] as const) {
    const rnd = prng(seed);
    for (let n = 0; n < 1500; n++) {
      let pattern = '';
      const length = Math.floor(rnd() * maxLength);
      for (let i = 0; i < length; i++) {
        const r = rnd();
        pattern += r < starRate ? '*' : r < starRate + 0.1 ? '?' : r < 0.6 ? 'a' : r < 0.85 ? 'b' : ':';
      }
      const value = valueFor(pattern, rnd);
      for (const dialect of ['resource', 'arn'] as const) {
        const expected = dialectRegex(pattern, dialect).test(value);
        assert.equal(compilePattern(pattern, dialect, false).test(value, none), expected, `seed ${seed} ${dialect}: ${JSON.stringify(pattern)} vs ${JSON.stringify(value)}`);
      }
    }
  }
});

test('an ArnLike pattern of 16,000 segment-bound wildcards is compiled and decided in near-linear time', () => {
  const start = process.hrtime.bigint();
  const p = compilePattern('arn:aws:kms:' + '?*'.repeat(8_000) + ':1:key/x', 'arn', false);
  assert.equal(p.test('arn:aws:kms:' + 'r'.repeat(20_000) + ':1:key/x', none), true);
  assert.equal(p.test('arn:aws:kms:' + 'r'.repeat(20_000) + ':1:key/y', none), false);
  assert.equal(p.test('arn:aws:kms:' + 'r'.repeat(7_999) + ':1:key/x', none), false);
  // Tokens × length would be 3.2·10^8 steps; the automaton ~250 words × 4·10^4 characters.
  assert.ok(process.hrtime.bigint() - start < 5_000_000_000n);
});
