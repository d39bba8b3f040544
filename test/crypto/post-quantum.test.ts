/**
 * The post-quantum code path below the API against NIST's ACVP known-answer vectors
 * (test/fixtures/acvp-pq.json: ML-DSA-44 and ML-KEM-512 keyGen, tcId 1, from the ACVP-Server
 * repository, source cited in the file): the seed-form PKCS#8 Keyhold stores, the thread job that
 * expands it, and the SPKI GetPublicKey returns. Plus the encodings' refusals.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  postQuantumPkcs8,
  postQuantumPublicFromSpki,
  postQuantumSeedFromPkcs8,
  postQuantumSpki,
} from '../../src/crypto/post-quantum';
import { runPostQuantumJob } from '../../src/keys/pq-jobs';
import { REPO_ROOT } from '../helpers/server';

interface Fixture {
  source: string;
  mlDsaKeyGen: { keySpec: string; seed: string; pk: string }[];
  mlKemKeyGen: { keySpec: string; d: string; z: string; ek: string }[];
}

const FIXTURE = JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'acvp-pq.json'), 'utf8')) as Fixture;

function publicKeyThroughKeyhold(spec: string, seed: Buffer): Buffer {
  // As stored: seed-form PKCS#8; as the backend sends it to the thread: the seed back out of it.
  const stored = postQuantumPkcs8(spec, seed);
  const fromStore = postQuantumSeedFromPkcs8(spec, stored);
  assert.ok(fromStore !== undefined);
  const out = runPostQuantumJob({ id: 1, op: 'public-key', spec, seed: fromStore }).out?.[0];
  assert.ok(out !== undefined);
  const spki = postQuantumSpki(spec, out);
  return postQuantumPublicFromSpki(spec, spki) as Buffer;
}

test('ACVP ML-DSA keyGen: the seed Keyhold stores yields NIST\'s public key', () => {
  assert.match(FIXTURE.source, /usnistgov\/ACVP-Server/);
  assert.ok(FIXTURE.mlDsaKeyGen.length > 0);
  for (const v of FIXTURE.mlDsaKeyGen) {
    const pk = publicKeyThroughKeyhold(v.keySpec, Buffer.from(v.seed, 'hex'));
    assert.equal(pk.toString('hex').toUpperCase(), v.pk);
  }
});

test('ACVP ML-KEM keyGen: the d‖z seed Keyhold stores yields NIST\'s encapsulation key', () => {
  assert.ok(FIXTURE.mlKemKeyGen.length > 0);
  for (const v of FIXTURE.mlKemKeyGen) {
    const ek = publicKeyThroughKeyhold(v.keySpec, Buffer.from(v.d + v.z, 'hex'));
    assert.equal(ek.toString('hex').toUpperCase(), v.ek);
  }
});

test('the encodings refuse anything but their own fixed form', () => {
  const seed = Buffer.alloc(32, 7);
  const pkcs8 = postQuantumPkcs8('ML_DSA_65', seed);
  assert.equal(pkcs8.toString('hex'), '3034020100300b060960864801650304031204228020' + seed.toString('hex'));
  assert.equal(postQuantumSeedFromPkcs8('ML_DSA_44', pkcs8), undefined, 'another parameter set');
  assert.equal(postQuantumSeedFromPkcs8('ML_DSA_65', pkcs8.subarray(1)), undefined);
  assert.equal(postQuantumSeedFromPkcs8('ML_DSA_65', Buffer.concat([pkcs8, Buffer.of(0)])), undefined);
  assert.throws(() => postQuantumPkcs8('ML_KEM_768', seed), RangeError, 'ML-KEM seeds are 64 bytes');
  const spki = postQuantumSpki('ML_KEM_768', Buffer.alloc(1184, 1));
  assert.equal(spki.subarray(0, 22).toString('hex'), '308204b2300b0609608648016503040402038204a100');
  assert.equal(postQuantumPublicFromSpki('ML_KEM_1024', spki), undefined);
  assert.throws(() => postQuantumSpki('ML_KEM_768', Buffer.alloc(1183)), RangeError);
  assert.throws(() => postQuantumSpki('ECC_NIST_P256', Buffer.alloc(65)), /not a post-quantum key spec/);
});
