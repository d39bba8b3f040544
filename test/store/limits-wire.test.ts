/**
 * Issue 13's finding, through the wire with two worker processes on one SQLite file: 100
 * concurrent CreateAlias calls on one key once left 53 aliases (limit 50) and 80 concurrent
 * TagResource calls of one tag each left 77 tags (limit 50). The limits are now decided in one
 * transaction on the locked key (src/keys/guarded-writes.ts), so exactly 50 remain and every
 * other call is refused with AWS's LimitExceededException.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CreateAliasCommand, CreateKeyCommand, ListAliasesCommand, ListResourceTagsCommand, TagResourceCommand, KMSClient } from '@aws-sdk/client-kms';
import { startServer, type TestServer } from '../helpers/server';

let server: TestServer;
let kms: KMSClient;

before(async () => {
  server = await startServer({ workers: 2 });
  // No SDK retries: each call is one request, so the counts below are the server's decisions.
  kms = new KMSClient({ endpoint: server.endpoint, region: server.region, credentials: server.credentials, maxAttempts: 1 });
});
after(async () => {
  kms.destroy();
  await server.stop();
});

function settle(results: PromiseSettledResult<unknown>[], expectedMessage: string): { ok: number; limited: number } {
  let ok = 0;
  let limited = 0;
  for (const r of results) {
    if (r.status === 'fulfilled') ok++;
    else {
      const e = r.reason as Error;
      assert.equal(e.name, 'LimitExceededException', `unexpected ${e.name}: ${e.message}`);
      assert.equal(e.message, expectedMessage);
      limited++;
    }
  }
  return { ok, limited };
}

test('100 concurrent CreateAlias calls on one key across two workers leave exactly 50 aliases', async () => {
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({}));
  const arn = KeyMetadata!.Arn!;
  const results = await Promise.allSettled(
    Array.from({ length: 100 }, (_, i) => kms.send(new CreateAliasCommand({ AliasName: `alias/limit-${i}`, TargetKeyId: KeyMetadata!.KeyId! }))),
  );
  const { ok, limited } = settle(results, `${arn} already has the maximum of 50 aliases.`);
  assert.equal(ok, 50);
  assert.equal(limited, 50);
  const listed = await kms.send(new ListAliasesCommand({ KeyId: KeyMetadata!.KeyId!, Limit: 100 }));
  assert.equal(listed.Aliases!.length, 50);
});

test('80 concurrent TagResource calls of one distinct tag each across two workers leave exactly 50 tags', async () => {
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({}));
  const arn = KeyMetadata!.Arn!;
  const results = await Promise.allSettled(
    Array.from({ length: 80 }, (_, i) => kms.send(new TagResourceCommand({ KeyId: KeyMetadata!.KeyId!, Tags: [{ TagKey: `t${i}`, TagValue: 'v' }] }))),
  );
  const { ok, limited } = settle(results, `The request would give ${arn} more than 50 tags.`);
  assert.equal(ok, 50);
  assert.equal(limited, 30);
  const listed = await kms.send(new ListResourceTagsCommand({ KeyId: KeyMetadata!.KeyId!, Limit: 50 }));
  assert.equal(listed.Tags!.length, 50);
  assert.equal(listed.Truncated, false);
});
