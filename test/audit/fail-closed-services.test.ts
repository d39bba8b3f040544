/**
 * Fail closed, as each service spells it: while the audit trail cannot be written every request
 * is refused with a retryable 503, and the error's name is the one the addressed service's
 * clients know. KMS answers its own DependencyTimeoutException; Organizations and CloudTrail,
 * which do not model it, answer AWS's common ServiceUnavailable, and IAM (Query protocol) the
 * Code ServiceUnavailable — never a KMS error name (src/errors.ts `forService`, which also names
 * the error in the request's audit record and in the outcome-unknown record its intent carries).
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { IAMClient, ListUsersCommand } from '@aws-sdk/client-iam';
import { DescribeOrganizationCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { CreateKeyCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { forService, ServiceError, type ErrorName } from '../../src/errors';
import { removeDir, startServer, tempDir } from '../helpers/server';
import { assertRecovers } from './helpers';

interface Refusal {
  readonly name: string;
  readonly status: number | undefined;
  readonly message: string;
}

async function refusal(call: Promise<unknown>): Promise<Refusal> {
  try {
    await call;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: err.name, status: err.$metadata?.httpStatusCode, message: err.message };
  }
  assert.fail('the call succeeded while the audit trail could not be written');
}

test('forService: KMS server faults by the names of the service addressed; everything else unchanged', () => {
  const cases: readonly [string, ErrorName, ErrorName, number][] = [
    ['kms', 'KMSInternalException', 'KMSInternalException', 500],
    ['kms', 'DependencyTimeoutException', 'DependencyTimeoutException', 503],
    ['organizations', 'KMSInternalException', 'ServiceException', 500],
    ['organizations', 'DependencyTimeoutException', 'ServiceUnavailable', 503],
    ['cloudtrail', 'KMSInternalException', 'InternalFailure', 500],
    ['cloudtrail', 'DependencyTimeoutException', 'ServiceUnavailable', 503],
    ['iam', 'KMSInternalException', 'InternalFailure', 500],
    ['sts', 'DependencyTimeoutException', 'ServiceUnavailable', 503],
    ['organizations', 'AccessDeniedException', 'AccessDeniedException', 400],
    ['cloudtrail', 'ValidationException', 'ValidationException', 400],
  ];
  for (const [service, from, to, status] of cases) {
    const out = forService(new ServiceError(from, 'kept'), service);
    assert.deepEqual([out.name, out.status, out.message], [to, status, 'kept'], `${service} ${from}`);
  }
});

const MESSAGE = 'The audit trail cannot be written; the request was not processed. Retry later.';

test('fail closed: each service names the refusal as its own clients expect', { timeout: 120_000 }, async () => {
  const flagDir = tempDir('keyhold-fail-');
  const flag = join(flagDir, 'fail');
  const server = await startServer({ auditTestHooks: { failFile: flag } });
  // No retries: the first answer is the one under test.
  const config = { endpoint: server.endpoint, region: server.region, credentials: server.credentials, maxAttempts: 1 };
  const kms = server.client();
  const organizations = new OrganizationsClient(config);
  const cloudTrail = new CloudTrailClient(config);
  const iam = new IAMClient(config);
  try {
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    writeFileSync(flag, '');
    try {
      // The first refusal comes from a failed commit, the later ones up front (the writer knows
      // it is failing): both paths answer alike. Twice each, so every service sees both.
      for (let round = 0; round < 2; round++) {
        const k = await refusal(kms.send(new EncryptCommand({ KeyId: key, Plaintext: Buffer.from('x') })));
        assert.deepEqual(k, { name: 'DependencyTimeoutException', status: 503, message: MESSAGE }, `KMS, round ${round}`);
        const o = await refusal(organizations.send(new DescribeOrganizationCommand({})));
        assert.deepEqual(o, { name: 'ServiceUnavailable', status: 503, message: MESSAGE }, `Organizations, round ${round}`);
        const c = await refusal(cloudTrail.send(new LookupEventsCommand({ MaxResults: 1 })));
        assert.deepEqual(c, { name: 'ServiceUnavailable', status: 503, message: MESSAGE }, `CloudTrail, round ${round}`);
        const i = await refusal(iam.send(new ListUsersCommand({})));
        assert.equal(i.name, 'ServiceUnavailable', `IAM, round ${round}: ${i.name} ${i.message}`);
        assert.equal(i.status, 503, `IAM, round ${round}`);
      }
    } finally {
      rmSync(flag, { force: true });
    }
    // Writable again within about a second: every service answers.
    await assertRecovers(kms, key);
    const events = await cloudTrail.send(new LookupEventsCommand({ MaxResults: 1 }));
    assert.ok(Array.isArray(events.Events));
  } finally {
    kms.destroy();
    organizations.destroy();
    cloudTrail.destroy();
    iam.destroy();
    assert.equal(await server.stop(), 0, server.output());
    removeDir(server.dataDir);
    removeDir(flagDir);
  }
});
