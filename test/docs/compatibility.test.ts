/** docs/compatibility.md lists exactly the modelled operations Keyhold does not implement (issue 8). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { MODELLED_OPERATIONS, type ModelledService } from '../../src/model/operations';
import { cloudTrailOperations } from '../../src/operations/cloudtrail-registry';
import { IAM_OPERATIONS } from '../../src/operations/iam/registry';
import { ORGANIZATIONS_OPERATIONS } from '../../src/operations/organizations/registry';
import { KMS_OPERATIONS } from '../../src/operations/registry';
import { STS_OPERATIONS } from '../../src/operations/sts/registry';
import { REPO_ROOT } from '../helpers/server';

const IMPLEMENTED: Readonly<Record<ModelledService, Readonly<Record<string, unknown>>>> = {
  kms: KMS_OPERATIONS,
  iam: IAM_OPERATIONS,
  sts: STS_OPERATIONS,
  organizations: ORGANIZATIONS_OPERATIONS,
  cloudtrail: cloudTrailOperations(undefined),
};
const TITLES: Readonly<Record<ModelledService, string>> = { kms: 'KMS', iam: 'IAM', sts: 'STS', organizations: 'Organizations', cloudtrail: 'CloudTrail' };

test('docs/compatibility.md lists, per service, exactly the modelled operations that are not implemented', () => {
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'compatibility.md'), 'utf8');
  for (const [service, title] of Object.entries(TITLES) as [ModelledService, string][]) {
    const section = doc.split(`\n### ${title} (`)[1]?.split('\n### ')[0];
    assert.ok(section !== undefined, `no section for ${title}`);
    const listed = [...section.matchAll(/`([A-Za-z0-9]+)`/g)].map((m) => m[1]).sort();
    const missing = MODELLED_OPERATIONS[service].filter((op) => !Object.prototype.hasOwnProperty.call(IMPLEMENTED[service], op)).sort();
    assert.deepEqual(listed, missing, `${title}: the listed unimplemented operations`);
    assert.match(section, new RegExp(`^${missing.length} of ${MODELLED_OPERATIONS[service].length}\\)`));
  }
});

test('every implemented operation is one AWS models', () => {
  for (const [service, ops] of Object.entries(IMPLEMENTED) as [ModelledService, Record<string, unknown>][]) {
    for (const op of Object.keys(ops)) assert.ok((MODELLED_OPERATIONS[service] as readonly string[]).includes(op), `${service} ${op}`);
  }
});
