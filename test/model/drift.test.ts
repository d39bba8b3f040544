/**
 * The generated model layer (src/model/) is exactly what model/generate.js makes from the
 * vendored sources (model/sources/): a hand edit, or a model refresh without regenerating, fails.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/server';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { generate } = require(join(REPO_ROOT, 'model', 'generate.js')) as { generate: () => Record<string, string> };

test('src/model/ matches what model/generate.js generates from model/sources/', () => {
  const files = generate();
  assert.ok(Object.keys(files).length >= 2);
  for (const [rel, content] of Object.entries(files)) {
    assert.equal(readFileSync(join(REPO_ROOT, rel), 'utf8'), content, `${rel} is stale: run node model/generate.js`);
  }
});

test('the vendored models hold every operation of the pinned SDK clients: 56 KMS operations among them', () => {
  const { MODELLED_OPERATIONS } = require(join(REPO_ROOT, 'dist', 'src', 'model', 'operations.js')) as typeof import('../../src/model/operations');
  assert.equal(MODELLED_OPERATIONS.kms.length, 56);
  for (const op of ['Encapsulate', 'Decapsulate', 'Sign', 'Verify', 'DeriveSharedSecret', 'GenerateDataKeyPair']) {
    assert.ok((MODELLED_OPERATIONS.kms as readonly string[]).includes(op), op);
  }
  for (const [service, pkg] of [['kms', 'client-kms'], ['iam', 'client-iam'], ['sts', 'client-sts'], ['organizations', 'client-organizations'], ['cloudtrail', 'client-cloudtrail']]) {
    const pinned = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies[`@aws-sdk/${pkg}`];
    assert.equal(readFileSync(join(REPO_ROOT, 'model', 'sources', service as string, 'sdk-version'), 'utf8').trim(), pinned, `${service}: vendored schemas come from the pinned @aws-sdk/${pkg}`);
  }
});
