/**
 * Issue 12 item 8 over the wire: principals bind by unique id. A user or role deleted and created
 * again under the same name inherits none of the old one's grants, key-policy or trust-policy
 * access (AWS shows the old unique id in those policies), and a deleted role's sessions stop
 * working at once — a role created again under the same name does not revive them. Setup and the
 * session checks go through the AWS CLI (/usr/bin/aws) and @aws-sdk/client-kms.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CreateGrantCommand, CreateKeyCommand, EncryptCommand, GetKeyPolicyCommand, ListGrantsCommand } from '@aws-sdk/client-kms';
import { assertAwsCliInstalled, AwsCli } from '../helpers/aws-cli';
import { addCliProfile, allow, doc, kp, rootStatement, World, type Principal } from './harness';

const pt = new Uint8Array([7]);
const INVALID_TOKEN = 'The security token included in the request is invalid.';

describe('principals bind by unique id (issue 12 item 8)', () => {
  let w: World;
  let cli: AwsCli;
  const userArn = (name: string): string => `arn:aws:iam::${w.account}:user/${name}`;
  const roleArn = (name: string): string => `arn:aws:iam::${w.account}:role/${name}`;

  const profile = (p: Principal): string => addCliProfile(w.server, p);
  /** Deletes a user with its access keys and inline policy, as an operator would. */
  async function deleteUser(name: string): Promise<void> {
    const keys = await cli.json(['iam', 'list-access-keys', '--user-name', name]);
    for (const k of keys.AccessKeyMetadata) await cli.ok(['iam', 'delete-access-key', '--user-name', name, '--access-key-id', k.AccessKeyId]);
    await w.query('iam', 'DeleteUserPolicy', { UserName: name, PolicyName: 'p' }).catch(() => undefined);
    await cli.ok(['iam', 'delete-user', '--user-name', name]);
  }

  before(async () => {
    assertAwsCliInstalled();
    w = await World.start();
    cli = new AwsCli(() => w.server);
  });
  after(async () => {
    await w?.stop();
    cli?.remove();
  });

  test('a grant to a user does not apply to a user created again under the same name', async () => {
    const key = (await w.root.kms.send(new CreateKeyCommand({}))).KeyMetadata?.Arn as string;
    const first = await w.user('grantee', {});
    await w.root.kms.send(new CreateGrantCommand({ KeyId: key, GranteePrincipal: userArn('grantee'), Operations: ['Encrypt'] }));
    assert.ok((await first.kms.send(new EncryptCommand({ KeyId: key, Plaintext: pt }))).CiphertextBlob !== undefined);
    await deleteUser('grantee');
    const second = await w.user('grantee', {});
    assert.equal(second.arn, first.arn);
    await assert.rejects(second.kms.send(new EncryptCommand({ KeyId: key, Plaintext: pt })), {
      name: 'AccessDeniedException',
      message: `User: ${second.arn} is not authorized to perform: kms:Encrypt on resource: ${key} because no identity-based policy allows the kms:Encrypt action`,
    });
    // The grant is still listed (AWS keeps it too); a new grant to the new user works.
    const grants = await w.root.kms.send(new ListGrantsCommand({ KeyId: key }));
    assert.deepEqual(grants.Grants?.map((g) => g.GranteePrincipal), [userArn('grantee')]);
    await w.root.kms.send(new CreateGrantCommand({ KeyId: key, GranteePrincipal: userArn('grantee'), Operations: ['Encrypt'] }));
    assert.ok((await second.kms.send(new EncryptCommand({ KeyId: key, Plaintext: pt }))).CiphertextBlob !== undefined);
  });

  test('a key policy naming a deleted user names its unique id (as AWS shows it); the user created again is not named', async () => {
    const first = await w.user('named', {});
    const firstId = (await cli.json(['iam', 'get-user', '--user-name', 'named'])).User.UserId as string;
    const key = (await w.root.kms.send(new CreateKeyCommand({ Policy: doc(rootStatement(w.account), kp(userArn('named'), 'kms:Encrypt')) }))).KeyMetadata?.Arn as string;
    assert.ok((await first.kms.send(new EncryptCommand({ KeyId: key, Plaintext: pt }))).CiphertextBlob !== undefined);
    await deleteUser('named');
    const policy = JSON.parse((await w.root.kms.send(new GetKeyPolicyCommand({ KeyId: key }))).Policy as string);
    assert.deepEqual(policy.Statement[1].Principal, { AWS: firstId });
    const second = await w.user('named', {});
    await assert.rejects(second.kms.send(new EncryptCommand({ KeyId: key, Plaintext: pt })), {
      name: 'AccessDeniedException',
      message: `User: ${second.arn} is not authorized to perform: kms:Encrypt on resource: ${key} because no identity-based policy allows the kms:Encrypt action`,
    });
  });

  test("a deleted role's session stops working at once, and a role created again does not revive it", async () => {
    const trust = cli.file('trust.json', doc({ Effect: 'Allow', Principal: { AWS: w.account }, Action: 'sts:AssumeRole' }));
    await cli.ok(['iam', 'create-role', '--role-name', 'ephemeral', '--assume-role-policy-document', `file://${trust}`]);
    const assumer = await w.user('assumer', { statements: [allow('sts:AssumeRole')] });
    const key = (await w.root.kms.send(new CreateKeyCommand({ Policy: doc(rootStatement(w.account), kp(roleArn('ephemeral'), 'kms:Encrypt')) }))).KeyMetadata?.Arn as string;
    const s = await w.assume(roleArn('ephemeral'), 'old-session', assumer);
    profile(s);
    assert.equal((await cli.json(['sts', 'get-caller-identity', '--profile', 'old-session'])).Arn, s.arn);
    assert.ok((await s.kms.send(new EncryptCommand({ KeyId: key, Plaintext: pt }))).CiphertextBlob !== undefined);

    await cli.ok(['iam', 'delete-role', '--role-name', 'ephemeral']);
    await assert.rejects(s.kms.send(new EncryptCommand({ KeyId: key, Plaintext: pt })), { name: 'UnrecognizedClientException', message: INVALID_TOKEN });
    const gone = await cli.run(['sts', 'get-caller-identity', '--profile', 'old-session']);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /An error occurred \(InvalidClientTokenId\) when calling the GetCallerIdentity operation: The security token included in the request is invalid/);

    await cli.ok(['iam', 'create-role', '--role-name', 'ephemeral', '--assume-role-policy-document', `file://${trust}`]);
    await assert.rejects(s.kms.send(new EncryptCommand({ KeyId: key, Plaintext: pt })), { name: 'UnrecognizedClientException', message: INVALID_TOKEN });
    // A new session of the new role is not named by the key policy, which now names the old role's id.
    const fresh = await w.assume(roleArn('ephemeral'), 'new-session', assumer);
    await assert.rejects(fresh.kms.send(new EncryptCommand({ KeyId: key, Plaintext: pt })), { name: 'AccessDeniedException' });
    const policy = JSON.parse((await w.root.kms.send(new GetKeyPolicyCommand({ KeyId: key }))).Policy as string);
    assert.match(policy.Statement[1].Principal.AWS, /^AROA[A-Z2-7]{17}$/);
  });

  test("a role's trust policy naming a deleted user does not trust the user created again", async () => {
    await w.user('truster', { statements: [allow('sts:AssumeRole')] });
    await w.query('iam', 'CreateRole', { RoleName: 'trusting', AssumeRolePolicyDocument: doc({ Effect: 'Allow', Principal: { AWS: userArn('truster') }, Action: 'sts:AssumeRole' }) });
    await deleteUser('truster');
    const again = await w.user('truster', { statements: [allow('sts:AssumeRole')] });
    profile(again);
    const r = await cli.run(['sts', 'assume-role', '--role-arn', roleArn('trusting'), '--role-session-name', 'again', '--profile', 'truster']);
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /\(AccessDenied\) when calling the AssumeRole operation: User: arn:aws:iam::\d{12}:user\/truster is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::\d{12}:role\/trusting/);
    const role = await cli.json(['iam', 'get-role', '--role-name', 'trusting']);
    assert.match(role.Role.AssumeRolePolicyDocument.Statement[0].Principal.AWS, /^AIDA[A-Z2-7]{17}$/);
  });
});
