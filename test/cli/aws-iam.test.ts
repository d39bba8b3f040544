/**
 * `aws iam`, `aws sts` and `aws organizations` (the AWS CLI v2 at /usr/bin/aws, Debian's
 * awscli) against Keyhold, configured only by the data directory's shared-credentials file and
 * `--endpoint-url` (issue 3 "Tests": create a user and access key, attach a policy, use the key
 * against KMS, assume a role). Profiles for the new user and the role session are appended to
 * that credentials file, as an operator would. Nothing is skipped: without /usr/bin/aws this
 * test fails.
 */
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertAwsCliInstalled, AwsCli } from '../helpers/aws-cli';
import { startServer, stopAndRemove, type TestServer } from '../helpers/server';

describe('AWS CLI v2: IAM, STS and Organizations against Keyhold', () => {
  let server: TestServer;
  let cli: AwsCli;
  let account = '';

  async function json<T = any>(args: string[]): Promise<T> {
    const r = await cli.run([...args, '--output', 'json']);
    assert.equal(r.code, 0, `aws ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
    return (r.stdout.trim() === '' ? {} : JSON.parse(r.stdout)) as T;
  }
  /** Runs aws expecting failure; returns stderr. */
  async function fails(args: string[]): Promise<string> {
    const r = await cli.run(args);
    assert.notEqual(r.code, 0, `aws ${args.join(' ')} should have failed:\n${r.stdout}`);
    return r.stderr;
  }
  /** Writes `text` to the CLI's work folder; its file:// URL. */
  function file(name: string, text: string): string {
    return `file://${cli.file(name, text)}`;
  }
  /** Appends a profile to the data directory's credentials file (the CLI's AWS_SHARED_CREDENTIALS_FILE). */
  function profile(name: string, id: string, secret: string, token?: string): void {
    appendFileSync(
      join(server.dataDir, 'credentials'),
      `\n[${name}]\naws_access_key_id = ${id}\naws_secret_access_key = ${secret}\n${token === undefined ? '' : `aws_session_token = ${token}\n`}region = us-east-1\n`,
    );
  }
  const policy = (...statements: object[]): string => JSON.stringify({ Version: '2012-10-17', Statement: statements });

  before(async () => {
    assertAwsCliInstalled();
    server = await startServer();
    account = server.accountId;
    cli = new AwsCli(() => server);
  });
  after(async () => {
    await stopAndRemove(server);
    cli?.remove();
  });

  test('sts get-caller-identity names the account root of the first-start credentials', async () => {
    assert.deepEqual(await json(['sts', 'get-caller-identity']), { UserId: account, Account: account, Arn: `arn:aws:iam::${account}:root` });
  });

  test('iam create-user, create-access-key, create-policy and attach-user-policy; the new key works against KMS', async () => {
    const user = (await json(['iam', 'create-user', '--user-name', 'alice', '--tags', 'Key=team,Value=blue'])).User;
    assert.equal(user.Arn, `arn:aws:iam::${account}:user/alice`);
    assert.deepEqual(user.Tags, [{ Key: 'team', Value: 'blue' }]);
    const key = (await json(['iam', 'create-access-key', '--user-name', 'alice'])).AccessKey;
    assert.equal(key.Status, 'Active');
    profile('alice', key.AccessKeyId, key.SecretAccessKey);
    assert.equal((await json(['sts', 'get-caller-identity', '--profile', 'alice'])).Arn, `arn:aws:iam::${account}:user/alice`);
    const managed = (await json(['iam', 'create-policy', '--policy-name', 'kms-use', '--policy-document', file('kms.json', policy({ Effect: 'Allow', Action: 'kms:*', Resource: '*' }))])).Policy;
    assert.equal(managed.Arn, `arn:aws:iam::${account}:policy/kms-use`);
    assert.equal((await cli.run(['iam', 'attach-user-policy', '--user-name', 'alice', '--policy-arn', managed.Arn])).code, 0);
    const created = (await json(['kms', 'create-key', '--description', 'alice key', '--profile', 'alice'])).KeyMetadata;
    const ct = (await json(['kms', 'encrypt', '--key-id', created.KeyId, '--plaintext', 'aGVsbG8=', '--profile', 'alice'])).CiphertextBlob;
    const ctFile = cli.file('ct.bin', Buffer.from(ct, 'base64'));
    const pt = (await json(['kms', 'decrypt', '--ciphertext-blob', `fileb://${ctFile}`, '--profile', 'alice'])).Plaintext;
    assert.equal(pt, 'aGVsbG8=');
    const users = (await json(['iam', 'list-users'])).Users.map((u: { UserName: string }) => u.UserName);
    assert.deepEqual(users, ['alice']);
    const keys = (await json(['iam', 'list-access-keys', '--user-name', 'alice'])).AccessKeyMetadata;
    assert.deepEqual(keys.map((k: { AccessKeyId: string }) => k.AccessKeyId), [key.AccessKeyId]);
  });

  test('iam put-user-policy and get-user-policy; an AWS managed policy; identity policies decide IAM calls', async () => {
    const assume = policy({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: `arn:aws:iam::${account}:role/*` });
    assert.equal((await cli.run(['iam', 'put-user-policy', '--user-name', 'alice', '--policy-name', 'assume', '--policy-document', file('assume.json', assume)])).code, 0);
    const got = await json(['iam', 'get-user-policy', '--user-name', 'alice', '--policy-name', 'assume']);
    assert.deepEqual(got.PolicyDocument, JSON.parse(assume));
    assert.equal((await cli.run(['iam', 'attach-user-policy', '--user-name', 'alice', '--policy-arn', 'arn:aws:iam::aws:policy/IAMReadOnlyAccess'])).code, 0);
    // alice may read IAM now, but not write it.
    assert.deepEqual((await json(['iam', 'get-user', '--profile', 'alice'])).User.UserName, 'alice');
    assert.match(await fails(['iam', 'create-user', '--user-name', 'mallory', '--profile', 'alice']), /AccessDenied.*iam:CreateUser/);
    assert.match(
      await fails(['iam', 'put-user-policy', '--user-name', 'alice', '--policy-name', 'bad', '--policy-document', '{"Statement":[{"Effect":"Allow"}]}']),
      /MalformedPolicyDocument/,
    );
    assert.match(await fails(['iam', 'get-user', '--user-name', 'nobody']), /\(NoSuchEntity\).*The user with name nobody cannot be found\./);
  });

  let session: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string };

  test('iam create-role with a trust policy; sts assume-role by the trusted user, and denied for others', async () => {
    const trust = policy({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:user/alice` }, Action: 'sts:AssumeRole' });
    const role = (await json(['iam', 'create-role', '--role-name', 'app', '--assume-role-policy-document', file('trust.json', trust), '--max-session-duration', '7200'])).Role;
    assert.equal(role.Arn, `arn:aws:iam::${account}:role/app`);
    assert.deepEqual((await json(['iam', 'get-role', '--role-name', 'app'])).Role.AssumeRolePolicyDocument, JSON.parse(trust));
    assert.equal((await cli.run(['iam', 'attach-role-policy', '--role-name', 'app', '--policy-arn', 'arn:aws:iam::aws:policy/AdministratorAccess'])).code, 0);
    const assumed = await json(['sts', 'assume-role', '--role-arn', role.Arn, '--role-session-name', 'cli', '--duration-seconds', '900', '--profile', 'alice']);
    assert.equal(assumed.AssumedRoleUser.Arn, `arn:aws:sts::${account}:assumed-role/app/cli`);
    assert.match(assumed.Credentials.AccessKeyId, /^ASIA/);
    session = assumed.Credentials;

    const otherTrust = policy({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:user/bob` }, Action: 'sts:AssumeRole' });
    await json(['iam', 'create-user', '--user-name', 'bob']);
    await json(['iam', 'create-role', '--role-name', 'locked', '--assume-role-policy-document', file('locked.json', otherTrust)]);
    const denied = await fails(['sts', 'assume-role', '--role-arn', `arn:aws:iam::${account}:role/locked`, '--role-session-name', 'cli', '--profile', 'alice']);
    assert.match(denied, new RegExp(`\\(AccessDenied\\).*User: arn:aws:iam::${account}:user/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${account}:role/locked`));
    assert.match(await fails(['sts', 'assume-role', '--role-arn', role.Arn, '--role-session-name', 'cli']), /Roles may not be assumed by root accounts/);
  });

  test('the temporary credentials work against KMS and STS', async () => {
    profile('session', session.AccessKeyId, session.SecretAccessKey, session.SessionToken);
    assert.equal((await json(['sts', 'get-caller-identity', '--profile', 'session'])).Arn, `arn:aws:sts::${account}:assumed-role/app/cli`);
    const keys = (await json(['kms', 'list-keys', '--profile', 'session'])).Keys;
    assert.equal(keys.length, 1);
    const key = (await json(['kms', 'create-key', '--profile', 'session'])).KeyMetadata;
    assert.equal(key.AWSAccountId, account);
  });

  test('organizations create-organization, create-policy, enable-policy-type and attach-policy', async () => {
    const org = (await json(['organizations', 'create-organization', '--feature-set', 'ALL'])).Organization;
    assert.equal(org.MasterAccountId, account);
    const rootId = (await json(['organizations', 'list-roots'])).Roots[0].Id;
    const created = (await json(['organizations', 'create-account', '--email', 'dev@example.com', '--account-name', 'dev'])).CreateAccountStatus;
    assert.equal(created.State, 'SUCCEEDED');
    const scp = (await json([
      'organizations', 'create-policy', '--name', 'no-key-deletion', '--description', 'keep keys', '--type', 'SERVICE_CONTROL_POLICY',
      '--content', file('scp.json', policy({ Effect: 'Deny', Action: 'kms:ScheduleKeyDeletion', Resource: '*' })),
    ])).Policy.PolicySummary;
    assert.match(await fails(['organizations', 'attach-policy', '--policy-id', scp.Id, '--target-id', created.AccountId]), /PolicyTypeNotEnabledException/);
    await json(['organizations', 'enable-policy-type', '--root-id', rootId, '--policy-type', 'SERVICE_CONTROL_POLICY']);
    assert.equal((await cli.run(['organizations', 'attach-policy', '--policy-id', scp.Id, '--target-id', created.AccountId])).code, 0);
    const targets = (await json(['organizations', 'list-targets-for-policy', '--policy-id', scp.Id])).Targets;
    assert.deepEqual(targets.map((t: { TargetId: string }) => t.TargetId), [created.AccountId]);
    const policies = (await json(['organizations', 'list-policies', '--filter', 'SERVICE_CONTROL_POLICY'])).Policies.map((p: { Name: string }) => p.Name);
    assert.deepEqual(policies.sort(), ['FullAWSAccess', 'no-key-deletion']);
    const accounts = (await json(['organizations', 'list-accounts'])).Accounts.map((a: { Id: string }) => a.Id);
    assert.deepEqual(accounts.sort(), [account, created.AccountId].sort());
  });

  test('iam update-access-key Inactive stops the key at once; cleanup with delete-access-key, detach and delete', async () => {
    const keyId = (await json(['iam', 'list-access-keys', '--user-name', 'alice'])).AccessKeyMetadata[0].AccessKeyId;
    assert.equal((await cli.run(['iam', 'update-access-key', '--user-name', 'alice', '--access-key-id', keyId, '--status', 'Inactive'])).code, 0);
    assert.match(await fails(['kms', 'list-keys', '--profile', 'alice']), /UnrecognizedClientException/);
    assert.match(await fails(['iam', 'delete-user', '--user-name', 'alice']), /DeleteConflict/);
    assert.equal((await cli.run(['iam', 'delete-access-key', '--user-name', 'alice', '--access-key-id', keyId])).code, 0);
    assert.equal((await cli.run(['iam', 'delete-user-policy', '--user-name', 'alice', '--policy-name', 'assume'])).code, 0);
    for (const arn of [`arn:aws:iam::${account}:policy/kms-use`, 'arn:aws:iam::aws:policy/IAMReadOnlyAccess']) {
      assert.equal((await cli.run(['iam', 'detach-user-policy', '--user-name', 'alice', '--policy-arn', arn])).code, 0);
    }
    assert.equal((await cli.run(['iam', 'delete-user', '--user-name', 'alice'])).code, 0);
  });

  test('an expired session is ExpiredToken for STS and ExpiredTokenException for KMS (KEYHOLD_TEST_CLOCK_OFFSET_MS)', async () => {
    const dataDir = server.dataDir;
    assert.equal(await server.stop(), 0);
    server = await startServer({ dataDir, env: { KEYHOLD_TEST_CLOCK_OFFSET_MS: String(16 * 60_000) } });
    assert.match(await fails(['sts', 'get-caller-identity', '--profile', 'session']), /\(ExpiredToken\).*The security token included in the request is expired/);
    assert.match(await fails(['kms', 'list-keys', '--profile', 'session']), /\(ExpiredTokenException\).*The security token included in the request is expired/);
    assert.equal((await json(['sts', 'get-caller-identity'])).Account, account);
  });
});
