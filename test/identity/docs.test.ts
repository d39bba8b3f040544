/** docs/identity.md is kept true: its operation tables match the registries, its Query error list QUERY_ERRORS. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { QUERY_ERRORS } from '../../src/errors';
import { IAM_OPERATIONS } from '../../src/operations/iam/registry';
import { ORGANIZATIONS_OPERATIONS } from '../../src/operations/organizations/registry';
import { STS_OPERATIONS } from '../../src/operations/sts/registry';
import { REPO_ROOT } from '../helpers/server';

const DOC = readFileSync(join(REPO_ROOT, 'docs', 'identity.md'), 'utf8');

function section(title: string): string {
  const s = DOC.split(`## ${title}\n`)[1];
  assert.ok(s !== undefined, `docs/identity.md has no section ${title}`);
  return s.split('\n## ')[0] as string;
}

function tableOperations(title: string): string[] {
  return [...section(title).matchAll(/^\| `([A-Za-z]+)` \|/gm)].map((m) => m[1] as string).sort();
}

test('docs/identity.md lists exactly the IAM, STS and Organizations operations served', () => {
  assert.deepEqual(tableOperations('IAM operations'), Object.keys(IAM_OPERATIONS).sort());
  assert.deepEqual(tableOperations('STS operations'), Object.keys(STS_OPERATIONS).sort());
  assert.deepEqual(tableOperations('Organizations operations'), Object.keys(ORGANIZATIONS_OPERATIONS).sort());
});

test('every registered identity operation is registered under its own name', () => {
  for (const registry of [IAM_OPERATIONS, STS_OPERATIONS, ORGANIZATIONS_OPERATIONS]) {
    for (const [name, op] of Object.entries(registry)) assert.equal(op.name, name);
  }
});

test('docs/identity.md lists every Query error code and status', () => {
  const listed = Object.fromEntries(
    [...section('Errors over the Query protocol').matchAll(/^- `(\w+)` → `(\w+)` (\d{3})$/gm)].map((m) => [m[1], { code: m[2], status: Number(m[3]) }]),
  );
  assert.deepEqual(listed, { ...QUERY_ERRORS });
});

test('the README has an IAM, STS and Organizations section pointing at docs/identity.md', () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const s = readme.split('## IAM, STS and Organizations\n')[1]?.split('\n## ')[0] ?? '';
  assert.match(s, /docs\/identity\.md/);
});
