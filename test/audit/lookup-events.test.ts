/**
 * CloudTrail LookupEvents through the AWS CLI v2 (/usr/bin/aws, never the pyenv shim on PATH),
 * configured only by the data directory's credentials file and --endpoint-url: every lookup
 * attribute, time ranges, paging, the account scope, CloudTrail's own errors — on a two-worker
 * server, so results merge the streams of both workers.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateKeyCommand, DescribeKeyCommand, EncryptCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { removeDir, startServer, tempDir, type TestServer } from '../helpers/server';
import { keyhold } from './helpers';

const AWS = '/usr/bin/aws';
const OTHER = { accessKeyId: 'AKIALOOKUPOTHER00001', secretAccessKey: 'lookup-other-secret-01', accountId: '333344445555' };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

interface WireEvent {
  EventId: string;
  EventName: string;
  ReadOnly: string;
  AccessKeyId?: string;
  EventTime: string;
  EventSource: string;
  Username?: string;
  Resources: { ResourceType: string; ResourceName: string }[];
  CloudTrailEvent: string;
}

describe('aws cloudtrail lookup-events against Keyhold', () => {
  let server: TestServer;
  let home: string;
  let env: NodeJS.ProcessEnv;
  let keyA: string;
  let keyB: string;
  const encrypts = 7;

  function aws(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> {
    return new Promise((resolve, reject) => {
      execFile(AWS, [...args, '--endpoint-url', server.endpoint, '--output', 'json'], { env: { ...env, ...extraEnv }, timeout: 60_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') {
          reject(err);
          return;
        }
        resolve({ code: err ? (err.code as unknown as number) : 0, stdout, stderr });
      });
    });
  }
  async function lookup(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<{ Events: WireEvent[]; NextToken?: string }> {
    const r = await aws(['cloudtrail', 'lookup-events', ...args], extraEnv);
    assert.equal(r.code, 0, `aws cloudtrail lookup-events ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
    return JSON.parse(r.stdout) as { Events: WireEvent[]; NextToken?: string };
  }
  const attr = (key: string, value: string): string[] => ['--lookup-attributes', `AttributeKey=${key},AttributeValue=${value}`];

  before(async () => {
    assert.ok(existsSync(AWS), `${AWS} is missing: install the Debian package awscli (the AWS CLI v2); this test is never skipped`);
    server = await startServer({ workers: 2 });
    home = tempDir('keyhold-ct-home-');
    env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
    env.HOME = home;
    env.AWS_SHARED_CREDENTIALS_FILE = join(server.dataDir, 'credentials');
    env.AWS_CONFIG_FILE = '/dev/null';
    env.AWS_PAGER = '';
    const made = await keyhold([
      'credentials', 'create', '--data-dir', server.dataDir, '--access-key-id', OTHER.accessKeyId,
      '--secret-access-key', OTHER.secretAccessKey, '--account-id', OTHER.accountId,
    ]);
    assert.equal(made.code, 0, made.stderr);
    const kms = server.client();
    try {
      keyA = (await kms.send(new CreateKeyCommand({ Description: 'A' }))).KeyMetadata!.Arn!;
      keyB = (await kms.send(new CreateKeyCommand({ Description: 'B' }))).KeyMetadata!.Arn!;
      for (let i = 0; i < encrypts; i++) await kms.send(new EncryptCommand({ KeyId: keyA, Plaintext: Buffer.from(`n${i}`) }));
      await kms.send(new DescribeKeyCommand({ KeyId: keyB }));
      await kms.send(new ListKeysCommand({}));
    } finally {
      kms.destroy();
    }
  });

  after(async () => {
    if (server) {
      assert.equal(await server.stop(), 0);
      removeDir(server.dataDir);
    }
    if (home) removeDir(home);
  });

  test('ResourceName finds every record naming a key ARN, newest first', async () => {
    const { Events } = await lookup(attr('ResourceName', keyA));
    assert.deepEqual(Events.map((e) => e.EventName).sort(), ['CreateKey', ...Array(encrypts).fill('Encrypt')].sort());
    for (const e of Events) {
      assert.deepEqual(e.Resources, [{ ResourceType: 'AWS::KMS::Key', ResourceName: keyA }]);
      const record = JSON.parse(e.CloudTrailEvent) as Record<string, any>;
      assert.equal(record.eventID, e.EventId);
      assert.equal(record.resources[0].ARN, keyA);
      assert.equal(e.EventSource, 'kms.amazonaws.com');
      assert.equal(e.Username, 'root');
      assert.equal(e.AccessKeyId, server.credentials.accessKeyId);
    }
    const times = Events.map((e) => Date.parse(JSON.parse(e.CloudTrailEvent).eventTime));
    assert.deepEqual(times, [...times].sort((a, b) => b - a));
  });

  test('EventName, ReadOnly, EventId, AccessKeyId and ResourceType', async () => {
    const enc = await lookup(attr('EventName', 'Encrypt'));
    assert.equal(enc.Events.length, encrypts);
    assert.ok(enc.Events.every((e) => e.ReadOnly === 'true'));
    const writes = await lookup(attr('ReadOnly', 'false'));
    assert.deepEqual(writes.Events.map((e) => e.EventName), ['CreateKey', 'CreateKey']);
    const one = await lookup(attr('EventId', enc.Events[3]!.EventId));
    assert.deepEqual(one.Events.map((e) => e.EventId), [enc.Events[3]!.EventId]);
    const byKey = await lookup(attr('AccessKeyId', server.credentials.accessKeyId));
    assert.ok(byKey.Events.length >= encrypts + 4);
    const typed = await lookup(attr('ResourceType', 'AWS::KMS::Key'));
    assert.equal(typed.Events.length, encrypts + 3);
    assert.deepEqual((await lookup(attr('EventName', 'NoSuchEvent'))).Events, []);
  });

  test('paging: --page-size walks every page without repeats, --max-items stops with a NextToken', async () => {
    // Records with a key resource: LookupEvents' own records (made meanwhile) have none.
    const keyed = attr('ResourceType', 'AWS::KMS::Key');
    const all = await lookup(keyed);
    assert.equal(all.Events.length, encrypts + 3);
    const paged = await lookup([...keyed, '--page-size', '3']);
    assert.deepEqual(paged.Events.map((e) => e.EventId), all.Events.map((e) => e.EventId));
    assert.equal(new Set(all.Events.map((e) => e.EventId)).size, all.Events.length);
    const first = await lookup([...keyed, '--max-items', '4']);
    assert.equal(first.Events.length, 4);
    assert.ok(first.NextToken);
    const rest = await lookup([...keyed, '--starting-token', first.NextToken!]);
    assert.deepEqual([...first.Events, ...rest.Events].map((e) => e.EventId), all.Events.map((e) => e.EventId));
  });

  test('a time range excludes what happened outside it', async () => {
    const future = new Date(Date.now() + 3_600_000).toISOString();
    assert.deepEqual((await lookup(['--start-time', future])).Events, []);
    const now = await lookup(['--start-time', new Date(Date.now() - 600_000).toISOString(), '--end-time', new Date(Date.now() + 60_000).toISOString()]);
    assert.ok(now.Events.length >= encrypts + 4);
  });

  test('LookupEvents calls are themselves recorded, under cloudtrail.amazonaws.com', async () => {
    const { Events } = await lookup(attr('EventSource', 'cloudtrail.amazonaws.com'));
    assert.ok(Events.length >= 1);
    assert.ok(Events.every((e) => e.EventName === 'LookupEvents' && e.ReadOnly === 'true'));
  });

  test('IAM and STS calls are recorded too, without the secrets they return', async () => {
    const made = await aws(['iam', 'create-user', '--user-name', 'audit-alice']);
    assert.equal(made.code, 0, made.stderr);
    const key = await aws(['iam', 'create-access-key', '--user-name', 'audit-alice']);
    assert.equal(key.code, 0, key.stderr);
    const secret = (JSON.parse(key.stdout) as { AccessKey: { SecretAccessKey: string } }).AccessKey.SecretAccessKey;
    assert.equal((await aws(['sts', 'get-caller-identity'])).code, 0);
    const iam = await lookup(attr('EventSource', 'iam.amazonaws.com'));
    assert.deepEqual(iam.Events.map((e) => e.EventName).sort(), ['CreateAccessKey', 'CreateUser']);
    for (const e of iam.Events) {
      assert.ok(!e.CloudTrailEvent.includes(secret), `${e.EventName} records the secret access key`);
      assert.equal(e.ReadOnly, 'false');
    }
    const created = JSON.parse(iam.Events.find((e) => e.EventName === 'CreateUser')!.CloudTrailEvent) as Record<string, any>;
    assert.deepEqual(created.requestParameters, { userName: 'audit-alice' });
    const sts = await lookup(attr('EventSource', 'sts.amazonaws.com'));
    assert.deepEqual(sts.Events.map((e) => e.EventName), ['GetCallerIdentity']);
  });

  test('another account sees only its own records', async () => {
    const creds = join(home, 'other-credentials');
    (await import('node:fs')).writeFileSync(creds, `[default]\naws_access_key_id = ${OTHER.accessKeyId}\naws_secret_access_key = ${OTHER.secretAccessKey}\nregion = us-east-1\n`);
    const { Events } = await lookup(attr('ResourceName', keyA), { AWS_SHARED_CREDENTIALS_FILE: creds });
    assert.deepEqual(Events, []);
  });

  test('CloudTrail errors: two attributes, a bad page size, a bad token, an inverted range', async () => {
    const two = await aws(['cloudtrail', 'lookup-events', '--lookup-attributes', 'AttributeKey=EventName,AttributeValue=Encrypt', 'AttributeKey=Username,AttributeValue=root']);
    assert.notEqual(two.code, 0);
    assert.match(two.stderr, /InvalidLookupAttributesException/);
    const big = await aws(['cloudtrail', 'lookup-events', '--page-size', '51']);
    assert.match(big.stderr, /InvalidMaxResultsException/);
    const token = await aws(['cloudtrail', 'lookup-events', '--starting-token', 'bm9wZQ']);
    assert.notEqual(token.code, 0);
    const range = await aws(['cloudtrail', 'lookup-events', '--start-time', '2026-01-02T00:00:00Z', '--end-time', '2026-01-01T00:00:00Z']);
    assert.match(range.stderr, /InvalidTimeRangeException/);
  });
});
