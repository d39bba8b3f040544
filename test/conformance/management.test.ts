/**
 * Key management operations through @aws-sdk/client-kms over a real socket: EnableKey,
 * DisableKey, UpdateKeyDescription, ListKeys, aliases (Create/Update/Delete/ListAliases), tags
 * (TagResource, UntagResource, ListResourceTags), key policies (Get/Put/ListKeyPolicies) and
 * deletion (ScheduleKeyDeletion, CancelKeyDeletion) — happy paths, pagination walks, state
 * transitions and AWS's errors (name and message).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EncryptCommand,
  GetKeyPolicyCommand,
  KMSClient,
  ListAliasesCommand,
  ListKeyPoliciesCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateAliasCommand,
  UpdateKeyDescriptionCommand,
  type Tag,
} from '@aws-sdk/client-kms';
import { rejects, validation } from '../helpers/assertions';
import { startServer, stopAndRemove, type TestServer } from '../helpers/server';

interface Page<T> {
  items: T[];
  Truncated?: boolean;
  NextMarker?: string;
}

/** Follows NextMarker to the end, checking each page's size and the Truncated/NextMarker pairing. */
async function walk<T>(limit: number, fetch: (marker: string | undefined) => Promise<Page<T>>): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let marker: string | undefined;
  for (let pages = 1; pages <= 1000; pages++) {
    const p = await fetch(marker);
    assert.ok(p.items.length <= limit, `page of ${p.items.length} exceeds Limit ${limit}`);
    items.push(...p.items);
    if (p.Truncated !== true) {
      assert.equal(p.Truncated, false);
      assert.equal(p.NextMarker, undefined, 'NextMarker only when Truncated');
      return { items, pages };
    }
    assert.equal(typeof p.NextMarker, 'string');
    marker = p.NextMarker;
  }
  throw new Error('pagination did not end');
}

function assertEachOnce(seen: readonly string[], expected: readonly string[]): void {
  assert.equal(new Set(seen).size, seen.length, 'an item appeared on more than one page');
  for (const e of expected) assert.ok(seen.includes(e), `${e} missing from the walk`);
}

