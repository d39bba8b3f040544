/**
 * Issue 8: every operation AWS models, for every service Keyhold speaks, either works or answers
 * UnsupportedOperationException naming it — never UnknownOperationException/InvalidAction, a
 * 5xx or a hang. Each is called over the wire with an empty input, signed as the SDKs sign.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MODELLED_OPERATIONS, type ModelledService } from '../../src/model/operations';
import { cloudTrailOperations } from '../../src/operations/cloudtrail-registry';
import { IAM_OPERATIONS } from '../../src/operations/iam/registry';
import { ORGANIZATIONS_OPERATIONS, ORGANIZATIONS_TARGET_PREFIX } from '../../src/operations/organizations/registry';
import { KMS_OPERATIONS } from '../../src/operations/registry';
import { STS_OPERATIONS } from '../../src/operations/sts/registry';
import { startServer, stopAndRemove, type TestServer } from '../helpers/server';
import { form, queryError, send, sign } from '../identity/wire';

const IMPLEMENTED: Readonly<Record<ModelledService, Readonly<Record<string, unknown>>>> = {
  kms: KMS_OPERATIONS,
  iam: IAM_OPERATIONS,
  sts: STS_OPERATIONS,
  organizations: ORGANIZATIONS_OPERATIONS,
  cloudtrail: cloudTrailOperations(undefined),
};
const JSON_TARGETS: Partial<Record<ModelledService, string>> = {
  kms: 'TrentService',
  organizations: ORGANIZATIONS_TARGET_PREFIX,
  cloudtrail: 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101',
};

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(async () => {
  await stopAndRemove(server);
});

/** One empty call: the HTTP status and the error name (undefined on success). */
async function call(service: ModelledService, op: string): Promise<{ status: number; error?: string; message?: string }> {
  const creds = server.credentials;
  const prefix = JSON_TARGETS[service];
  if (prefix !== undefined) {
    const headers = await sign(server.port, service, 'us-east-1', { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${prefix}.${op}` }, '{}', creds);
    const a = await send(server.port, headers, '{}');
    const json = a.body === '' ? {} : (JSON.parse(a.body) as { __type?: string; message?: string });
    return { status: a.status, error: a.status === 200 ? undefined : json.__type, message: json.message };
  }
  const body = form(service as 'iam' | 'sts', op, {});
  const headers = await sign(server.port, service, 'us-east-1', { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body, creds);
  const a = await send(server.port, headers, body);
  const e = queryError(a);
  return { status: a.status, error: a.status === 200 ? undefined : e.code, message: e.message };
}

for (const service of Object.keys(MODELLED_OPERATIONS) as ModelledService[]) {
  test(`${service}: every modelled operation works or answers UnsupportedOperationException`, { timeout: 300_000 }, async () => {
    let implemented = 0;
    for (const op of MODELLED_OPERATIONS[service]) {
      const r = await call(service, op);
      assert.ok(r.status < 500, `${service} ${op}: HTTP ${r.status} ${r.error}`);
      if (Object.prototype.hasOwnProperty.call(IMPLEMENTED[service], op)) {
        implemented++;
        assert.ok(r.error !== 'UnsupportedOperationException' && r.error !== 'UnknownOperationException' && r.error !== 'InvalidAction', `${service} ${op}: ${r.error}`);
      } else {
        assert.equal(r.status, 400, `${service} ${op}`);
        assert.equal(r.error, 'UnsupportedOperationException', `${service} ${op}`);
        assert.equal(r.message, `${op} is not supported by Keyhold. See docs/compatibility.md for the operations it does not implement.`);
      }
    }
    assert.equal(implemented, Object.keys(IMPLEMENTED[service]).length, `${service}: every implemented operation is modelled`);
  });
}
