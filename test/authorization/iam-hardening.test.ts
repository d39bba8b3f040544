/**
 * Issue 12 items 1-4 over the wire: IAM calls are authorized against the entity found (its stored
 * path and canonical name), tags at creation need iam:TagUser/iam:TagRole, the `keyhold:` tag
 * namespace is the operator's, IAM requests carry their condition keys, and permissions
 * boundaries bound what identity-based policies grant — in IAM and in KMS. Callers hold only the
 * stated permissions; the headline calls go through the AWS CLI (/usr/bin/aws), the rest through
 * SigV4-signed Query requests and @aws-sdk/client-kms.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateKeyCommand, DescribeKeyCommand, EncryptCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { assertAwsCliInstalled, AwsCli } from '../helpers/aws-cli';
import { keyhold } from '../helpers/keyhold-cli';
import { query, queryError, xml } from '../identity/wire';
import { addCliProfile, allow, deny, doc, kp, rootStatement, World, type Principal } from './harness';

const pt = new Uint8Array([1, 2, 3]);

describe('IAM hardening (issue 12 items 1-4)', () => {
  let w: World;
  let cli: AwsCli;
  const userArn = (name: string, path = '/'): string => `arn:aws:iam::${w.account}:user${path}${name}`;
  const roleArn = (name: string): string => `arn:aws:iam::${w.account}:role/${name}`;
  const policyArn = (name: string): string => `arn:aws:iam::${w.account}:policy/${name}`;

  const profile = (p: Principal): string => addCliProfile(w.server, p);
  /** Runs `aws iam …` as `who`; expects failure with `code` and returns the message. */
  async function cliFails(who: string, args: string[], code: string): Promise<string> {
    const r = await cli.run([...args, '--profile', who]);
    assert.notEqual(r.code, 0, `aws ${args.join(' ')} should have failed:\n${r.stdout}`);
    const m = /An error occurred \(([^)]+)\) when calling the \w+ operation: (.*)/.exec(r.stderr);
    assert.ok(m !== null, r.stderr);
    assert.equal(m[1], code, r.stderr);
    return (m[2] as string).trim();
  }
  async function cliOk(who: string, args: string[]): Promise<any> {
    return cli.json([...args, '--profile', who]);
  }
  /** A Query call as `who`; the error Code and Message (or undefined on success). */
  async function iam(who: Principal, action: string, params: Record<string, string | number>): Promise<{ code?: string; message?: string; body: string }> {
    const a = await query(w.server.port, 'iam', action, params, who.creds);
    if (a.status === 200) return { body: a.body };
    const e = queryError(a);
    return { code: e.code, message: e.message, body: a.body };
  }
  const deniedText = (caller: string, action: string, resource: string, why: string): string =>
    `User: ${caller} is not authorized to perform: ${action} on resource: ${resource} ${why}`;
  const EXPLICIT_IDENTITY = 'with an explicit deny in an identity-based policy';

  before(async () => {
    assertAwsCliInstalled();
    w = await World.start();
    cli = new AwsCli(() => w.server);
  });
  after(async () => {
    await w?.stop();
    cli?.remove();
  });

  // -----------------------------------------------------------------------------------------------
  // Item 1: the entity found decides, not the name as typed

  describe('IAM calls are authorized against the stored ARN of the entity found', () => {
    let mallory: Principal;
    before(async () => {
      await w.query('iam', 'CreateUser', { UserName: 'Admin' });
      await w.query('iam', 'CreateUser', { UserName: 'Ops', Path: '/admins/' });
      await w.query('iam', 'CreateUser', { UserName: 'intern' });
      mallory = await w.user('mallory', {
        statements: [
          allow('iam:*', `arn:aws:iam::${w.account}:user/*`),
          deny(['iam:CreateAccessKey', 'iam:PutUserPolicy', 'iam:DeleteUser', 'iam:GetUser'], [userArn('Admin'), `arn:aws:iam::${w.account}:user/admins/*`]),
        ],
      });
      profile(mallory);
    });

    test('aws iam create-access-key --user-name admin is denied by the Deny on user/Admin', async () => {
      const msg = await cliFails('mallory', ['iam', 'create-access-key', '--user-name', 'admin'], 'AccessDenied');
      assert.equal(msg, deniedText(mallory.arn, 'iam:CreateAccessKey', userArn('Admin'), EXPLICIT_IDENTITY));
      const keys = await cli.json(['iam', 'list-access-keys', '--user-name', 'Admin']);
      assert.deepEqual(keys.AccessKeyMetadata, [], 'no key was created');
    });

    test('the Deny on user/admins/* holds for a user with a path, named without it and in another case', async () => {
      const msg = await cliFails('mallory', ['iam', 'create-access-key', '--user-name', 'OPS'], 'AccessDenied');
      assert.equal(msg, deniedText(mallory.arn, 'iam:CreateAccessKey', userArn('Ops', '/admins/'), EXPLICIT_IDENTITY));
    });

    test('every user operation resolves the entity first: PutUserPolicy, GetUser, DeleteUser', async () => {
      const put = await iam(mallory, 'PutUserPolicy', { UserName: 'aDMIN', PolicyName: 'x', PolicyDocument: doc(allow('*')) });
      assert.equal(put.code, 'AccessDenied', put.body);
      assert.equal(put.message, deniedText(mallory.arn, 'iam:PutUserPolicy', userArn('Admin'), EXPLICIT_IDENTITY));
      const get = await iam(mallory, 'GetUser', { UserName: 'ops' });
      assert.equal(get.message, deniedText(mallory.arn, 'iam:GetUser', userArn('Ops', '/admins/'), EXPLICIT_IDENTITY));
      const del = await iam(mallory, 'DeleteUser', { UserName: 'admin' });
      assert.equal(del.message, deniedText(mallory.arn, 'iam:DeleteUser', userArn('Admin'), EXPLICIT_IDENTITY));
    });

    test('users the policy does not protect are still reachable in any case; a missing user is NoSuchEntity', async () => {
      const key = await cliOk('mallory', ['iam', 'create-access-key', '--user-name', 'INTERN']);
      assert.equal(key.AccessKey.UserName, 'intern');
      const missing = await cliFails('mallory', ['iam', 'get-user', '--user-name', 'nobody'], 'NoSuchEntity');
      assert.equal(missing, 'The user with name nobody cannot be found.');
    });

    test('roles and groups too: a Deny on role/Keep and group/Staff holds for keep and STAFF', async () => {
      await w.query('iam', 'CreateRole', { RoleName: 'Keep', AssumeRolePolicyDocument: doc({ Effect: 'Allow', Principal: { AWS: w.account }, Action: 'sts:AssumeRole' }) });
      await w.query('iam', 'CreateGroup', { GroupName: 'Staff' });
      const eve = await w.user('eve-roles', {
        statements: [allow('iam:*'), deny(['iam:PutRolePolicy', 'iam:GetRole'], roleArn('Keep')), deny('iam:AddUserToGroup', `arn:aws:iam::${w.account}:group/Staff`)],
      });
      const put = await iam(eve, 'PutRolePolicy', { RoleName: 'keep', PolicyName: 'x', PolicyDocument: doc(allow('*')) });
      assert.equal(put.message, deniedText(eve.arn, 'iam:PutRolePolicy', roleArn('Keep'), EXPLICIT_IDENTITY));
      const add = await iam(eve, 'AddUserToGroup', { GroupName: 'STAFF', UserName: 'eve-roles' });
      assert.equal(add.message, deniedText(eve.arn, 'iam:AddUserToGroup', `arn:aws:iam::${w.account}:group/Staff`, EXPLICIT_IDENTITY));
    });
  });

  // -----------------------------------------------------------------------------------------------
  // Item 2: tags at creation need Tag*, and keyhold: is the operator's

  describe('tags on principals', () => {
    const RESERVED = "Tag keys starting with 'keyhold:' are reserved for the Keyhold operator.";
    let creator: Principal;
    before(async () => {
      creator = await w.user('creator', { statements: [allow(['iam:CreateRole', 'iam:CreateUser'])] });
      profile(creator);
    });

    test('aws iam create-role --tags needs iam:TagRole; without tags iam:CreateRole suffices', async () => {
      const trust = cli.file('trust.json', doc({ Effect: 'Allow', Principal: { AWS: w.account }, Action: 'sts:AssumeRole' }));
      const msg = await cliFails('creator', ['iam', 'create-role', '--role-name', 'tagged', '--assume-role-policy-document', `file://${trust}`, '--tags', 'Key=team,Value=red'], 'AccessDenied');
      assert.equal(msg, `User: ${creator.arn} is not authorized to perform: iam:TagRole on resource: ${roleArn('tagged')} because no identity-based policy allows the iam:TagRole action`);
      await cliFails('creator', ['iam', 'get-role', '--role-name', 'tagged'], 'AccessDenied');
      assert.equal((await iam(w.root, 'GetRole', { RoleName: 'tagged' })).code, 'NoSuchEntity', 'nothing was created');
      const made = await cliOk('creator', ['iam', 'create-role', '--role-name', 'untagged', '--assume-role-policy-document', `file://${trust}`]);
      assert.equal(made.Role.Arn, roleArn('untagged'));
    });

    test('aws iam create-user --tags needs iam:TagUser', async () => {
      const msg = await cliFails('creator', ['iam', 'create-user', '--user-name', 'tagged-user', '--tags', 'Key=team,Value=red'], 'AccessDenied');
      assert.equal(msg, `User: ${creator.arn} is not authorized to perform: iam:TagUser on resource: ${userArn('tagged-user')} because no identity-based policy allows the iam:TagUser action`);
    });

    test('the API refuses keyhold: tags to the administrator too, in any case, on every call that sets tags', async () => {
      assert.equal(await cliFails('default', ['iam', 'create-role', '--role-name', 'sneaky', '--assume-role-policy-document', `file://${cli.file('t2.json', doc({ Effect: 'Allow', Principal: { AWS: w.account }, Action: 'sts:AssumeRole' }))}`, '--tags', 'Key=keyhold:ViaService,Value=s3'], 'InvalidInput'), RESERVED);
      assert.equal(await cliFails('default', ['iam', 'create-user', '--user-name', 'sneaky', '--tags', 'Key=KEYHOLD:viaservice,Value=s3'], 'InvalidInput'), RESERVED);
      assert.equal(await cliFails('default', ['iam', 'tag-user', '--user-name', 'intern', '--tags', 'Key=keyhold:ViaService,Value=s3'], 'InvalidInput'), RESERVED);
      assert.equal(await cliFails('default', ['iam', 'tag-role', '--role-name', 'untagged', '--tags', 'Key=Keyhold:ViaService,Value=s3'], 'InvalidInput'), RESERVED);
      assert.equal((await iam(w.root, 'GetUser', { UserName: 'sneaky' })).code, 'NoSuchEntity');
      // A session cannot claim it either.
      await w.query('iam', 'CreateRole', {
        RoleName: 'sessions', AssumeRolePolicyDocument: doc({ Effect: 'Allow', Principal: { AWS: w.account }, Action: ['sts:AssumeRole', 'sts:TagSession'] }),
      });
      const malloryKey = await w.user('session-maker', { statements: [allow(['sts:AssumeRole', 'sts:TagSession'])] });
      const a = await query(w.server.port, 'sts', 'AssumeRole', {
        RoleArn: roleArn('sessions'), RoleSessionName: 'sess', 'Tags.member.1.Key': 'keyhold:ViaService', 'Tags.member.1.Value': 's3',
      }, malloryKey.creds);
      assert.equal(queryError(a).code, 'ValidationError', a.body);
      assert.equal(queryError(a).message, RESERVED);
    });

    test('keyhold principals tag sets keyhold:ViaService: the user can then use alias/aws/s3, not before', async () => {
      const svc = await w.user('s3-acting', {});
      await assert.rejects(svc.kms.send(new EncryptCommand({ KeyId: 'alias/aws/s3', Plaintext: pt })), { name: 'AccessDeniedException' });
      const r = await keyhold(['principals', 'tag', '--data-dir', w.server.dataDir, '--account-id', w.account, '--user', 's3-acting', '--tag', 'keyhold:ViaService=s3']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), `tagged ${userArn('s3-acting')} with keyhold:ViaService`);
      const out = await svc.kms.send(new EncryptCommand({ KeyId: 'alias/aws/s3', Plaintext: pt }));
      assert.ok(out.CiphertextBlob !== undefined);
      const tags = await cli.json(['iam', 'get-user', '--user-name', 's3-acting']);
      assert.deepEqual(tags.User.Tags, [{ Key: 'keyhold:ViaService', Value: 's3' }]);
      const un = await keyhold(['principals', 'untag', '--data-dir', w.server.dataDir, '--account-id', w.account, '--user', 's3-acting', '--tag-key', 'keyhold:viaservice']);
      assert.equal(un.code, 0, un.stderr);
      await assert.rejects(svc.kms.send(new EncryptCommand({ KeyId: 'alias/aws/s3', Plaintext: pt })), { name: 'AccessDeniedException' });
    });

    test('keyhold principals tag refuses a missing principal and aws: keys', async () => {
      const missing = await keyhold(['principals', 'tag', '--data-dir', w.server.dataDir, '--account-id', w.account, '--role', 'nope', '--tag', 'keyhold:ViaService=s3']);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /no role named nope in account \d{12}/);
      const aws = await keyhold(['principals', 'tag', '--data-dir', w.server.dataDir, '--account-id', w.account, '--user', 'intern', '--tag', 'aws:x=1']);
      assert.equal(aws.code, 2);
      assert.match(aws.stderr, /reserved for AWS use/);
    });
  });

  // -----------------------------------------------------------------------------------------------
  // Item 3: IAM condition keys

  describe('IAM requests carry their condition keys', () => {
    let cond: Principal;
    const ADMIN_POLICY = 'arn:aws:iam::aws:policy/AdministratorAccess';
    before(async () => {
      await w.query('iam', 'CreatePolicy', { PolicyName: 'boundary-kms', PolicyDocument: doc(allow('kms:*')) });
      cond = await w.user('cond', {
        statements: [
          allow('iam:*'),
          deny('iam:CreateUser', '*', { Condition: { StringEquals: { 'aws:RequestTag/team': 'red' } } }),
          deny('iam:TagUser', '*', { Condition: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['owner'] } } }),
          deny('iam:AttachUserPolicy', '*', { Condition: { ArnEquals: { 'iam:PolicyARN': ADMIN_POLICY } } }),
          deny(['iam:DeleteUser', 'iam:PutUserPolicy'], '*', { Condition: { StringEquals: { 'aws:ResourceTag/protected': 'yes' } } }),
          deny('iam:CreateRole', '*', { Condition: { StringNotEquals: { 'iam:PermissionsBoundary': policyArn('boundary-kms') } } }),
        ],
      });
      profile(cond);
    });

    test('aws:RequestTag/* on CreateUser', async () => {
      const msg = await cliFails('cond', ['iam', 'create-user', '--user-name', 'red-user', '--tags', 'Key=team,Value=red'], 'AccessDenied');
      assert.equal(msg, deniedText(cond.arn, 'iam:CreateUser', userArn('red-user'), EXPLICIT_IDENTITY));
      const blue = await cliOk('cond', ['iam', 'create-user', '--user-name', 'blue-user', '--tags', 'Key=team,Value=blue']);
      assert.equal(blue.User.UserName, 'blue-user');
    });

    test('aws:TagKeys on TagUser', async () => {
      const msg = await cliFails('cond', ['iam', 'tag-user', '--user-name', 'blue-user', '--tags', 'Key=owner,Value=x'], 'AccessDenied');
      assert.equal(msg, deniedText(cond.arn, 'iam:TagUser', userArn('blue-user'), EXPLICIT_IDENTITY));
      await cli.ok(['iam', 'tag-user', '--user-name', 'blue-user', '--tags', 'Key=cost,Value=1', '--profile', 'cond']);
    });

    test('iam:PolicyARN on AttachUserPolicy', async () => {
      const msg = await cliFails('cond', ['iam', 'attach-user-policy', '--user-name', 'blue-user', '--policy-arn', ADMIN_POLICY], 'AccessDenied');
      assert.equal(msg, deniedText(cond.arn, 'iam:AttachUserPolicy', userArn('blue-user'), EXPLICIT_IDENTITY));
      await cli.ok(['iam', 'attach-user-policy', '--user-name', 'blue-user', '--policy-arn', policyArn('boundary-kms'), '--profile', 'cond']);
    });

    test('aws:ResourceTag/* of the user acted on', async () => {
      await w.query('iam', 'CreateUser', { UserName: 'guarded', 'Tags.member.1.Key': 'protected', 'Tags.member.1.Value': 'yes' });
      const msg = await cliFails('cond', ['iam', 'delete-user', '--user-name', 'GUARDED'], 'AccessDenied');
      assert.equal(msg, deniedText(cond.arn, 'iam:DeleteUser', userArn('guarded'), EXPLICIT_IDENTITY));
      const put = await iam(cond, 'PutUserPolicy', { UserName: 'guarded', PolicyName: 'p', PolicyDocument: doc(allow('*')) });
      assert.equal(put.message, deniedText(cond.arn, 'iam:PutUserPolicy', userArn('guarded'), EXPLICIT_IDENTITY));
      const put2 = await iam(cond, 'PutUserPolicy', { UserName: 'blue-user', PolicyName: 'p', PolicyDocument: doc(allow('kms:DescribeKey')) });
      assert.equal(put2.code, undefined, put2.body);
    });

    test('iam:PermissionsBoundary on CreateRole: only with the required boundary', async () => {
      const trust = cli.file('t3.json', doc({ Effect: 'Allow', Principal: { AWS: w.account }, Action: 'sts:AssumeRole' }));
      const msg = await cliFails('cond', ['iam', 'create-role', '--role-name', 'free', '--assume-role-policy-document', `file://${trust}`], 'AccessDenied');
      assert.equal(msg, deniedText(cond.arn, 'iam:CreateRole', roleArn('free'), EXPLICIT_IDENTITY));
      const made = await cliOk('cond', ['iam', 'create-role', '--role-name', 'bounded-role', '--assume-role-policy-document', `file://${trust}`, '--permissions-boundary', policyArn('boundary-kms')]);
      assert.equal(made.Role.PermissionsBoundary.PermissionsBoundaryArn, policyArn('boundary-kms'));
    });
  });

  // -----------------------------------------------------------------------------------------------
  // Item 4: permissions boundaries

  describe('permissions boundaries bound identity-based permissions', () => {
    const BOUNDARY = 'because no permissions boundary allows the';
    let bounded: Principal;
    let keyArn = '';
    let direct = '';
    before(async () => {
      await w.query('iam', 'CreatePolicy', { PolicyName: 'only-describe', PolicyDocument: doc(allow(['kms:DescribeKey', 'kms:ListKeys', 'iam:GetUser'])) });
      await w.query('iam', 'CreatePolicy', { PolicyName: 'all-but-encrypt', PolicyDocument: doc(allow('*'), deny('kms:Encrypt')) });
      await w.query('iam', 'CreateUser', { UserName: 'bounded', PermissionsBoundary: policyArn('only-describe') });
      await w.query('iam', 'PutUserPolicy', { UserName: 'bounded', PolicyName: 'p', PolicyDocument: doc(allow(['kms:*', 'iam:*'])) });
      const creds = (await w.query('iam', 'CreateAccessKey', { UserName: 'bounded' }));
      bounded = w.principal('bounded', userArn('bounded'), w.account, { accessKeyId: xml(creds, 'AccessKeyId') as string, secretAccessKey: xml(creds, 'SecretAccessKey') as string });
      profile(bounded);
      keyArn = (await w.root.kms.send(new CreateKeyCommand({}))).KeyMetadata?.Arn as string;
      // A key whose policy names the user itself: not bounded by the user's boundary.
      direct = (await w.root.kms.send(new CreateKeyCommand({ Policy: doc(rootStatement(w.account), kp(userArn('bounded'), ['kms:Encrypt', 'kms:DescribeKey'])) }))).KeyMetadata?.Arn as string;
    });

    test('an action the identity policy allows but the boundary does not is denied, in KMS', async () => {
      await bounded.kms.send(new ListKeysCommand({}));
      await bounded.kms.send(new DescribeKeyCommand({ KeyId: keyArn }));
      await assert.rejects(bounded.kms.send(new CreateKeyCommand({})), {
        name: 'AccessDeniedException',
        message: `User: ${bounded.arn} is not authorized to perform: kms:CreateKey on resource: * ${BOUNDARY} kms:CreateKey action`,
      });
      await assert.rejects(bounded.kms.send(new EncryptCommand({ KeyId: keyArn, Plaintext: pt })), {
        name: 'AccessDeniedException',
        message: `User: ${bounded.arn} is not authorized to perform: kms:Encrypt on resource: ${keyArn} ${BOUNDARY} kms:Encrypt action`,
      });
    });

    test('and in IAM (aws iam list-users)', async () => {
      const msg = await cliFails('bounded', ['iam', 'list-users'], 'AccessDenied');
      assert.equal(msg, `User: ${bounded.arn} is not authorized to perform: iam:ListUsers on resource: arn:aws:iam::${w.account}:user/ ${BOUNDARY} iam:ListUsers action`);
      assert.equal((await cliOk('bounded', ['iam', 'get-user'])).User.PermissionsBoundary.PermissionsBoundaryArn, policyArn('only-describe'));
    });

    test('a key policy naming the IAM user itself is not bounded by its boundary (AWS: same-account resource-based policies naming a user ARN)', async () => {
      const out = await bounded.kms.send(new EncryptCommand({ KeyId: direct, Plaintext: pt }));
      assert.ok(out.CiphertextBlob !== undefined);
    });

    test('an explicit deny in a boundary denies even what a key policy grants the user directly', async () => {
      await w.query('iam', 'CreateUser', { UserName: 'deny-bounded', PermissionsBoundary: policyArn('all-but-encrypt') });
      const c = await w.query('iam', 'CreateAccessKey', { UserName: 'deny-bounded' });
      const p = w.principal('deny-bounded', userArn('deny-bounded'), w.account, { accessKeyId: xml(c, 'AccessKeyId') as string, secretAccessKey: xml(c, 'SecretAccessKey') as string });
      const k = (await w.root.kms.send(new CreateKeyCommand({ Policy: doc(rootStatement(w.account), kp(userArn('deny-bounded'), 'kms:Encrypt')) }))).KeyMetadata?.Arn as string;
      await assert.rejects(p.kms.send(new EncryptCommand({ KeyId: k, Plaintext: pt })), {
        name: 'AccessDeniedException',
        message: `User: ${p.arn} is not authorized to perform: kms:Encrypt on resource: ${k} with an explicit deny in a permissions boundary`,
      });
    });

    test("a role's boundary bounds its sessions, also where a key policy names the role; a key policy naming the session is not bounded", async () => {
      const assumer = await w.user('assumer', { statements: [allow('sts:AssumeRole')] });
      await w.query('iam', 'CreateRole', {
        RoleName: 'brole', PermissionsBoundary: policyArn('only-describe'),
        AssumeRolePolicyDocument: doc({ Effect: 'Allow', Principal: { AWS: userArn('assumer') }, Action: 'sts:AssumeRole' }),
      });
      await w.query('iam', 'PutRolePolicy', { RoleName: 'brole', PolicyName: 'p', PolicyDocument: doc(allow('kms:*')) });
      const s = await w.assume(roleArn('brole'), 'sess', assumer);
      const viaRole = (await w.root.kms.send(new CreateKeyCommand({ Policy: doc(rootStatement(w.account), kp(roleArn('brole'), 'kms:Encrypt')) }))).KeyMetadata?.Arn as string;
      const viaSession = (await w.root.kms.send(new CreateKeyCommand({ Policy: doc(rootStatement(w.account), kp(s.arn, 'kms:Encrypt')) }))).KeyMetadata?.Arn as string;
      await assert.rejects(s.kms.send(new EncryptCommand({ KeyId: viaRole, Plaintext: pt })), {
        name: 'AccessDeniedException',
        message: `User: ${s.arn} is not authorized to perform: kms:Encrypt on resource: ${viaRole} ${BOUNDARY} kms:Encrypt action`,
      });
      await assert.rejects(s.kms.send(new CreateKeyCommand({})), { name: 'AccessDeniedException', message: /because no permissions boundary allows the kms:CreateKey action$/ });
      assert.ok((await s.kms.send(new EncryptCommand({ KeyId: viaSession, Plaintext: pt }))).CiphertextBlob !== undefined);
      await s.kms.send(new DescribeKeyCommand({ KeyId: viaRole }));
    });
  });
});