describe('key management', () => {
  let server: TestServer;
  let kms: KMSClient;
  let region: string;
  let account: string;

  const keyArnOf = (keyId: string): string => `arn:aws:kms:${region}:${account}:key/${keyId}`;
  const aliasArnOf = (name: string): string => `arn:aws:kms:${region}:${account}:${name}`;

  async function newKey(description = 'management test'): Promise<{ id: string; arn: string }> {
    const { KeyMetadata: m } = await kms.send(new CreateKeyCommand({ Description: description }));
    return { id: m!.KeyId!, arn: m!.Arn! };
  }

  async function encryptsWith(keyId: string): Promise<string> {
    const out = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('hello') }));
    return out.KeyId!;
  }

  before(async () => {
    server = await startServer();
    kms = server.client();
    region = server.region;
    account = server.accountId;
  });
  after(async () => {
    kms?.destroy();
    await stopAndRemove(server, { exitCode: 0 });
  });

  describe('EnableKey and DisableKey', () => {
    test('DisableKey makes Encrypt fail with DisabledException; EnableKey makes it work again', async () => {
      const k = await newKey();
      assert.equal(await encryptsWith(k.id), k.arn);
      assert.equal(await kms.send(new DisableKeyCommand({ KeyId: k.id })).then(() => 'ok'), 'ok');
      const d = await kms.send(new DescribeKeyCommand({ KeyId: k.id }));
      assert.equal(d.KeyMetadata!.KeyState, 'Disabled');
      assert.equal(d.KeyMetadata!.Enabled, false);
      await rejects(kms.send(new EncryptCommand({ KeyId: k.id, Plaintext: Buffer.from('x') })), 'DisabledException', `${k.arn} is disabled.`);
      await kms.send(new EnableKeyCommand({ KeyId: k.arn }));
      const e = await kms.send(new DescribeKeyCommand({ KeyId: k.id }));
      assert.equal(e.KeyMetadata!.KeyState, 'Enabled');
      assert.equal(e.KeyMetadata!.Enabled, true);
      assert.equal(await encryptsWith(k.id), k.arn);
    });

    test('DisableKey and EnableKey are idempotent', async () => {
      const k = await newKey();
      await kms.send(new EnableKeyCommand({ KeyId: k.id }));
      await kms.send(new DisableKeyCommand({ KeyId: k.id }));
      await kms.send(new DisableKeyCommand({ KeyId: k.id }));
      assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: k.id }))).KeyMetadata!.KeyState, 'Disabled');
      await kms.send(new EnableKeyCommand({ KeyId: k.id }));
      await kms.send(new EnableKeyCommand({ KeyId: k.id }));
      assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: k.id }))).KeyMetadata!.KeyState, 'Enabled');
    });

    test('EnableKey and DisableKey on a key pending deletion fail with KMSInvalidStateException', async () => {
      const k = await newKey();
      await kms.send(new ScheduleKeyDeletionCommand({ KeyId: k.id, PendingWindowInDays: 7 }));
      await rejects(kms.send(new EnableKeyCommand({ KeyId: k.id })), 'KMSInvalidStateException', `${k.arn} is pending deletion.`);
      await rejects(kms.send(new DisableKeyCommand({ KeyId: k.id })), 'KMSInvalidStateException', `${k.arn} is pending deletion.`);
      assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: k.id }))).KeyMetadata!.KeyState, 'PendingDeletion');
    });

    test('DisableKey of an unknown key fails with NotFoundException', async () => {
      const id = randomUUID();
      await rejects(kms.send(new DisableKeyCommand({ KeyId: id })), 'NotFoundException', `Key '${keyArnOf(id)}' does not exist`);
      await rejects(kms.send(new EnableKeyCommand({ KeyId: keyArnOf(id) })), 'NotFoundException', `Key '${keyArnOf(id)}' does not exist`);
    });

    test('DisableKey does not accept an alias (key id or key ARN only)', async () => {
      const k = await newKey();
      await kms.send(new CreateAliasCommand({ AliasName: 'alias/toggle-by-alias', TargetKeyId: k.id }));
      await rejects(kms.send(new DisableKeyCommand({ KeyId: 'alias/toggle-by-alias' })), 'NotFoundException', 'Invalid keyId alias/toggle-by-alias');
      assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: k.id }))).KeyMetadata!.KeyState, 'Enabled');
    });
  });

  describe('UpdateKeyDescription', () => {
    test('replaces the description DescribeKey shows, including with the empty string', async () => {
      const k = await newKey('before');
      await kms.send(new UpdateKeyDescriptionCommand({ KeyId: k.id, Description: 'after' }));
      assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: k.id }))).KeyMetadata!.Description, 'after');
      await kms.send(new UpdateKeyDescriptionCommand({ KeyId: k.arn, Description: '' }));
      assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: k.id }))).KeyMetadata!.Description, '');
    });

    test('rejects a description over 8192 characters with ValidationException', async () => {
      const k = await newKey();
      await rejects(
        kms.send(new UpdateKeyDescriptionCommand({ KeyId: k.id, Description: 'd'.repeat(8193) })),
        'ValidationException',
        validation('description', 'have length less than or equal to 8192', 'd'.repeat(8193)),
      );
    });

    test('a key pending deletion refuses it with KMSInvalidStateException', async () => {
      const k = await newKey('kept');
      await kms.send(new ScheduleKeyDeletionCommand({ KeyId: k.id }));
      await rejects(
        kms.send(new UpdateKeyDescriptionCommand({ KeyId: k.id, Description: 'changed' })),
        'KMSInvalidStateException',
        `${k.arn} is pending deletion.`,
      );
      assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: k.id }))).KeyMetadata!.Description, 'kept');
    });
  });

  describe('ListKeys', () => {
    test('a walk with a small Limit returns every key exactly once', async () => {
      const created: string[] = [];
      for (let i = 0; i < 7; i++) created.push((await newKey()).id);
      const { items, pages } = await walk(2, async (Marker) => {
        const out = await kms.send(new ListKeysCommand({ Limit: 2, Marker }));
        return { items: out.Keys!, Truncated: out.Truncated, NextMarker: out.NextMarker };
      });
      assert.ok(pages >= 4);
      for (const k of items) assert.equal(k.KeyArn, keyArnOf(k.KeyId!));
      assertEachOnce(items.map((k) => k.KeyId!), created);
      const all = await kms.send(new ListKeysCommand({ Limit: 1000 }));
      assert.equal(all.Truncated, false);
      assert.deepEqual(all.Keys!.map((k) => k.KeyId).sort(), items.map((k) => k.KeyId).sort());
    });

    test('without Limit it returns up to 100 keys, and includes keys pending deletion', async () => {
      const k = await newKey();
      await kms.send(new ScheduleKeyDeletionCommand({ KeyId: k.id }));
      const out = await kms.send(new ListKeysCommand({}));
      assert.ok(out.Keys!.length <= 100);
      assert.ok(out.Keys!.some((e) => e.KeyId === k.id));
    });

    test('rejects Limit outside 1–1000 with ValidationException and a bad Marker with InvalidMarkerException', async () => {
      await rejects(kms.send(new ListKeysCommand({ Limit: 0 })), 'ValidationException', validation('limit', 'have value greater than or equal to 1', 0));
      await rejects(kms.send(new ListKeysCommand({ Limit: 1001 })), 'ValidationException', validation('limit', 'have value less than or equal to 1000', 1001));
      await rejects(kms.send(new ListKeysCommand({ Marker: 'not-a-marker' })), 'InvalidMarkerException', 'The marker is not valid.');
    });
  });

  describe('aliases', () => {
    test('an alias works in Encrypt, Decrypt and DescribeKey by alias name and by alias ARN', async () => {
      const k = await newKey();
      await kms.send(new CreateAliasCommand({ AliasName: 'alias/app/data-key', TargetKeyId: k.id }));
      const arn = aliasArnOf('alias/app/data-key');
      for (const ref of ['alias/app/data-key', arn]) {
        const d = await kms.send(new DescribeKeyCommand({ KeyId: ref }));
        assert.equal(d.KeyMetadata!.Arn, k.arn);
        const enc = await kms.send(new EncryptCommand({ KeyId: ref, Plaintext: Buffer.from('by alias') }));
        assert.equal(enc.KeyId, k.arn);
        const dec = await kms.send(new DecryptCommand({ KeyId: ref, CiphertextBlob: enc.CiphertextBlob }));
        assert.equal(dec.KeyId, k.arn);
        assert.equal(Buffer.from(dec.Plaintext!).toString(), 'by alias');
      }
    });

    test('CreateAlias accepts the target by key ARN; a taken name fails with AlreadyExistsException', async () => {
      const k = await newKey();
      const other = await newKey();
      await kms.send(new CreateAliasCommand({ AliasName: 'alias/taken', TargetKeyId: k.arn }));
      await rejects(
        kms.send(new CreateAliasCommand({ AliasName: 'alias/taken', TargetKeyId: other.id })),
        'AlreadyExistsException',
        `An alias with the name ${aliasArnOf('alias/taken')} already exists`,
      );
      assert.equal(await encryptsWith('alias/taken'), k.arn);
    });

    test('CreateAlias rejects names without alias/, under alias/aws/, with a colon, or empty, as AWS does', async () => {
      const k = await newKey();
      await rejects(
        kms.send(new CreateAliasCommand({ AliasName: 'my-key', TargetKeyId: k.id })),
        'ValidationException',
        'Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html',
      );
      await rejects(
        kms.send(new CreateAliasCommand({ AliasName: 'alias/aws/s3', TargetKeyId: k.id })),
        'NotAuthorizedException',
        'Alias names beginning with "alias/aws/" are reserved for AWS managed keys.',
      );
      const bareMessage =
        'Alias must have a name after "alias/" made only of alphanumeric characters, forward slashes (/), underscores (_) and dashes (-).';
      await rejects(kms.send(new CreateAliasCommand({ AliasName: 'alias/', TargetKeyId: k.id })), 'InvalidAliasNameException', bareMessage);
      await rejects(kms.send(new CreateAliasCommand({ AliasName: 'alias/a:b', TargetKeyId: k.id })), 'ValidationException', 'alias/a:b contains invalid characters for an alias');
    });

    test('CreateAlias rejects names outside the model pattern and length with ValidationException', async () => {
      const k = await newKey();
      await rejects(
        kms.send(new CreateAliasCommand({ AliasName: 'alias/has space', TargetKeyId: k.id })),
        'ValidationException',
        validation('aliasName', 'satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$', 'alias/has space'),
      );
      await rejects(
        kms.send(new CreateAliasCommand({ AliasName: `alias/${'a'.repeat(251)}`, TargetKeyId: k.id })),
        'ValidationException',
        validation('aliasName', 'have length less than or equal to 256', `alias/${'a'.repeat(251)}`),
      );
    });

    test('CreateAlias needs a key id or key ARN target that exists and is not pending deletion', async () => {
      const k = await newKey();
      await kms.send(new CreateAliasCommand({ AliasName: 'alias/first-name', TargetKeyId: k.id }));
      await rejects(
        kms.send(new CreateAliasCommand({ AliasName: 'alias/second-name', TargetKeyId: 'alias/first-name' })),
        'ValidationException',
        'Aliases must refer to keys. Not aliases',
      );
      const missing = randomUUID();
      await rejects(
        kms.send(new CreateAliasCommand({ AliasName: 'alias/second-name', TargetKeyId: missing })),
        'NotFoundException',
        `Key '${keyArnOf(missing)}' does not exist`,
      );
      await kms.send(new ScheduleKeyDeletionCommand({ KeyId: k.id }));
      await rejects(
        kms.send(new CreateAliasCommand({ AliasName: 'alias/second-name', TargetKeyId: k.id })),
        'KMSInvalidStateException',
        `${k.arn} is pending deletion.`,
      );
    });

    test('a key can have 50 aliases; the 51st fails with LimitExceededException; ListAliases pages through them', async () => {
      const k = await newKey();
      const names: string[] = [];
      for (let i = 0; i < 50; i++) {
        const name = `alias/many/${String(i).padStart(2, '0')}`;
        names.push(name);
        await kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: k.id }));
      }
      await rejects(
        kms.send(new CreateAliasCommand({ AliasName: 'alias/many/50', TargetKeyId: k.id })),
        'LimitExceededException',
        `${k.arn} already has the maximum of 50 aliases.`,
      );
      const { items, pages } = await walk(7, async (Marker) => {
        const out = await kms.send(new ListAliasesCommand({ KeyId: k.id, Limit: 7, Marker }));
        return { items: out.Aliases!, Truncated: out.Truncated, NextMarker: out.NextMarker };
      });
      assert.equal(pages, 8);
      assert.equal(items.length, 50);
      assertEachOnce(items.map((a) => a.AliasName!), names);
      for (const a of items) {
        assert.equal(a.AliasArn, aliasArnOf(a.AliasName!));
        assert.equal(a.TargetKeyId, k.id);
        assert.ok(a.CreationDate instanceof Date && Math.abs(a.CreationDate.getTime() - Date.now()) < 120_000);
        assert.ok(a.LastUpdatedDate instanceof Date);
      }
      // Removing one makes room again.
      await kms.send(new DeleteAliasCommand({ AliasName: 'alias/many/00' }));
      await kms.send(new CreateAliasCommand({ AliasName: 'alias/many/50', TargetKeyId: k.id }));
    });

    test('ListAliases without KeyId walks every alias of the account exactly once', async () => {
      const k1 = await newKey();
      const k2 = await newKey();
      const mine = ['alias/walk/a', 'alias/walk/b', 'alias/walk/c', 'alias/walk/d', 'alias/walk/e'];
      for (const [i, name] of mine.entries()) {
        await kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: i % 2 === 0 ? k1.id : k2.arn }));
      }
      const { items } = await walk(3, async (Marker) => {
        const out = await kms.send(new ListAliasesCommand({ Limit: 3, Marker }));
        return { items: out.Aliases!, Truncated: out.Truncated, NextMarker: out.NextMarker };
      });
      assertEachOnce(items.map((a) => a.AliasName!), mine);
      const sorted = items.map((a) => a.AliasName!);
      assert.deepEqual(sorted, [...sorted].sort());
      const ofK2 = await kms.send(new ListAliasesCommand({ KeyId: k2.arn }));
      assert.deepEqual(ofK2.Aliases!.map((a) => a.AliasName), ['alias/walk/b', 'alias/walk/d']);
      assert.equal(ofK2.Truncated, false);
      assert.equal(ofK2.NextMarker, undefined);
      const none = await kms.send(new ListAliasesCommand({ KeyId: (await newKey()).id }));
      assert.deepEqual(none.Aliases, []);
    });

    test('ListAliases rejects Limit over 100, a bad Marker, an alias as KeyId and an unknown key', async () => {
      await rejects(kms.send(new ListAliasesCommand({ Limit: 101 })), 'ValidationException', validation('limit', 'have value less than or equal to 100', 101));
      await rejects(kms.send(new ListAliasesCommand({ Marker: 'bm90LWEtbWFya2Vy' })), 'InvalidMarkerException', 'The marker is not valid.');
      await rejects(kms.send(new ListAliasesCommand({ KeyId: 'alias/walk/a' })), 'NotFoundException', 'Invalid keyId alias/walk/a');
      const missing = randomUUID();
      await rejects(kms.send(new ListAliasesCommand({ KeyId: missing })), 'NotFoundException', `Key '${keyArnOf(missing)}' does not exist`);
    });

    test('UpdateAlias re-points an alias; Encrypt by alias then uses the new key', async () => {
      const k1 = await newKey();
      const k2 = await newKey();
      await kms.send(new CreateAliasCommand({ AliasName: 'alias/moving', TargetKeyId: k1.id }));
      assert.equal(await encryptsWith('alias/moving'), k1.arn);
      const before = (await kms.send(new ListAliasesCommand({ KeyId: k1.id }))).Aliases![0]!;
      await kms.send(new UpdateAliasCommand({ AliasName: 'alias/moving', TargetKeyId: k2.arn }));
      assert.equal(await encryptsWith('alias/moving'), k2.arn);
      assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: aliasArnOf('alias/moving') }))).KeyMetadata!.Arn, k2.arn);
      const moved = (await kms.send(new ListAliasesCommand({ KeyId: k2.id }))).Aliases!;
      assert.equal(moved.length, 1);
      assert.equal(moved[0]!.TargetKeyId, k2.id);
      assert.equal(moved[0]!.CreationDate!.getTime(), before.CreationDate!.getTime());
      assert.ok(moved[0]!.LastUpdatedDate!.getTime() >= before.LastUpdatedDate!.getTime());
      assert.deepEqual((await kms.send(new ListAliasesCommand({ KeyId: k1.id }))).Aliases, []);
    });

    test('UpdateAlias of an unknown alias fails with NotFoundException', async () => {
      const k = await newKey();
      await rejects(
        kms.send(new UpdateAliasCommand({ AliasName: 'alias/never-made', TargetKeyId: k.id })),
        'NotFoundException',
        `Alias ${aliasArnOf('alias/never-made')} is not found.`,
      );
      await rejects(
        kms.send(new UpdateAliasCommand({ AliasName: 'alias/aws/ebs', TargetKeyId: k.id })),
        'NotAuthorizedException',
        'Alias names beginning with "alias/aws/" are reserved for AWS managed keys.',
      );
    });

    test('UpdateAlias refuses a destination pending deletion but may move away from a source pending deletion', async () => {
      const k1 = await newKey();
      const k2 = await newKey();
      await kms.send(new CreateAliasCommand({ AliasName: 'alias/rescue', TargetKeyId: k1.id }));
      await kms.send(new ScheduleKeyDeletionCommand({ KeyId: k2.id }));
      await rejects(
        kms.send(new UpdateAliasCommand({ AliasName: 'alias/rescue', TargetKeyId: k2.id })),
        'KMSInvalidStateException',
        `${k2.arn} is pending deletion.`,
      );
      assert.equal(await encryptsWith('alias/rescue'), k1.arn);
      await kms.send(new ScheduleKeyDeletionCommand({ KeyId: k1.id }));
      const k3 = await newKey();
      await kms.send(new UpdateAliasCommand({ AliasName: 'alias/rescue', TargetKeyId: k3.id }));
      assert.equal(await encryptsWith('alias/rescue'), k3.arn);
    });

    test('DeleteAlias removes the alias but not the key; deleting it again fails with NotFoundException', async () => {
      const k = await newKey();
      await kms.send(new CreateAliasCommand({ AliasName: 'alias/short-lived', TargetKeyId: k.id }));
      assert.equal(await encryptsWith('alias/short-lived'), k.arn);
      await kms.send(new DeleteAliasCommand({ AliasName: 'alias/short-lived' }));
      const arn = aliasArnOf('alias/short-lived');
      await rejects(
        kms.send(new EncryptCommand({ KeyId: 'alias/short-lived', Plaintext: Buffer.from('x') })),
        'NotFoundException',
        `Alias ${arn} is not found.`,
      );
      await rejects(kms.send(new DescribeKeyCommand({ KeyId: arn })), 'NotFoundException', `Alias ${arn} is not found.`);
      await rejects(kms.send(new DeleteAliasCommand({ AliasName: 'alias/short-lived' })), 'NotFoundException', `Alias ${arn} is not found.`);
      assert.equal(await encryptsWith(k.id), k.arn);
      // The name is free again.
      await kms.send(new CreateAliasCommand({ AliasName: 'alias/short-lived', TargetKeyId: k.id }));
    });

    test('DeleteAlias works when the key is pending deletion and checks the name like CreateAlias', async () => {
      const k = await newKey();
      await kms.send(new CreateAliasCommand({ AliasName: 'alias/doomed', TargetKeyId: k.id }));
      await kms.send(new ScheduleKeyDeletionCommand({ KeyId: k.id }));
      await kms.send(new DeleteAliasCommand({ AliasName: 'alias/doomed' }));
      await rejects(
        kms.send(new DeleteAliasCommand({ AliasName: 'doomed' })),
        'ValidationException',
        'Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html',
      );
    });
  });

  describe('tags', () => {
    const listAllTags = async (keyId: string): Promise<Tag[]> =>
      (await kms.send(new ListResourceTagsCommand({ KeyId: keyId }))).Tags!;

    test('TagResource adds and overwrites tags; UntagResource removes them; ListResourceTags orders by key', async () => {
      const k = await newKey();
      await kms.send(new TagResourceCommand({ KeyId: k.id, Tags: [{ TagKey: 'team', TagValue: 'blue' }, { TagKey: 'env', TagValue: '' }] }));
      assert.deepEqual(await listAllTags(k.id), [{ TagKey: 'env', TagValue: '' }, { TagKey: 'team', TagValue: 'blue' }]);
      await kms.send(new TagResourceCommand({ KeyId: k.arn, Tags: [{ TagKey: 'team', TagValue: 'red' }] }));
      assert.deepEqual(await listAllTags(k.arn), [{ TagKey: 'env', TagValue: '' }, { TagKey: 'team', TagValue: 'red' }]);
      await kms.send(new UntagResourceCommand({ KeyId: k.id, TagKeys: ['env', 'not-there'] }));
      const out = await kms.send(new ListResourceTagsCommand({ KeyId: k.id }));
      assert.deepEqual(out.Tags, [{ TagKey: 'team', TagValue: 'red' }]);
      assert.equal(out.Truncated, false);
      assert.equal(out.NextMarker, undefined);
    });

    test('TagResource rejects reserved and duplicate tag keys with TagException', async () => {
      const k = await newKey();
      await rejects(
        kms.send(new TagResourceCommand({ KeyId: k.id, Tags: [{ TagKey: 'aws:owner', TagValue: 'x' }] })),
        'TagException',
        'Tag keys beginning with aws: are reserved.',
      );
      await rejects(
        kms.send(new TagResourceCommand({ KeyId: k.id, Tags: [{ TagKey: 'a', TagValue: '1' }, { TagKey: 'a', TagValue: '2' }] })),
        'TagException',
        'Duplicate tag keys are not allowed in one request.',
      );
      assert.deepEqual(await listAllTags(k.id), []);
    });

    test('TagResource and UntagResource validate lengths and required members with ValidationException', async () => {
      const k = await newKey();
      await rejects(
        kms.send(new TagResourceCommand({ KeyId: k.id, Tags: [{ TagKey: 'k'.repeat(129), TagValue: 'v' }] })),
        'ValidationException',
        validation('tags.1.member.tagKey', 'have length less than or equal to 128', 'k'.repeat(129)),
      );
      await rejects(
        kms.send(new TagResourceCommand({ KeyId: k.id, Tags: [{ TagKey: 'k', TagValue: 'v'.repeat(257) }] })),
        'ValidationException',
        validation('tags.1.member.tagValue', 'have length less than or equal to 256', 'v'.repeat(257)),
      );
      await rejects(
        kms.send(new UntagResourceCommand({ KeyId: k.id, TagKeys: ['ok', ''] })),
        'ValidationException',
        validation('tagKeys.2.member', 'have length greater than or equal to 1', ''),
      );
      await rejects(
        kms.send(new UntagResourceCommand({ KeyId: k.id } as unknown as { KeyId: string; TagKeys: string[] })),
        'ValidationException',
        validation('tagKeys', 'not be null', null),
      );
    });

    test('a key holds at most 50 tags: going over fails with LimitExceededException', async () => {
      const k = await newKey();
      const first = Array.from({ length: 30 }, (_, i) => ({ TagKey: `t${String(i).padStart(2, '0')}`, TagValue: `v${i}` }));
      await kms.send(new TagResourceCommand({ KeyId: k.id, Tags: first }));
      const more = Array.from({ length: 21 }, (_, i) => ({ TagKey: `u${String(i).padStart(2, '0')}`, TagValue: `w${i}` }));
      await rejects(
        kms.send(new TagResourceCommand({ KeyId: k.id, Tags: more })),
        'LimitExceededException',
        `The request would give ${k.arn} more than 50 tags.`,
      );
      assert.equal((await listAllTags(k.id)).length, 30);
      // Overwriting existing keys does not count twice; exactly 50 is allowed.
      await kms.send(new TagResourceCommand({ KeyId: k.id, Tags: [...first.slice(0, 5), ...more.slice(0, 20)] }));
      assert.equal((await listAllTags(k.id)).length, 50);
      await rejects(
        kms.send(new TagResourceCommand({ KeyId: k.id, Tags: [{ TagKey: 'one-more', TagValue: '' }] })),
        'LimitExceededException',
        `The request would give ${k.arn} more than 50 tags.`,
      );
    });

    test('ListResourceTags pages through 50 tags with a small Limit, each exactly once', async () => {
      const k = await newKey();
      const tags = Array.from({ length: 50 }, (_, i) => ({ TagKey: `key-${String(i).padStart(2, '0')}`, TagValue: `value-${i}` }));
      await kms.send(new TagResourceCommand({ KeyId: k.id, Tags: tags }));
      const { items, pages } = await walk(7, async (Marker) => {
        const out = await kms.send(new ListResourceTagsCommand({ KeyId: k.id, Limit: 7, Marker }));
        return { items: out.Tags!, Truncated: out.Truncated, NextMarker: out.NextMarker };
      });
      assert.equal(pages, 8);
      assertEachOnce(items.map((t) => t.TagKey!), tags.map((t) => t.TagKey));
      assert.deepEqual(items, tags);
      assert.equal((await kms.send(new ListResourceTagsCommand({ KeyId: k.id }))).Tags!.length, 50);
    });

    test('ListResourceTags rejects Limit over 50 and a bad Marker', async () => {
      const k = await newKey();
      await rejects(
        kms.send(new ListResourceTagsCommand({ KeyId: k.id, Limit: 51 })),
        'ValidationException',
        validation('limit', 'have value less than or equal to 50', 51),
      );
      await rejects(kms.send(new ListResourceTagsCommand({ KeyId: k.id, Marker: 'garbage!' })), 'InvalidMarkerException', 'The marker is not valid.');
    });

    test('tags of a key pending deletion can be listed but not changed; aliases are not accepted', async () => {
      const k = await newKey();
      await kms.send(new TagResourceCommand({ KeyId: k.id, Tags: [{ TagKey: 'a', TagValue: 'b' }] }));
      await kms.send(new CreateAliasCommand({ AliasName: 'alias/tagged', TargetKeyId: k.id }));
      await rejects(
        kms.send(new TagResourceCommand({ KeyId: 'alias/tagged', Tags: [{ TagKey: 'c', TagValue: 'd' }] })),
        'NotFoundException',
        'Invalid keyId alias/tagged',
      );
      await rejects(kms.send(new ListResourceTagsCommand({ KeyId: aliasArnOf('alias/tagged') })), 'NotFoundException', `Invalid keyId ${aliasArnOf('alias/tagged')}`);
      await kms.send(new ScheduleKeyDeletionCommand({ KeyId: k.id }));
      await rejects(
        kms.send(new TagResourceCommand({ KeyId: k.id, Tags: [{ TagKey: 'c', TagValue: 'd' }] })),
        'KMSInvalidStateException',
        `${k.arn} is pending deletion.`,
      );
      await rejects(kms.send(new UntagResourceCommand({ KeyId: k.id, TagKeys: ['a'] })), 'KMSInvalidStateException', `${k.arn} is pending deletion.`);
      assert.deepEqual(await listAllTags(k.id), [{ TagKey: 'a', TagValue: 'b' }]);
    });
  });

  describe('key policies', () => {
    const policyFor = (sid: string): string =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Sid: sid, Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' }],
      });

    test('GetKeyPolicy returns the default policy, with or without PolicyName', async () => {
      const k = await newKey();
      const a = await kms.send(new GetKeyPolicyCommand({ KeyId: k.id }));
      const b = await kms.send(new GetKeyPolicyCommand({ KeyId: k.arn, PolicyName: 'default' }));
      assert.equal(a.PolicyName, 'default');
      assert.equal(a.Policy, b.Policy);
      const doc = JSON.parse(a.Policy!) as { Statement: { Principal: { AWS: string }; Action: string }[] };
      assert.equal(doc.Statement[0]!.Principal.AWS, `arn:aws:iam::${account}:root`);
      assert.equal(doc.Statement[0]!.Action, 'kms:*');
    });

    test('PutKeyPolicy replaces the policy, verbatim, also with BypassPolicyLockoutSafetyCheck', async () => {
      const k = await newKey();
      await kms.send(new PutKeyPolicyCommand({ KeyId: k.id, Policy: policyFor('one') }));
      assert.equal((await kms.send(new GetKeyPolicyCommand({ KeyId: k.id }))).Policy, policyFor('one'));
      const pretty = JSON.stringify(JSON.parse(policyFor('two')), null, 2);
      await kms.send(new PutKeyPolicyCommand({ KeyId: k.arn, PolicyName: 'default', Policy: pretty, BypassPolicyLockoutSafetyCheck: true }));
      assert.equal((await kms.send(new GetKeyPolicyCommand({ KeyId: k.id }))).Policy, pretty);
    });

    test('a policy name other than "default" fails with NotFoundException', async () => {
      const k = await newKey();
      await rejects(
        kms.send(new GetKeyPolicyCommand({ KeyId: k.id, PolicyName: 'other' })),
        'NotFoundException',
        `Policy other does not exist on key ${k.arn}.`,
      );
      await rejects(
        kms.send(new PutKeyPolicyCommand({ KeyId: k.id, PolicyName: 'other', Policy: policyFor('x') })),
        'NotFoundException',
        `Policy other does not exist on key ${k.arn}.`,
      );
      await rejects(
        kms.send(new GetKeyPolicyCommand({ KeyId: k.id, PolicyName: 'not-a-word' })),
        'ValidationException',
        validation('policyName', 'satisfy regular expression pattern: [\\w]+', 'not-a-word'),
      );
    });

    test('PutKeyPolicy rejects malformed documents with MalformedPolicyDocumentException and keeps the old policy', async () => {
      const k = await newKey();
      const original = (await kms.send(new GetKeyPolicyCommand({ KeyId: k.id }))).Policy;
      await rejects(
        kms.send(new PutKeyPolicyCommand({ KeyId: k.id, Policy: '{"Version": "2012-10-17", ' })),
        'MalformedPolicyDocumentException',
        'The new key policy is not valid JSON.',
      );
      await rejects(
        kms.send(new PutKeyPolicyCommand({ KeyId: k.id, Policy: policyFor('x').replace('"Allow"', '"Perhaps"') })),
        'MalformedPolicyDocumentException',
        'Statement 1 must have an Effect of "Allow" or "Deny".',
      );
      await rejects(
        kms.send(new PutKeyPolicyCommand({ KeyId: k.id, Policy: '{"Version":"2012-10-17","Statement":[]}' })),
        'MalformedPolicyDocumentException',
        'The new key policy has no Statement.',
      );
      assert.equal((await kms.send(new GetKeyPolicyCommand({ KeyId: k.id }))).Policy, original);
    });

    test('key policies can be read and replaced while the key is pending deletion', async () => {
      const k = await newKey();
      await kms.send(new ScheduleKeyDeletionCommand({ KeyId: k.id }));
      await kms.send(new PutKeyPolicyCommand({ KeyId: k.id, Policy: policyFor('pending') }));
      assert.equal((await kms.send(new GetKeyPolicyCommand({ KeyId: k.id }))).Policy, policyFor('pending'));
      assert.deepEqual((await kms.send(new ListKeyPoliciesCommand({ KeyId: k.id }))).PolicyNames, ['default']);
    });

    test('ListKeyPolicies always answers ["default"]; Limit and Marker are checked', async () => {
      const k = await newKey();
      const out = await kms.send(new ListKeyPoliciesCommand({ KeyId: k.id }));
      assert.deepEqual(out.PolicyNames, ['default']);
      assert.equal(out.Truncated, false);
      assert.equal(out.NextMarker, undefined);
      const one = await kms.send(new ListKeyPoliciesCommand({ KeyId: k.arn, Limit: 1 }));
      assert.deepEqual(one.PolicyNames, ['default']);
      assert.equal(one.Truncated, false);
      await rejects(
        kms.send(new ListKeyPoliciesCommand({ KeyId: k.id, Limit: 1001 })),
        'ValidationException',
        validation('limit', 'have value less than or equal to 1000', 1001),
      );
      await rejects(kms.send(new ListKeyPoliciesCommand({ KeyId: k.id, Marker: 'x' })), 'InvalidMarkerException', 'The marker is not valid.');
      const missing = randomUUID();
      await rejects(kms.send(new ListKeyPoliciesCommand({ KeyId: missing })), 'NotFoundException', `Key '${keyArnOf(missing)}' does not exist`);
    });
  });

  describe('ScheduleKeyDeletion and CancelKeyDeletion', () => {
    const DAY_MS = 86_400_000;

    test('ScheduleKeyDeletion defaults to 30 days; DescribeKey shows PendingDeletion and the DeletionDate', async () => {
      const k = await newKey();
      const t0 = Date.now();
      const out = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: k.id }));
      assert.equal(out.KeyId, k.arn);
      assert.equal(out.KeyState, 'PendingDeletion');
      assert.equal(out.PendingWindowInDays, 30);
      assert.ok(out.DeletionDate instanceof Date);
      assert.ok(Math.abs(out.DeletionDate.getTime() - (t0 + 30 * DAY_MS)) < 60_000);
      const { KeyMetadata: m } = await kms.send(new DescribeKeyCommand({ KeyId: k.id }));
      assert.equal(m!.KeyState, 'PendingDeletion');
      assert.equal(m!.Enabled, false);
      assert.equal(m!.DeletionDate!.getTime(), out.DeletionDate.getTime());
      assert.equal(m!.PendingDeletionWindowInDays, 30);
    });

    test('a key pending deletion cannot be used or scheduled again', async () => {
      const k = await newKey();
      await kms.send(new ScheduleKeyDeletionCommand({ KeyId: k.arn, PendingWindowInDays: 7 }));
      await rejects(
        kms.send(new EncryptCommand({ KeyId: k.id, Plaintext: Buffer.from('x') })),
        'KMSInvalidStateException',
        `${k.arn} is pending deletion.`,
      );
      await rejects(kms.send(new ScheduleKeyDeletionCommand({ KeyId: k.id })), 'KMSInvalidStateException', `${k.arn} is pending deletion.`);
    });

    test('PendingWindowInDays must be 7–30 (the model allows 1–365) with ValidationException otherwise', async () => {
      const k = await newKey();
      const window = (days: number) => kms.send(new ScheduleKeyDeletionCommand({ KeyId: k.id, PendingWindowInDays: days }));
      await rejects(window(6), 'ValidationException', validation('pendingWindowInDays', 'have value greater than or equal to 7', 6));
      await rejects(window(31), 'ValidationException', validation('pendingWindowInDays', 'have value less than or equal to 30', 31));
      await rejects(window(0), 'ValidationException', validation('pendingWindowInDays', 'have value greater than or equal to 1', 0));
      await rejects(window(366), 'ValidationException', validation('pendingWindowInDays', 'have value less than or equal to 365', 366));
      assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: k.id }))).KeyMetadata!.KeyState, 'Enabled');
      const t0 = Date.now();
      const out = await window(7);
      assert.equal(out.PendingWindowInDays, 7);
      assert.ok(Math.abs(out.DeletionDate!.getTime() - (t0 + 7 * DAY_MS)) < 60_000);
    });

    test('CancelKeyDeletion leaves the key Disabled, not Enabled; EnableKey then restores it', async () => {
      const k = await newKey();
      await kms.send(new ScheduleKeyDeletionCommand({ KeyId: k.id, PendingWindowInDays: 10 }));
      const out = await kms.send(new CancelKeyDeletionCommand({ KeyId: k.id }));
      assert.equal(out.KeyId, k.arn);
      const { KeyMetadata: m } = await kms.send(new DescribeKeyCommand({ KeyId: k.id }));
      assert.equal(m!.KeyState, 'Disabled');
      assert.equal(m!.Enabled, false);
      assert.equal(m!.DeletionDate, undefined);
      assert.equal(m!.PendingDeletionWindowInDays, undefined);
      await rejects(kms.send(new EncryptCommand({ KeyId: k.id, Plaintext: Buffer.from('x') })), 'DisabledException', `${k.arn} is disabled.`);
      await kms.send(new EnableKeyCommand({ KeyId: k.id }));
      assert.equal(await encryptsWith(k.id), k.arn);
    });

    test('CancelKeyDeletion of a key not pending deletion fails with KMSInvalidStateException', async () => {
      const k = await newKey();
      await rejects(kms.send(new CancelKeyDeletionCommand({ KeyId: k.arn })), 'KMSInvalidStateException', `${k.arn} is not pending deletion.`);
      await kms.send(new DisableKeyCommand({ KeyId: k.id }));
      await rejects(kms.send(new CancelKeyDeletionCommand({ KeyId: k.id })), 'KMSInvalidStateException', `${k.arn} is not pending deletion.`);
    });

    test('a disabled key can be scheduled for deletion and cancelled again', async () => {
      const k = await newKey();
      await kms.send(new DisableKeyCommand({ KeyId: k.id }));
      await kms.send(new ScheduleKeyDeletionCommand({ KeyId: k.id }));
      await kms.send(new CancelKeyDeletionCommand({ KeyId: k.arn }));
      assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: k.id }))).KeyMetadata!.KeyState, 'Disabled');
    });

    test('deletion operations need a key id or key ARN of an existing key', async () => {
      const missing = randomUUID();
      await rejects(kms.send(new ScheduleKeyDeletionCommand({ KeyId: missing })), 'NotFoundException', `Key '${keyArnOf(missing)}' does not exist`);
      await rejects(kms.send(new CancelKeyDeletionCommand({ KeyId: missing })), 'NotFoundException', `Key '${keyArnOf(missing)}' does not exist`);
      const k = await newKey();
      await kms.send(new CreateAliasCommand({ AliasName: 'alias/not-for-deletion', TargetKeyId: k.id }));
      await rejects(
        kms.send(new ScheduleKeyDeletionCommand({ KeyId: 'alias/not-for-deletion' })),
        'NotFoundException',
        'Invalid keyId alias/not-for-deletion',
      );
    });
  });
});
