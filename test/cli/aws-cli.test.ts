/**
 * The AWS CLI v2 (Debian package `awscli`, /usr/bin/aws) against Keyhold, configured only by the
 * shared-credentials file the first start writes and `--endpoint-url` (docs/architecture.md §7, README quick
 * start). Nothing is skipped: without /usr/bin/aws this test fails.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertAwsCliInstalled, AwsCli } from '../helpers/aws-cli';
import { startServer, stopAndRemove, type TestServer } from '../helpers/server';

describe('AWS CLI v2 against Keyhold', () => {
  let server: TestServer;
  let cli: AwsCli;

  before(async () => {
    assertAwsCliInstalled();
    server = await startServer();
    // Only what the README promises: the credentials file and --endpoint-url. No AWS_* from the
    // outer environment, no ~/.aws.
    cli = new AwsCli(() => server);
  });
  after(async () => {
    await stopAndRemove(server, { exitCode: 0 });
    cli?.remove();
  });

  test('kms list-keys works at once with the first start credentials file', async () => {
    const out = await cli.json<{ Keys: unknown[] }>(['kms', 'list-keys']);
    assert.deepEqual(out.Keys, []);
  });

  let keyId = '';
  let keyArn = '';

  test('create-key, describe-key and list-keys', async () => {
    const created = await cli.json(['kms', 'create-key', '--description', 'cli key', '--tags', 'TagKey=team,TagValue=blue']);
    keyId = created.KeyMetadata.KeyId;
    keyArn = created.KeyMetadata.Arn;
    assert.match(keyId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(keyArn, `arn:aws:kms:us-east-1:${server.accountId}:key/${keyId}`);
    assert.equal(created.KeyMetadata.KeyState, 'Enabled');
    assert.equal(created.KeyMetadata.KeySpec, 'SYMMETRIC_DEFAULT');

    const described = await cli.json(['kms', 'describe-key', '--key-id', keyArn]);
    assert.equal(described.KeyMetadata.KeyId, keyId);
    assert.equal(described.KeyMetadata.Description, 'cli key');
    assert.equal(described.KeyMetadata.Enabled, true);
    assert.equal(typeof described.KeyMetadata.CreationDate, 'string'); // the CLI renders epoch seconds as ISO 8601

    const listed = await cli.json(['kms', 'list-keys']);
    assert.deepEqual(listed.Keys, [{ KeyId: keyId, KeyArn: keyArn }]);
  });

  test('encrypt with fileb:// and --query CiphertextBlob, then decrypt', async () => {
    const plaintext = randomBytes(200);
    const pt = cli.file('plain.bin', plaintext);
    const b64 = (await cli.ok([
      'kms', 'encrypt', '--key-id', keyId, '--plaintext', `fileb://${pt}`,
      '--encryption-context', 'purpose=cli,tenant=acme', '--output', 'text', '--query', 'CiphertextBlob',
    ])).trim();
    const blob = Buffer.from(b64, 'base64');
    assert.ok(blob.length > plaintext.length, 'ciphertext blob is longer than the plaintext');
    assert.ok(!blob.includes(plaintext), 'ciphertext must not contain the plaintext');
    const ct = cli.file('cipher.bin', blob);

    const dec = await cli.json(['kms', 'decrypt', '--ciphertext-blob', `fileb://${ct}`, '--encryption-context', 'purpose=cli,tenant=acme']);
    assert.equal(dec.KeyId, keyArn);
    assert.equal(dec.EncryptionAlgorithm, 'SYMMETRIC_DEFAULT');
    assert.ok(Buffer.from(dec.Plaintext, 'base64').equals(plaintext));

    const wrongContext = await cli.run(['kms', 'decrypt', '--ciphertext-blob', `fileb://${ct}`, '--encryption-context', 'purpose=other']);
    assert.equal(wrongContext.code, 254);
    assert.match(wrongContext.stderr, /InvalidCiphertextException/);
  });

  test('generate-data-key: the encrypted copy decrypts to the plaintext copy', async () => {
    const out = await cli.json(['kms', 'generate-data-key', '--key-id', keyId, '--key-spec', 'AES_256']);
    assert.equal(out.KeyId, keyArn);
    const dataKey = Buffer.from(out.Plaintext, 'base64');
    assert.equal(dataKey.length, 32);
    const ct = cli.file('datakey.bin', Buffer.from(out.CiphertextBlob, 'base64'));
    const dec = await cli.json(['kms', 'decrypt', '--ciphertext-blob', `fileb://${ct}`, '--key-id', keyId]);
    assert.ok(Buffer.from(dec.Plaintext, 'base64').equals(dataKey));
  });

  test('create-alias, list-aliases, update-alias, delete-alias', async () => {
    const second = await cli.json(['kms', 'create-key', '--description', 'second']);
    const key2 = second.KeyMetadata.KeyId as string;

    assert.equal((await cli.ok(['kms', 'create-alias', '--alias-name', 'alias/cli-test', '--target-key-id', keyId])).trim(), '');
    let aliases = (await cli.json(['kms', 'list-aliases'])).Aliases as Array<{ AliasName: string; AliasArn: string; TargetKeyId?: string }>;
    const mine = aliases.find((a) => a.AliasName === 'alias/cli-test');
    assert.ok(mine, `alias/cli-test not listed: ${JSON.stringify(aliases)}`);
    assert.equal(mine.TargetKeyId, keyId);
    assert.equal(mine.AliasArn, `arn:aws:kms:us-east-1:${server.accountId}:alias/cli-test`);

    // The alias resolves as a KeyId.
    const viaAlias = await cli.json(['kms', 'describe-key', '--key-id', 'alias/cli-test']);
    assert.equal(viaAlias.KeyMetadata.KeyId, keyId);

    await cli.ok(['kms', 'update-alias', '--alias-name', 'alias/cli-test', '--target-key-id', key2]);
    const forKey2 = (await cli.json(['kms', 'list-aliases', '--key-id', key2])).Aliases as Array<{ AliasName: string; TargetKeyId: string }>;
    assert.deepEqual(forKey2.map((a) => [a.AliasName, a.TargetKeyId]), [['alias/cli-test', key2]]);
    const forKey1 = (await cli.json(['kms', 'list-aliases', '--key-id', keyId])).Aliases as unknown[];
    assert.deepEqual(forKey1, []);

    await cli.ok(['kms', 'delete-alias', '--alias-name', 'alias/cli-test']);
    aliases = (await cli.json(['kms', 'list-aliases'])).Aliases;
    assert.equal(aliases.find((a) => a.AliasName === 'alias/cli-test'), undefined);
    const gone = await cli.run(['kms', 'describe-key', '--key-id', 'alias/cli-test']);
    assert.equal(gone.code, 254);
    assert.match(gone.stderr, /NotFoundException/);
  });

  test('tag-resource, list-resource-tags, untag-resource', async () => {
    await cli.ok(['kms', 'tag-resource', '--key-id', keyId, '--tags', 'TagKey=env,TagValue=test', 'TagKey=owner,TagValue=ops']);
    const tagged = await cli.json(['kms', 'list-resource-tags', '--key-id', keyId]);
    const sorted = (t: Array<{ TagKey: string; TagValue: string }>): string[] => t.map((x) => `${x.TagKey}=${x.TagValue}`).sort();
    assert.deepEqual(sorted(tagged.Tags), ['env=test', 'owner=ops', 'team=blue']);
    // The CLI paginates list-resource-tags itself, so Truncated/NextMarker are consumed by it.

    await cli.ok(['kms', 'untag-resource', '--key-id', keyId, '--tag-keys', 'env', 'owner']);
    const after = await cli.json(['kms', 'list-resource-tags', '--key-id', keyId]);
    assert.deepEqual(sorted(after.Tags), ['team=blue']);
  });

  test('schedule-key-deletion puts the key in PendingDeletion', async () => {
    const doomed = (await cli.json(['kms', 'create-key', '--description', 'doomed'])).KeyMetadata.KeyId as string;
    const out = await cli.json(['kms', 'schedule-key-deletion', '--key-id', doomed, '--pending-window-in-days', '7']);
    assert.equal(out.KeyId, `arn:aws:kms:us-east-1:${server.accountId}:key/${doomed}`);
    assert.equal(out.KeyState, 'PendingDeletion');
    assert.equal(out.PendingWindowInDays, 7);
    const days = (Date.parse(out.DeletionDate) - Date.now()) / 86_400_000;
    assert.ok(days > 6.9 && days < 7.1, `DeletionDate ${out.DeletionDate} is not ~7 days ahead`);

    const described = await cli.json(['kms', 'describe-key', '--key-id', doomed]);
    assert.equal(described.KeyMetadata.KeyState, 'PendingDeletion');
    assert.equal(described.KeyMetadata.Enabled, false);

    const pt = cli.file('small.bin', Buffer.from('x'));
    const refused = await cli.run(['kms', 'encrypt', '--key-id', doomed, '--plaintext', `fileb://${pt}`]);
    assert.equal(refused.code, 254);
    assert.match(refused.stderr, /KMSInvalidStateException/);
  });

  test('describe-key of a missing key exits 254 with NotFoundException', async () => {
    const missing = '11111111-2222-3333-4444-555555555555';
    const r = await cli.run(['kms', 'describe-key', '--key-id', missing]);
    assert.equal(r.code, 254, r.stderr);
    assert.match(r.stderr, /NotFoundException/);
    assert.match(r.stderr, /DescribeKey/);
    assert.equal(r.stdout, '');
  });

  test('the credentials file is mode 0600 and holds the [default] profile', () => {
    const text = readFileSync(join(server.dataDir, 'credentials'), 'utf8');
    assert.match(text, /^\[default\]$/m);
    assert.match(text, new RegExp(`aws_access_key_id = ${server.credentials.accessKeyId}`));
  });
});
