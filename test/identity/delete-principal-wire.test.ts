/**
 * IAM DeleteUser/DeleteRole delete the principal and rewrite the key and trust policies naming it
 * (to its unique id, as AWS shows them; issue 12 item 8) in ONE transaction (issue 13): no reader
 * ever sees the user gone while a key policy still names its ARN — the moment in which a user
 * created again under that name would have been granted the old one's access. A refused delete
 * rewrites nothing. Through the wire: signed IAM Query calls and @aws-sdk/client-kms.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CreateKeyCommand, GetKeyPolicyCommand } from '@aws-sdk/client-kms';
import { doc, kp, rootStatement, World } from '../authorization/harness';
import { query, queryError, xml } from './wire';

describe('DeleteUser/DeleteRole rewrite the policies naming the principal in the delete\'s transaction', () => {
  let w: World;
  const userArn = (name: string): string => `arn:aws:iam::${w.account}:user/${name}`;
  const roleArn = (name: string): string => `arn:aws:iam::${w.account}:role/${name}`;
  const keyPolicy = async (key: string): Promise<string> => (await w.root.kms.send(new GetKeyPolicyCommand({ KeyId: key }))).Policy as string;
  const iam = (action: string, params: Record<string, string>) => query(w.server.port, 'iam', action, params, w.root.creds);

  before(async () => {
    // Two workers: the reader's requests land on the other worker too, which sees each commit as it happens.
    w = await World.start({ workers: 2 });
  });
  after(async () => {
    await w?.stop();
  });

  test('while users are deleted, a reader never finds a user gone and a key policy still naming its ARN', async () => {
    const names = Array.from({ length: 8 }, (_, i) => `leaver-${i}`);
    const ids = new Map<string, string>();
    for (const n of names) ids.set(n, xml(await w.query('iam', 'CreateUser', { UserName: n }), 'UserId') as string);
    const key = (await w.root.kms.send(new CreateKeyCommand({ Policy: doc(rootStatement(w.account), kp(names.map(userArn), 'kms:Encrypt')) })))
      .KeyMetadata?.Arn as string;
    let observations = 0;
    for (const n of names) {
      let finished = false;
      const deleted = iam('DeleteUser', { UserName: n }).finally(() => (finished = true));
      // Observe until after the delete answered: user first, then the key policy.
      for (;;) {
        const last = finished;
        const gone = (await iam('GetUser', { UserName: n })).status !== 200;
        const policy = await keyPolicy(key);
        observations += 1;
        if (gone) {
          assert.ok(!policy.includes(`"${userArn(n)}"`), `user ${n} is gone but the key policy still names its ARN: ${policy}`);
          assert.ok(policy.includes(`"${ids.get(n)}"`), `user ${n} is gone and the key policy does not name its id: ${policy}`);
        }
        if (last) break;
      }
      assert.equal((await deleted).status, 200);
      const after = await iam('GetUser', { UserName: n });
      assert.deepEqual(queryError(after), { status: 404, type: 'Sender', code: 'NoSuchEntity', message: `The user with name ${n} cannot be found.` });
    }
    assert.ok(observations >= names.length);
    const statement = JSON.parse(await keyPolicy(key)).Statement[1];
    assert.deepEqual(statement.Principal.AWS, names.map((n) => ids.get(n)));
  });

  test('DeleteRole rewrites the key policy and other roles\' trust policies naming it, together', async () => {
    await w.role('departing', [w.root.arn]);
    const id = xml(await w.query('iam', 'GetRole', { RoleName: 'departing' }), 'RoleId') as string;
    await w.role('trusting', [roleArn('departing')]);
    const key = (await w.root.kms.send(new CreateKeyCommand({ Policy: doc(rootStatement(w.account), kp(roleArn('departing'), 'kms:Encrypt')) })))
      .KeyMetadata?.Arn as string;
    assert.equal((await iam('DeleteRole', { RoleName: 'departing' })).status, 200);
    assert.deepEqual(JSON.parse(await keyPolicy(key)).Statement[1].Principal, { AWS: id });
    const trust = JSON.parse(decodeURIComponent(xml(await w.query('iam', 'GetRole', { RoleName: 'trusting' }), 'AssumeRolePolicyDocument') as string));
    assert.deepEqual(trust.Statement[0].Principal, { AWS: [id] });
  });

  test('a DeleteUser refused with DeleteConflict rewrites nothing', async () => {
    await w.user('stays', { statements: [{ Effect: 'Allow', Action: 'kms:Encrypt', Resource: '*' }] });
    const key = (await w.root.kms.send(new CreateKeyCommand({ Policy: doc(rootStatement(w.account), kp(userArn('stays'), 'kms:Encrypt')) })))
      .KeyMetadata?.Arn as string;
    const before = await keyPolicy(key);
    const refused = await iam('DeleteUser', { UserName: 'stays' });
    assert.deepEqual(queryError(refused), { status: 409, type: 'Sender', code: 'DeleteConflict', message: 'Cannot delete entity, must delete access keys first.' });
    assert.equal(await keyPolicy(key), before);
    assert.equal(JSON.parse(before).Statement[1].Principal.AWS, userArn('stays'));
    assert.equal((await iam('GetUser', { UserName: 'stays' })).status, 200);
  });
});
