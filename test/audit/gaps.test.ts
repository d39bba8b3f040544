/**
 * Gaps in the audit promise closed by issue 11, each through the wire:
 *  - read-only operations that change state (naming a predefined alias/aws/* key creates the AWS
 *    managed key; GetParametersForImport stores an import token) write an intent first, so
 *    while the trail fails they change nothing;
 *  - a client that disconnects mid-body is counted as a client abort (408), not a 500;
 *  - no record grows without bound: a huge encryption context is cut, the key id kept.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { join } from 'node:path';
import { rmSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { CreateKeyCommand, DescribeKeyCommand, EncryptCommand, GetParametersForImportCommand, ListAliasesCommand, type KMSClient } from '@aws-sdk/client-kms';
import { removeDir, startServer, tempDir, type TestServer } from '../helpers/server';
import { trailRecords } from './helpers';

const MAX_RECORD_CHARS = 64 * 1024;

async function metrics(port: number): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${port}/metrics`);
  return r.text();
}

/** Sends a request head announcing `declared` body bytes, `sent` of them, then closes the connection. */
function abortMidBody(port: number, declared: number, sent: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => {
      s.write(
        `POST / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/x-amz-json-1.1\r\n` +
          `X-Amz-Target: TrentService.Encrypt\r\nContent-Length: ${declared}\r\n\r\n${'x'.repeat(sent)}`,
        () => setTimeout(() => s.destroy(), 200),
      );
    });
    s.on('close', () => resolve());
    s.on('error', reject);
  });
}

describe('audit gaps (issue 11)', () => {
  let server: TestServer;
  let kms: KMSClient;
  let flagDir: string;
  let flag: string;
  let records: Record<string, any>[] = [];
  let externalKey = '';
  let hugeRequestId = '';

  before(async () => {
    flagDir = tempDir('keyhold-gaps-');
    flag = join(flagDir, 'fail');
    server = await startServer({ auditTestHooks: { failFile: flag } });
    kms = server.client();
    externalKey = (await kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL' }))).KeyMetadata!.KeyId!;
  });

  after(async () => {
    kms?.destroy();
    if (server) await server.stop();
    if (server) removeDir(server.dataDir);
    if (flagDir) removeDir(flagDir);
  });

  test('while the trail fails, naming alias/aws/* (DescribeKey, AWS managed key policy allows it) creates no managed key and GetParametersForImport stores no token', async () => {
    writeFileSync(flag, '');
    try {
      await assert.rejects(kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/ebs' })), (e: any) => {
        assert.equal(e.name, 'DependencyTimeoutException');
        assert.equal(e.$metadata.httpStatusCode, 503);
        return true;
      });
      await assert.rejects(
        kms.send(new GetParametersForImportCommand({ KeyId: externalKey, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' })),
        (e: any) => e.name === 'DependencyTimeoutException',
      );
    } finally {
      rmSync(flag, { force: true });
    }
    // Nothing changed: the predefined alias still has no key, no token was stored.
    let aliases;
    for (let i = 0; ; i++) {
      try {
        aliases = await kms.send(new ListAliasesCommand({}));
        break;
      } catch (e) {
        if (i > 50) throw e;
        await new Promise((r) => setTimeout(r, 200)); // the writer's probe finds the trail writable again
      }
    }
    const ebs = aliases.Aliases!.find((a) => a.AliasName === 'alias/aws/ebs');
    assert.ok(ebs, 'the predefined alias is listed');
    assert.equal(ebs.TargetKeyId, undefined, 'no AWS managed key was created');
    const db = new Database(join(server.dataDir, 'keyhold.db'), { readonly: true });
    try {
      assert.equal((db.prepare('SELECT count(*) AS n FROM import_tokens').get() as { n: number }).n, 0, 'no import token was stored');
    } finally {
      db.close();
    }
    // Working again: the same calls succeed, and each has its record.
    await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/ebs' }));
    await kms.send(new GetParametersForImportCommand({ KeyId: externalKey, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
    const after = await kms.send(new ListAliasesCommand({}));
    assert.match(after.Aliases!.find((a) => a.AliasName === 'alias/aws/ebs')!.TargetKeyId ?? '', /^[0-9a-f-]{36}$/);
  });

  test('a client that disconnects mid-body is a client abort (408), not a server fault', async () => {
    await abortMidBody(server.port, 1000, 10);
    let text = '';
    for (let i = 0; i < 50; i++) {
      text = await metrics(server.port);
      if (/keyhold_requests_total\{[^}]*status="408"[^}]*\} 1/.test(text)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(text, /keyhold_requests_total\{[^}]*status="408"[^}]*\} 1/);
    assert.doesNotMatch(text, /keyhold_requests_total\{operation="unknown",status="5\d\d"/, "the abort was not counted as a 5xx");
  });

  test('a record stays bounded: a huge encryption context is cut, the key id kept', async () => {
    const huge: Record<string, string> = {};
    for (let i = 0; i < 40; i++) huge[`k${i}`] = 'v'.repeat(4000);
    await assert.rejects(kms.send(new EncryptCommand({ KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab', Plaintext: Buffer.from('x'), EncryptionContext: huge })), (e: any) => {
      hugeRequestId = e.$metadata.requestId;
      return e.$metadata.httpStatusCode === 400;
    });
    assert.equal(await server.stop(), 0, server.output());
    records = trailRecords(server.dataDir);
    const r = records.find((x) => x.requestID === hugeRequestId);
    assert.ok(r, 'the failed call has its record');
    assert.ok(JSON.stringify(r).length <= MAX_RECORD_CHARS, `record of ${JSON.stringify(r).length} characters`);
    assert.equal(r.requestParameters.keyId, '1234abcd-12ab-34cd-56ef-1234567890ab');
    assert.match(r.requestParameters.encryptionContext, /^\(omitted by Keyhold: \d+ characters\)$/);
  });

  test('the abort is counted in the operator trail, and every record is bounded', () => {
    const aborts = records
      .filter((r) => r.eventName === 'KeyholdUnauthenticatedRequests')
      .reduce((n, r) => n + (r.additionalEventData.errorCodes.RequestTimeoutException ?? 0), 0);
    assert.equal(aborts, 1);
    for (const r of records) assert.ok(JSON.stringify(r).length <= MAX_RECORD_CHARS);
    const gpi = records.filter((r) => r.eventName === 'GetParametersForImport' && r.errorCode === undefined);
    assert.equal(gpi.length, 1, 'the successful GetParametersForImport is recorded once');
    assert.equal(gpi[0]!.readOnly, true, 'still read-only in its record, as AWS marks it');
  });
});
