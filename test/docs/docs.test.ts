/** Docs a test keeps true (STYLE): the operations and errors tables match the code. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ERROR_STATUS } from '../../src/errors';
import { MODELLED_OPERATIONS } from '../../src/model/operations';
import { KMS_OPERATIONS } from '../../src/operations/registry';
import { REPO_ROOT } from '../helpers/server';

/** The hand-written part of a doc: what precedes a section model/generate.js writes. */
const GENERATED = '<!-- BEGIN GENERATED';

function tableRows(file: string): string[][] {
  return (readFileSync(join(REPO_ROOT, file), 'utf8').split(GENERATED)[0] as string)
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('|---') && !l.startsWith('| Operation') && !l.startsWith('| `__type`'))
    .map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
}

test('docs/operations.md lists exactly the registered operations', () => {
  const documented = tableRows('docs/operations.md').map((r) => r[0]).sort();
  assert.deepEqual(documented, Object.keys(KMS_OPERATIONS).sort());
});

test('every registered operation is registered under its own name', () => {
  for (const [name, op] of Object.entries(KMS_OPERATIONS)) assert.equal(op.name, name);
});

test('docs/errors.md lists every error with its HTTP status', () => {
  const documented = Object.fromEntries(tableRows('docs/errors.md').map((r) => [r[0], Number(r[1])]));
  assert.deepEqual(documented, { ...ERROR_STATUS });
});

test('the README operations table matches the registry', () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.split('## Supported operations')[1]?.split('\n## ')[0] ?? '';
  const listed = [...section.matchAll(/`([A-Z][A-Za-z]+)`/g)].map((m) => m[1]).sort();
  assert.deepEqual(listed, Object.keys(KMS_OPERATIONS).sort());
});

test('docs/operations.md lists every KMS operation AWS models (56) with its status, generated', () => {
  const generated = readFileSync(join(REPO_ROOT, 'docs/operations.md'), 'utf8').split(GENERATED)[1] ?? '';
  const rows = [...generated.matchAll(/^\| ([A-Z]\w+) \| (Supported|UnsupportedOperationException) \|/gm)].map((m) => [m[1], m[2]]);
  assert.equal(rows.length, 56);
  assert.deepEqual(rows.map((r) => r[0]), [...MODELLED_OPERATIONS.kms]);
  for (const [op, status] of rows) {
    assert.equal(status, Object.prototype.hasOwnProperty.call(KMS_OPERATIONS, op as string) ? 'Supported' : 'UnsupportedOperationException', op);
  }
});
