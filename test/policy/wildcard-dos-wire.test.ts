/**
 * Issue 12 item 7 through the wire: a 32 KB key policy holding a 16,000-token `?*` StringLike
 * pattern on kms:EncryptionContext:k. An encryption context over 8 KiB is refused before any
 * policy is matched (ValidationException, the context not echoed); one just under the cap is
 * matched in well under a second, and the answer is the policy's.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CreateKeyCommand, EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { startServer, stopAndRemove, type TestServer } from '../helpers/server';

let server: TestServer;
let kms: KMSClient;
let keyId: string;

before(async () => {
  server = await startServer();
  kms = server.client();
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Sid: 'Admin', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${server.accountId}:root` }, Action: 'kms:*', Resource: '*' },
      {
        Sid: 'NoLongContexts',
        Effect: 'Deny',
        Principal: '*',
        Action: 'kms:Encrypt',
        Resource: '*',
        // 16,000 tokens: any value of 8,000 characters or more; then 14,000 tokens and a final z.
        Condition: { StringLike: { 'kms:EncryptionContext:k': ['?*'.repeat(8_000), '?*'.repeat(7_000) + 'z'] } },
      },
    ],
  });
  assert.ok(policy.length > 30_000 && policy.length <= 32_768, `policy is ${policy.length} characters`);
  keyId = (await kms.send(new CreateKeyCommand({ Policy: policy }))).KeyMetadata!.KeyId!;
});
after(async () => {
  kms?.destroy();
  await stopAndRemove(server);
});

/** Encrypt under the key with context {k: value}; resolves to the error name (or 'ok') and the time taken. */
async function encryptWith(value: string): Promise<{ outcome: string; message: string; ms: number }> {
  const started = performance.now();
  try {
    await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('p'), EncryptionContext: { k: value } }));
    return { outcome: 'ok', message: '', ms: performance.now() - started };
  } catch (e) {
    return { outcome: (e as Error).name, message: (e as Error).message, ms: performance.now() - started };
  }
}

test('an encryption context over 8 KiB is refused with ValidationException before the policy is matched', async () => {
  // Matched against the pattern by a dynamic programme this took 21 s and stalled the worker.
  const r = await encryptWith('x'.repeat(300_000));
  assert.equal(r.outcome, 'ValidationException');
  assert.equal(
    r.message,
    "1 validation error detected: Value at 'encryptionContext' failed to satisfy constraint: " +
      'Member must have keys and values of at most 8192 UTF-8 bytes in total',
  );
  assert.ok(r.ms < 2_000, `answered in ${r.ms.toFixed(0)} ms`);
  // Just over the cap, counted in UTF-8 bytes (key included): 1 + 2 × 4,096 = 8,193.
  const over = await encryptWith('é'.repeat(4_096));
  assert.equal(over.outcome, 'ValidationException');
});

test('a context just under the cap is matched against the 16,000-token pattern in well under a second', async () => {
  const denied = await encryptWith('x'.repeat(8_190)); // 1 + 8,190 = 8,191 bytes
  assert.equal(denied.outcome, 'AccessDeniedException');
  assert.ok(denied.ms < 1_000, `answered in ${denied.ms.toFixed(0)} ms`);
  const endsInZ = await encryptWith('x'.repeat(7_500) + 'z');
  assert.equal(endsInZ.outcome, 'AccessDeniedException');
  const allowed = await encryptWith('x'.repeat(7_999));
  assert.equal(allowed.outcome, 'ok');
  assert.ok(allowed.ms < 1_000, `answered in ${allowed.ms.toFixed(0)} ms`);
});
