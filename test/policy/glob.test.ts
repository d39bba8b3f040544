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
