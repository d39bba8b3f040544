/** The CSPRNG pool behind per-request salts, IVs and data keys: every draw is fresh, none repeats. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fillRandom } from '../../src/crypto/random-pool';

test('draws never repeat, across pool refills and for every length a data key may have', () => {
  const seen = new Set<string>();
  // 32-byte draws: 128 per 4 KiB pool, so 1,000 draws cross several refills.
  for (let i = 0; i < 1000; i++) {
    const b = Buffer.alloc(32);
    fillRandom(b, 0, 32);
    const hex = b.toString('hex');
    assert.ok(!seen.has(hex), `draw ${i} repeated an earlier one`);
    seen.add(hex);
  }
  for (const n of [1, 16, 1023, 1024, 1025, 4096]) {
    const a = Buffer.alloc(n);
    const b = Buffer.alloc(n);
    fillRandom(a, 0, n);
    fillRandom(b, 0, n);
    if (n >= 16) assert.notDeepEqual(a, b, `two ${n}-byte draws were equal`);
    if (n >= 16) assert.notDeepEqual(a, Buffer.alloc(n), `a ${n}-byte draw was all zeros`);
  }
});

test('fills exactly the asked range of the target', () => {
  const t = Buffer.alloc(64, 0xee);
  fillRandom(t, 10, 32);
  assert.deepEqual(t.subarray(0, 10), Buffer.alloc(10, 0xee));
  assert.deepEqual(t.subarray(42), Buffer.alloc(22, 0xee));
  assert.notDeepEqual(t.subarray(10, 42), Buffer.alloc(32, 0xee));
});

test('byte values are spread evenly (a chi-square sanity check, not a randomness proof)', () => {
  const counts = new Array<number>(256).fill(0);
  const b = Buffer.alloc(32);
  for (let i = 0; i < 2048; i++) {
    fillRandom(b, 0, 32);
    for (const x of b) counts[x]!++;
  }
  const expected = (2048 * 32) / 256;
  const chi = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
  // 255 degrees of freedom: p = 1e-9 lies near 420; a broken pool (zeros, repeats) is far beyond.
  assert.ok(chi < 420, `chi-square ${chi.toFixed(0)}`);
});
