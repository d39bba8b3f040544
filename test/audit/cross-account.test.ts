/**
 * A call that uses another account's key is recorded in both accounts, as AWS does ("Cross-
 * account operations on KMS keys are logged in both the caller account and the KMS key owner
 * account. However, cross-account AWS KMS requests that are rejected because access is denied
 * are logged only in the caller's account": KMS Developer Guide, logging-using-cloudtrail). The
 * copies share requestID and sharedEventID, and differ in eventID and recipientAccountId
 * (CloudTrail User Guide, shared-event-ID). Each administrator sees only its own copy.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CreateKeyCommand, DecryptCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { allow, doc, kp, rootStatement, World, type Principal } from '../authorization/harness';
import { assertApiCallRecord, lookupAll, trailRecords } from './helpers';

const B = '444455556666';

describe('cross-account calls are recorded in the caller\'s and the key owner\'s account', () => {
  let w: World;
  let broot: Principal;
  let user: Principal;
  let stranger: Principal;
  let keyArn = '';
  let encryptId = '';
  let decryptId = '';
  let deniedId = '';

  before(async () => {
    w = await World.start();
    broot = await w.accountRoot(B);
    // B's administrator makes a key whose policy lets account A use it.
    const made = await broot.kms.send(
      new CreateKeyCommand({ Description: 'shared with A', Policy: doc(rootStatement(B), kp(`arn:aws:iam::${w.account}:root`, ['kms:Encrypt', 'kms:Decrypt'])) }),
    );
    keyArn = made.KeyMetadata!.Arn!;
    // A's users: one whose IAM allows the foreign key, one with no policy at all.
    user = await w.user('app', { statements: [allow(['kms:Encrypt', 'kms:Decrypt'], `arn:aws:kms:*:${B}:key/*`)] });
    stranger = await w.user('stranger');

    const enc = await user.kms.send(new EncryptCommand({ KeyId: keyArn, Plaintext: Buffer.from('cross'), EncryptionContext: { app: 'x' } }));
    encryptId = enc.$metadata.requestId!;
    // Decrypt without KeyId: the key comes from the ciphertext, still B's.
    const dec = await user.kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { app: 'x' } }));
    decryptId = dec.$metadata.requestId!;
    try {
      await stranger.kms.send(new EncryptCommand({ KeyId: keyArn, Plaintext: Buffer.from('no') }));
      assert.fail('the stranger was allowed');
    } catch (e) {
      assert.equal((e as Error).name, 'AccessDeniedException');
      deniedId = (e as { $metadata: { requestId: string } }).$metadata.requestId;
    }
  });

  after(async () => {
    for (const p of [broot, user, stranger]) p?.kms.destroy();
    await w?.stop();
  });

  test('the test setup made two distinct accounts', () => {
    assert.notEqual(w.account, B);
    assert.equal(keyArn.split(':')[4], B);
  });

  for (const [label, id] of [['Encrypt by key ARN', () => encryptId], ['Decrypt of a ciphertext under the foreign key', () => decryptId]] as const) {
    test(`${label}: each administrator finds its own copy through LookupEvents`, async () => {
      const inA = (await lookupAll(w.server.port, w.root.creds, { AttributeKey: 'AccessKeyId', AttributeValue: user.creds.accessKeyId })).filter((e) => e.requestID === id());
      const inB = (await lookupAll(w.server.port, broot.creds, { AttributeKey: 'ResourceName', AttributeValue: keyArn })).filter((e) => e.requestID === id());
      assert.equal(inA.length, 1, `A sees ${inA.length} records`);
      assert.equal(inB.length, 1, `B sees ${inB.length} records`);
      const a = inA[0]!;
      const b = inB[0]!;
      assert.equal(a.recipientAccountId, w.account);
      assert.equal(b.recipientAccountId, B);
      assert.notEqual(a.eventID, b.eventID);
      assert.match(a.sharedEventID, /^[0-9a-f-]{36}$/);
      assert.equal(a.sharedEventID, b.sharedEventID);
      // Apart from the recipient and the event id, the two copies say the same thing.
      const strip = (e: Record<string, any>): Record<string, any> => ({ ...e, eventID: undefined, recipientAccountId: undefined });
      assert.deepEqual(strip(a), strip(b));
      assert.equal(b.userIdentity.arn, user.arn);
      assert.equal(b.userIdentity.accountId, w.account);
      assert.deepEqual(b.resources, [{ accountId: B, type: 'AWS::KMS::Key', ARN: keyArn }]);
      assertApiCallRecord(a);
      assertApiCallRecord(b);
    });
  }

  test('a denied cross-account call is recorded in the caller\'s account only', async () => {
    const inA = (await lookupAll(w.server.port, w.root.creds, { AttributeKey: 'Username', AttributeValue: 'stranger' })).filter((e) => e.requestID === deniedId);
    const inB = (await lookupAll(w.server.port, broot.creds)).filter((e) => e.requestID === deniedId);
    assert.equal(inA.length, 1);
    assert.equal(inA[0]!.errorCode, 'AccessDeniedException');
    assert.equal('sharedEventID' in inA[0]!, false);
    assert.deepEqual(inB, []);
  });

  test('B\'s lookup shows only records whose recipient is B', async () => {
    const all = await lookupAll(w.server.port, broot.creds);
    assert.ok(all.length >= 3, `B sees ${all.length} records`);
    assert.ok(all.every((e) => e.recipientAccountId === B));
    const fromA = all.filter((e) => e.userIdentity.accountId === w.account).map((e) => e.requestID).sort();
    assert.deepEqual(fromA, [encryptId, decryptId].sort());
  });

  test('the stored trail holds exactly two copies of each cross-account call, one per account', () => {
    const records = trailRecords(w.server.dataDir);
    for (const id of [encryptId, decryptId]) {
      const copies = records.filter((e) => e.requestID === id);
      assert.deepEqual(copies.map((e) => e.recipientAccountId).sort(), [w.account, B].sort());
    }
    assert.equal(records.filter((e) => e.requestID === deniedId).length, 1);
    // A call within one account has no second copy and no sharedEventID.
    const create = records.filter((e) => e.eventName === 'CreateKey');
    assert.equal(create.length, 1);
    assert.equal('sharedEventID' in create[0]!, false);
  });
});
