/**
 * The audit trail's test hooks cannot be turned on by an operator (issue 11): they are options
 * passed to serve() in-process (test/helpers/keyhold-audit-hooks.ts), not environment variables
 * or flags. The real `keyhold serve`, given the environment variable that used to inject an fsync
 * failure (KEYHOLD_TEST_AUDIT_FAIL_FILE, naming a file that exists), still commits every record;
 * the test entry, given the same file as a hook, refuses (503) and says at start that hooks are set.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CreateKeyCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { removeDir, startServer, tempDir, type TestServer } from '../helpers/server';

const flagDir = tempDir('keyhold-hooks-');
const flag = join(flagDir, 'fail');
writeFileSync(flag, '');
const servers: TestServer[] = [];
after(async () => {
  for (const s of servers) await s.stop();
  removeDir(flagDir);
});

test('keyhold serve ignores the old test environment variables: the trail keeps committing', { timeout: 120_000 }, async () => {
  const server = await startServer({ env: { KEYHOLD_TEST_AUDIT_FAIL_FILE: flag, KEYHOLD_TEST_AUDIT_HOLD_APPLY: '1', KEYHOLD_TEST_AUDIT_JOURNAL_BYTES: '65536' } });
  servers.push(server);
  const kms = server.client();
  try {
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const out = await kms.send(new EncryptCommand({ KeyId: key, Plaintext: Buffer.from('hooks') }));
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.doesNotMatch(server.output(), /test hooks/);
  } finally {
    kms.destroy();
  }
});

test('the test entry injects the hook: with the fail file present, a mutating call is refused with 503', { timeout: 120_000 }, async () => {
  const server = await startServer({ auditTestHooks: { failFile: flag } });
  servers.push(server);
  assert.match(server.output(), /audit test hooks are set: a test build, never a deployment/);
  const kms = server.client();
  try {
    await assert.rejects(kms.send(new CreateKeyCommand({})), (e: Error & { $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(e.name, 'DependencyTimeoutException');
      assert.equal(e.message, 'The audit trail cannot be written; the request was not processed. Retry later.');
      assert.equal(e.$metadata?.httpStatusCode, 503);
      return true;
    });
  } finally {
    kms.destroy();
  }
});
