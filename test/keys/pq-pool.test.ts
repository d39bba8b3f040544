/**
 * The post-quantum pool: ML-KEM encapsulation/decapsulation run on the calling thread (issue 10),
 * ML-DSA on the niced threads; both give the same answers, and outputs are fresh buffers.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { ml_kem512, ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { ml_dsa44, ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { PostQuantumPool } from '../../src/keys/pq-pool';

const pool = new PostQuantumPool(1);
after(() => pool.close());

test('ML-KEM through the pool: decapsulation recovers the encapsulated secret, answered at the end of the turn without a thread hop', async () => {
  const seed = randomBytes(64);
  const { publicKey } = ml_kem768.keygen(seed);
  const enc = await pool.run({ op: 'encapsulate', spec: 'ML_KEM_768', publicKey });
  const [ciphertext, secret] = enc.out ?? [];
  assert.ok(ciphertext !== undefined && secret !== undefined);
  assert.equal(ciphertext.length, 1088);
  const dec = await pool.run({ op: 'decapsulate', spec: 'ML_KEM_768', seed, ciphertext });
  assert.deepEqual(dec.out?.[0], secret);
  // Fresh buffers: overwriting one answer does not change the next.
  dec.out?.[0]?.fill(0);
  const again = await pool.run({ op: 'decapsulate', spec: 'ML_KEM_768', seed, ciphertext });
  assert.deepEqual(again.out?.[0], secret);
  // Run by this thread at the end of the turn: not before the turn's other callbacks (microtasks
  // here), but before an immediate scheduled after the call — a thread's answer would come back
  // as a message, in the poll phase of a later turn.
  let answered = false;
  const p = pool.run({ op: 'decapsulate', spec: 'ML_KEM_768', seed, ciphertext }).then(() => {
    answered = true;
  });
  for (let i = 0; i < 3; i++) await Promise.resolve();
  assert.equal(answered, false, 'deferred past the callbacks of the turn that asked');
  await new Promise((r) => setImmediate(r));
  assert.equal(answered, true, 'answered in the same check phase');
  await p;
});

test('ML-DSA does not answer within the turn: it goes to the thread', async () => {
  let answered = false;
  const p = pool.run({ op: 'sign', spec: 'ML_DSA_44', seed: randomBytes(32), message: new Uint8Array(4), externalMu: false }).then(() => {
    answered = true;
  });
  for (let i = 0; i < 3; i++) await Promise.resolve();
  assert.equal(answered, false);
  await p;
  assert.equal(answered, true);
});

test('a failing inline job rejects with the job error, like a thread job', async () => {
  await assert.rejects(
    pool.run({ op: 'decapsulate', spec: 'ML_KEM_999', seed: randomBytes(64), ciphertext: randomBytes(1088) }),
    /post-quantum job failed: ML_KEM_999 is not an ML-KEM key spec/,
  );
});

test('ML-DSA still runs on the pool thread and verifies with the library', async () => {
  const seed = randomBytes(32);
  const message = Buffer.from('pool');
  const r = await pool.run({ op: 'sign', spec: 'ML_DSA_65', seed, message: Uint8Array.from(message), externalMu: false });
  const signature = r.out?.[0];
  assert.ok(signature !== undefined);
  assert.equal(signature.length, 3309);
  assert.ok(ml_dsa65.verify(signature, message, ml_dsa65.keygen(seed).publicKey));
});

test('ML-KEM on prepared keys (Â expanded once per key) answers as the library does, per key, implicit rejection included', async () => {
  // Two keys of each of two parameter sets, used alternately: the prepared-key cache must never
  // answer one key with another's expansion.
  for (const spec of ['ML_KEM_768', 'ML_KEM_512'] as const) {
    const lib = spec === 'ML_KEM_768' ? ml_kem768 : ml_kem512;
    const keys = [randomBytes(64), randomBytes(64)].map((seed) => ({ seed, ...lib.keygen(seed) }));
    for (let round = 0; round < 2; round++) {
      for (const k of keys) {
        const enc = await pool.run({ op: 'encapsulate', spec, publicKey: k.publicKey });
        const [ciphertext, secret] = enc.out ?? [];
        assert.ok(ciphertext !== undefined && secret !== undefined);
        // The library, unprepared, opens what the pool made.
        assert.deepEqual(Buffer.from(lib.decapsulate(ciphertext, k.secretKey)), Buffer.from(secret));
        // And the pool opens what the library made.
        const theirs = lib.encapsulate(k.publicKey);
        const dec = await pool.run({ op: 'decapsulate', spec, seed: Uint8Array.from(k.seed), ciphertext: theirs.cipherText });
        assert.deepEqual(Buffer.from(dec.out?.[0] ?? []), Buffer.from(theirs.sharedSecret));
        // A tampered ciphertext: FIPS 203's implicit rejection gives the library's pseudorandom value.
        const bad = Uint8Array.from(theirs.cipherText);
        bad[7] = (bad[7] as number) ^ 1;
        const rejected = await pool.run({ op: 'decapsulate', spec, seed: Uint8Array.from(k.seed), ciphertext: bad });
        assert.deepEqual(Buffer.from(rejected.out?.[0] ?? []), Buffer.from(lib.decapsulate(bad, k.secretKey)));
        assert.notDeepEqual(Buffer.from(rejected.out?.[0] ?? []), Buffer.from(theirs.sharedSecret));
      }
    }
  }
});

test('a thread holds at most two jobs; answers reach their own callers in order, and a failed job fails alone', async () => {
  const one = new PostQuantumPool(1);
  try {
    const seed = randomBytes(32);
    const { publicKey } = ml_dsa44.keygen(seed);
    const messages = Array.from({ length: 6 }, (_, i) => Buffer.from(`message ${i}`));
    const jobs = messages.map((m, i) =>
      one.run(
        i === 3
          ? { op: 'sign', spec: 'ML_DSA_99', seed: randomBytes(32), message: Uint8Array.from(m), externalMu: false }
          : { op: 'sign', spec: 'ML_DSA_44', seed: Uint8Array.from(seed), message: Uint8Array.from(m), externalMu: false },
      ),
    );
    // One thread, two jobs posted to it: four still wait in the pool's queue.
    assert.equal(one.queued, 4);
    const settled = await Promise.allSettled(jobs);
    settled.forEach((s, i) => {
      if (i === 3) {
        assert.equal(s.status, 'rejected');
        assert.match(String((s as PromiseRejectedResult).reason), /post-quantum job failed: ML_DSA_99 is not an ML-KEM key spec/);
        return;
      }
      assert.equal(s.status, 'fulfilled');
      const signature = (s as PromiseFulfilledResult<{ out?: Uint8Array[] }>).value.out?.[0];
      assert.ok(signature !== undefined);
      // Each signature is over its own caller's message.
      assert.equal(ml_dsa44.verify(signature, messages[i] as Buffer, publicKey), true, `job ${i}`);
    });
    assert.equal(one.queued, 0);
  } finally {
    await one.close();
  }
});
