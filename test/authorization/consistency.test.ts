/**
 * Authorization caches and consistency (docs/authorization.md, "Caching and consistency"): with
 * two worker processes, an identity-policy, key-policy or grant change made through one
 * worker is seen by the very next request on every worker. Each request below opens its own
 * connection, so the cluster spreads them over both workers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CreateGrantCommand, EncryptCommand, PutKeyPolicyCommand, RevokeGrantCommand } from '@aws-sdk/client-kms';
import { kmsClient } from '../identity/wire';
import { allow, deniedMessage, doc, kp, rootStatement, World, type Key, type Principal } from './harness';

describe('authorization: changes are seen at once by every worker', () => {
  let w: World;
  let user: Principal;
  let admin: Principal;
  let key: Key;
  const ROUNDS = 3;
  const PER_ROUND = 6;

  /** Encrypts `PER_ROUND` times, each over a new connection; the outcomes. */
  async function burst(): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < PER_ROUND; i++) {
      const kms = kmsClient(w.server.endpoint, user.creds, w.region);
      try {
        await kms.send(new EncryptCommand({ KeyId: key.arn, Plaintext: Buffer.from('c') }));
        out.push('allowed');
      } catch (e) {
        out.push((e as Error).message);
      } finally {
        kms.destroy();
      }
    }
    return out;
  }
  const all = (v: string): string[] => Array.from({ length: PER_ROUND }, () => v);

  before(async () => {
    w = await World.start({ workers: 2 });
    user = await w.user('flip');
    admin = await w.user('key-admin', { statements: [allow('kms:*')] });
    key = await w.key();
  });
  after(async () => {
    user?.kms.destroy();
    admin?.kms.destroy();
    await w?.stop();
  });

  test('identity policy changes (PutUserPolicy / DeleteUserPolicy)', async () => {
    const refused = deniedMessage(user.arn, 'kms:Encrypt', key.arn, 'no-identity');
    for (let r = 0; r < ROUNDS; r++) {
      await w.query('iam', 'PutUserPolicy', { UserName: 'flip', PolicyName: 'p', PolicyDocument: doc(allow('kms:Encrypt', key.arn)) });
      assert.deepEqual(await burst(), all('allowed'), `round ${r}: after PutUserPolicy`);
      await w.query('iam', 'DeleteUserPolicy', { UserName: 'flip', PolicyName: 'p' });
      assert.deepEqual(await burst(), all(refused), `round ${r}: after DeleteUserPolicy`);
    }
  });

  test('key policy changes (PutKeyPolicy)', async () => {
    await w.query('iam', 'PutUserPolicy', { UserName: 'flip', PolicyName: 'p', PolicyDocument: doc(allow('kms:Encrypt', key.arn)) });
    const refused = deniedMessage(user.arn, 'kms:Encrypt', key.arn, 'no-resource');
    for (let r = 0; r < ROUNDS; r++) {
      // The account stops delegating to IAM; key-admin stays named so the policy can be changed back.
      await admin.kms.send(new PutKeyPolicyCommand({ KeyId: key.id, Policy: doc(kp(admin.arn, 'kms:*'), kp(`arn:aws:iam::${w.account}:root`, 'kms:DescribeKey')) }));
      assert.deepEqual(await burst(), all(refused), `round ${r}: without the root statement`);
      await admin.kms.send(new PutKeyPolicyCommand({ KeyId: key.id, Policy: doc(rootStatement(w.account), kp(admin.arn, 'kms:*')) }));
      assert.deepEqual(await burst(), all('allowed'), `round ${r}: with the root statement`);
    }
    await w.query('iam', 'DeleteUserPolicy', { UserName: 'flip', PolicyName: 'p' });
  });

  test('grants (CreateGrant / RevokeGrant)', async () => {
    const refused = deniedMessage(user.arn, 'kms:Encrypt', key.arn, 'no-identity');
    for (let r = 0; r < ROUNDS; r++) {
      const g = await admin.kms.send(new CreateGrantCommand({ KeyId: key.id, GranteePrincipal: user.arn, Operations: ['Encrypt'] }));
      assert.deepEqual(await burst(), all('allowed'), `round ${r}: with the grant`);
      await admin.kms.send(new RevokeGrantCommand({ KeyId: key.id, GrantId: g.GrantId }));
      assert.deepEqual(await burst(), all(refused), `round ${r}: revoked`);
    }
  });
});
