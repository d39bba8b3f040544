/**
 * IAM and STS over the AWS Query protocol, against a real server with real SigV4 signatures
 * (issue 3, "Identities"): response and error documents, validation, access keys, policies,
 * authorization of IAM calls by identity policies, AssumeRole (trust policies, durations,
 * session policies, session tags, role chaining) and temporary credentials used against KMS.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CreateKeyCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { startServer, stopAndRemove, type TestServer } from '../helpers/server';
import { credsFrom, form, kmsClient, query, queryError, send, sign, xml, xmlAll, type Creds } from './wire';

const IAM_NS = 'https://iam.amazonaws.com/doc/2010-05-08/';
const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';

function policy(...statements: object[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}
const allow = (action: string | string[], resource: string | string[] = '*', extra: object = {}): object => ({ Effect: 'Allow', Action: action, Resource: resource, ...extra });

describe('IAM and STS over the Query protocol', () => {
  let server: TestServer;
  let root: Creds;
  let account: string;

  const iam = (action: string, params: Record<string, string | number> = {}, creds: Creds = root) => query(server.port, 'iam', action, params, creds);
  const sts = (action: string, params: Record<string, string | number> = {}, creds: Creds = root) => query(server.port, 'sts', action, params, creds);
  async function ok(p: Promise<{ status: number; body: string }>): Promise<string> {
    const a = await p;
    assert.equal(a.status, 200, a.body);
    return a.body;
  }
  /** A user with an access key and optional inline policy. */
  async function userWithKey(name: string, inline?: string): Promise<Creds> {
    await ok(iam('CreateUser', { UserName: name }));
    if (inline !== undefined) await ok(iam('PutUserPolicy', { UserName: name, PolicyName: 'p', PolicyDocument: inline }));
    return credsFrom(await ok(iam('CreateAccessKey', { UserName: name })));
  }
  function trust(principal: string | string[], actions: string | string[] = 'sts:AssumeRole'): string {
    return policy({ Effect: 'Allow', Principal: { AWS: principal }, Action: actions });
  }

  before(async () => {
    server = await startServer();
    root = server.credentials;
    account = server.accountId;
  });
  after(() => stopAndRemove(server));

  test('CreateUser answers an XML document in the IAM namespace with the request id', async () => {
    const a = await iam('CreateUser', { UserName: 'wire-alice', Path: '/eng/', 'Tags.member.1.Key': 'team', 'Tags.member.1.Value': 'blue' });
    assert.equal(a.status, 200);
    assert.match(String(a.headers['content-type']), /^text\/xml/);
    assert.ok(a.body.startsWith(`<CreateUserResponse xmlns="${IAM_NS}"><CreateUserResult><User>`), a.body);
    assert.equal(xml(a.body, 'RequestId'), a.headers['x-amzn-requestid']);
    assert.equal(xml(a.body, 'Arn'), `arn:aws:iam::${account}:user/eng/wire-alice`);
    assert.match(xml(a.body, 'UserId') as string, /^AIDA[A-Z2-7]{17}$/);
    assert.match(xml(a.body, 'CreateDate') as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(xml(a.body, 'Value'), 'blue');
    const role = await iam('CreateRole', { RoleName: 'wire-escaped', Description: `a&b<c>"d'`, AssumeRolePolicyDocument: trust(account) });
    assert.ok(role.body.includes('<Description>a&amp;b&lt;c&gt;&quot;d&apos;</Description>'), role.body);
  });

  test('GetUser of an unknown user is NoSuchEntity (404) in an ErrorResponse', async () => {
    const a = await iam('GetUser', { UserName: 'nobody' });
    assert.deepEqual(queryError(a), { status: 404, type: 'Sender', code: 'NoSuchEntity', message: 'The user with name nobody cannot be found.' });
    assert.ok(a.body.startsWith(`<ErrorResponse xmlns="${IAM_NS}"><Error>`));
    assert.equal(xml(a.body, 'RequestId'), a.headers['x-amzn-requestid']);
  });

  test('CreateUser with a taken name, in any case, is EntityAlreadyExists (409)', async () => {
    await ok(iam('CreateUser', { UserName: 'wire-dup' }));
    const a = await iam('CreateUser', { UserName: 'WIRE-DUP' });
    assert.deepEqual(queryError(a), { status: 409, type: 'Sender', code: 'EntityAlreadyExists', message: 'User with name WIRE-DUP already exists.' });
    assert.equal(xml(await ok(iam('GetUser', { UserName: 'Wire-Dup' })), 'UserName'), 'wire-dup');
  });

  test('a member breaking its pattern is ValidationError quoting the value, as AWS does', async () => {
    const a = await iam('CreateUser', { UserName: 'bad name!' });
    const e = queryError(a);
    assert.equal(e.status, 400);
    assert.equal(e.code, 'ValidationError');
    // The pattern as the model writes it, unanchored, as IAM and STS quote it (e.g. STS:
    // "… at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression
    // pattern: [\w+=,.@-]*", JuliaCloud/AWSCore.jl PR 38; IAM tags: SWO-GS/auto-tag issue 90).
    assert.equal(e.message, "1 validation error detected: Value 'bad name!' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+");
  });

  test('an unknown Action is InvalidAction; a modelled one Keyhold lacks is UnsupportedOperationException', async () => {
    const e = queryError(await iam('CreateLoginProfileX', { UserName: 'x' }));
    assert.equal(e.status, 400);
    assert.equal(e.code, 'InvalidAction');
    const u = queryError(await iam('CreateSAMLProvider', { Name: 'x' }));
    assert.equal(u.status, 400);
    assert.equal(u.code, 'UnsupportedOperationException');
    assert.equal(u.message, 'CreateSAMLProvider is not supported by Keyhold. See docs/compatibility.md for the operations it does not implement.');
  });

  test('authentication errors use the Query codes: MissingAuthenticationToken, SignatureDoesNotMatch, InvalidClientTokenId', async () => {
    const body = form('iam', 'ListUsers', {});
    const unsigned = await send(server.port, { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(body.length) }, body);
    assert.equal(queryError(unsigned).status, 403);
    assert.equal(queryError(unsigned).code, 'MissingAuthenticationToken');
    const wrong = queryError(await iam('ListUsers', {}, { accessKeyId: root.accessKeyId, secretAccessKey: 'x'.repeat(40) }));
    assert.equal(wrong.status, 403);
    assert.equal(wrong.code, 'SignatureDoesNotMatch');
    const unknown = queryError(await sts('GetCallerIdentity', {}, { accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', secretAccessKey: 'x'.repeat(40) }));
    assert.deepEqual(unknown, { status: 403, type: 'Sender', code: 'InvalidClientTokenId', message: 'The security token included in the request is invalid.' });
  });

  test('ListUsers pages with MaxItems, IsTruncated and Marker, filtered by PathPrefix', async () => {
    for (const n of ['p1', 'p2', 'p3']) await ok(iam('CreateUser', { UserName: `page-${n}`, Path: '/paged/' }));
    const first = await ok(iam('ListUsers', { PathPrefix: '/paged/', MaxItems: 2 }));
    assert.deepEqual(xmlAll(first, 'UserName'), ['page-p1', 'page-p2']);
    assert.equal(xml(first, 'IsTruncated'), 'true');
    const second = await ok(iam('ListUsers', { PathPrefix: '/paged/', MaxItems: 2, Marker: xml(first, 'Marker') as string }));
    assert.deepEqual(xmlAll(second, 'UserName'), ['page-p3']);
    assert.equal(xml(second, 'IsTruncated'), 'false');
  });

  test('access keys: a new key works against KMS at once; Inactive and deleted keys stop at once; two per user', async () => {
    const key = await userWithKey('wire-keys', policy(allow('kms:ListKeys')));
    assert.match(key.accessKeyId, /^AKIA[A-Z2-7]{16}$/);
    assert.equal(key.secretAccessKey.length, 40);
    const kms = kmsClient(server.endpoint, key);
    await kms.send(new ListKeysCommand({}));
    const second = credsFrom(await ok(iam('CreateAccessKey', { UserName: 'wire-keys' })));
    const third = queryError(await iam('CreateAccessKey', { UserName: 'wire-keys' }));
    assert.deepEqual(third, { status: 409, type: 'Sender', code: 'LimitExceeded', message: 'Cannot exceed quota for AccessKeysPerUser: 2' });
    const listed = await ok(iam('ListAccessKeys', { UserName: 'wire-keys' }));
    assert.deepEqual(xmlAll(listed, 'AccessKeyId').sort(), [key.accessKeyId, second.accessKeyId].sort());
    assert.ok(!listed.includes('SecretAccessKey'));

    await ok(iam('UpdateAccessKey', { UserName: 'wire-keys', AccessKeyId: key.accessKeyId, Status: 'Inactive' }));
    await assert.rejects(kms.send(new ListKeysCommand({})), { name: 'UnrecognizedClientException' });
    await ok(iam('UpdateAccessKey', { UserName: 'wire-keys', AccessKeyId: key.accessKeyId, Status: 'Active' }));
    await kms.send(new ListKeysCommand({}));

    const conflict = queryError(await iam('DeleteUser', { UserName: 'wire-keys' }));
    assert.deepEqual(conflict, { status: 409, type: 'Sender', code: 'DeleteConflict', message: 'Cannot delete entity, must delete access keys first.' });
    await ok(iam('DeleteUserPolicy', { UserName: 'wire-keys', PolicyName: 'p' }));
    await ok(iam('DeleteAccessKey', { UserName: 'wire-keys', AccessKeyId: key.accessKeyId }));
    await assert.rejects(kms.send(new ListKeysCommand({})), { name: 'UnrecognizedClientException' });
    const gone = queryError(await iam('DeleteAccessKey', { UserName: 'wire-keys', AccessKeyId: key.accessKeyId }));
    assert.equal(gone.code, 'NoSuchEntity');
    assert.equal(gone.message, `The Access Key with id ${key.accessKeyId} cannot be found.`);
    await ok(iam('DeleteAccessKey', { UserName: 'wire-keys', AccessKeyId: second.accessKeyId }));
    await ok(iam('DeleteUser', { UserName: 'wire-keys' }));
    assert.equal(queryError(await iam('GetUser', { UserName: 'wire-keys' })).code, 'NoSuchEntity');
  });

  test('inline policies: validated, size-limited, returned URL-encoded, deletable', async () => {
    await ok(iam('CreateUser', { UserName: 'wire-inline' }));
    const withPrincipal = queryError(await iam('PutUserPolicy', {
      UserName: 'wire-inline', PolicyName: 'p', PolicyDocument: policy({ Effect: 'Allow', Principal: '*', Action: 'kms:*', Resource: '*' }),
    }));
    assert.equal(withPrincipal.status, 400);
    assert.equal(withPrincipal.code, 'MalformedPolicyDocument');
    assert.equal(queryError(await iam('PutUserPolicy', { UserName: 'wire-inline', PolicyName: 'p', PolicyDocument: '{not json' })).code, 'MalformedPolicyDocument');
    const big = policy(allow(Array.from({ length: 200 }, (_, i) => `kms:Action${i}`)));
    const tooBig = queryError(await iam('PutUserPolicy', { UserName: 'wire-inline', PolicyName: 'p', PolicyDocument: big }));
    assert.deepEqual(tooBig, { status: 409, type: 'Sender', code: 'LimitExceeded', message: 'Maximum policy size of 2048 bytes exceeded for user wire-inline' });

    const doc = policy(allow('kms:Encrypt', '*', { Condition: { StringEquals: { 'kms:EncryptionContext:app': 'a b%&<' } } }));
    await ok(iam('PutUserPolicy', { UserName: 'wire-inline', PolicyName: 'enc', PolicyDocument: doc }));
    const got = await ok(iam('GetUserPolicy', { UserName: 'wire-inline', PolicyName: 'enc' }));
    assert.equal(decodeURIComponent(xml(got, 'PolicyDocument') as string), doc);
    assert.equal(queryError(await iam('DeleteUser', { UserName: 'wire-inline' })).message, 'Cannot delete entity, must delete policies first.');
    await ok(iam('DeleteUserPolicy', { UserName: 'wire-inline', PolicyName: 'enc' }));
    const missing = queryError(await iam('GetUserPolicy', { UserName: 'wire-inline', PolicyName: 'enc' }));
    assert.deepEqual(missing, { status: 404, type: 'Sender', code: 'NoSuchEntity', message: 'The user policy with name enc cannot be found.' });
  });

  test('managed policies: CreatePolicy, attach (customer and AWS managed), detach; unknown ARNs are NoSuchEntity', async () => {
    await ok(iam('CreateUser', { UserName: 'wire-managed' }));
    const created = await ok(iam('CreatePolicy', { PolicyName: 'wire-kms', Path: '/team/', PolicyDocument: policy(allow('kms:*')) }));
    const arn = `arn:aws:iam::${account}:policy/team/wire-kms`;
    assert.equal(xml(created, 'Arn'), arn);
    assert.match(xml(created, 'PolicyId') as string, /^ANPA/);
    assert.equal(xml(created, 'DefaultVersionId'), 'v1');
    assert.equal(queryError(await iam('CreatePolicy', { PolicyName: 'WIRE-KMS', PolicyDocument: policy(allow('kms:*')) })).code, 'EntityAlreadyExists');
    await ok(iam('AttachUserPolicy', { UserName: 'wire-managed', PolicyArn: arn }));
    await ok(iam('AttachUserPolicy', { UserName: 'wire-managed', PolicyArn: 'arn:aws:iam::aws:policy/IAMReadOnlyAccess' }));
    const unknown = queryError(await iam('AttachUserPolicy', { UserName: 'wire-managed', PolicyArn: `arn:aws:iam::${account}:policy/nope` }));
    assert.deepEqual(unknown, { status: 404, type: 'Sender', code: 'NoSuchEntity', message: `Policy arn:aws:iam::${account}:policy/nope does not exist or is not attachable.` });
    assert.equal(queryError(await iam('DeleteUser', { UserName: 'wire-managed' })).message, 'Cannot delete entity, must detach all policies first.');
    await ok(iam('DetachUserPolicy', { UserName: 'wire-managed', PolicyArn: arn }));
    assert.equal(queryError(await iam('DetachUserPolicy', { UserName: 'wire-managed', PolicyArn: arn })).code, 'NoSuchEntity');
  });

  test('IAM calls by IAM users are authorized by their identity policies, group policies included', async () => {
    const bob = await userWithKey('wire-bob');
    const denied = queryError(await iam('CreateUser', { UserName: 'made-by-bob' }, bob));
    assert.deepEqual(denied, {
      status: 403,
      type: 'Sender',
      code: 'AccessDenied',
      message: `User: arn:aws:iam::${account}:user/wire-bob is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::${account}:user/made-by-bob because no identity-based policy allows the iam:CreateUser action`,
    });
    await ok(iam('CreateGroup', { GroupName: 'wire-admins' }));
    await ok(iam('AttachGroupPolicy', { GroupName: 'wire-admins', PolicyArn: 'arn:aws:iam::aws:policy/IAMFullAccess' }));
    await ok(iam('AddUserToGroup', { GroupName: 'wire-admins', UserName: 'wire-bob' }));
    await ok(iam('CreateUser', { UserName: 'made-by-bob' }, bob));
    await ok(iam('PutGroupPolicy', { GroupName: 'wire-admins', PolicyName: 'no-delete', PolicyDocument: policy({ Effect: 'Deny', Action: 'iam:DeleteUser', Resource: '*' }) }));
    const explicit = queryError(await iam('DeleteUser', { UserName: 'made-by-bob' }, bob));
    assert.equal(explicit.code, 'AccessDenied');
    assert.match(explicit.message as string, /with an explicit deny in an identity-based policy$/);
    // Policy variables: a user may manage only its own keys.
    const carol = await userWithKey('wire-carol', policy(allow(['iam:ListAccessKeys', 'iam:GetUser'], `arn:aws:iam::${account}:user/\${aws:username}`)));
    assert.equal(xml(await ok(iam('GetUser', {}, carol)), 'UserName'), 'wire-carol');
    await ok(iam('ListAccessKeys', {}, carol));
    assert.equal(queryError(await iam('ListAccessKeys', { UserName: 'wire-bob' }, carol)).code, 'AccessDenied');
  });

  test('GetCallerIdentity names the root, a user and a role session', async () => {
    const r = await ok(sts('GetCallerIdentity'));
    assert.ok(r.startsWith(`<GetCallerIdentityResponse xmlns="${STS_NS}"><GetCallerIdentityResult>`), r);
    assert.equal(xml(r, 'Arn'), `arn:aws:iam::${account}:root`);
    assert.equal(xml(r, 'UserId'), account);
    assert.equal(xml(r, 'Account'), account);
    const u = await userWithKey('wire-who');
    const w = await ok(sts('GetCallerIdentity', {}, u));
    assert.equal(xml(w, 'Arn'), `arn:aws:iam::${account}:user/wire-who`);
    assert.match(xml(w, 'UserId') as string, /^AIDA/);
  });

  test('AssumeRole: the root may not; a user the trust policy names may; temporary credentials work against KMS', async () => {
    const dave = await userWithKey('wire-dave');
    const role = await ok(iam('CreateRole', { RoleName: 'wire-app', Path: '/svc/', AssumeRolePolicyDocument: trust(`arn:aws:iam::${account}:user/wire-dave`), MaxSessionDuration: 7200 }));
    const roleArn = `arn:aws:iam::${account}:role/svc/wire-app`;
    assert.equal(xml(role, 'Arn'), roleArn);
    assert.equal(xml(role, 'MaxSessionDuration'), '7200');
    await ok(iam('PutRolePolicy', { RoleName: 'wire-app', PolicyName: 'kms', PolicyDocument: policy(allow('kms:*')) }));
    assert.deepEqual(queryError(await sts('AssumeRole', { RoleArn: roleArn, RoleSessionName: 'sess' })), {
      status: 403, type: 'Sender', code: 'AccessDenied', message: 'Roles may not be assumed by root accounts.',
    });

    const before = Date.now();
    const a = await ok(sts('AssumeRole', { RoleArn: roleArn, RoleSessionName: 'dave-session', DurationSeconds: 7200 }, dave));
    assert.ok(a.startsWith(`<AssumeRoleResponse xmlns="${STS_NS}"><AssumeRoleResult><Credentials>`), a);
    const creds = credsFrom(a);
    assert.match(creds.accessKeyId, /^ASIA[A-Z2-7]{16}$/);
    assert.ok((creds.sessionToken ?? '').length >= 64);
    const expiration = Date.parse(xml(a, 'Expiration') as string);
    assert.ok(expiration >= before + 7_199_000 && expiration <= Date.now() + 7_201_000);
    assert.equal(xml(a, 'Arn'), `arn:aws:sts::${account}:assumed-role/wire-app/dave-session`);
    assert.match(xml(a, 'AssumedRoleId') as string, /^AROA[A-Z2-7]{17}:dave-session$/);

    const who = await ok(sts('GetCallerIdentity', {}, creds));
    assert.equal(xml(who, 'Arn'), `arn:aws:sts::${account}:assumed-role/wire-app/dave-session`);
    const kms = kmsClient(server.endpoint, creds);
    const key = await kms.send(new CreateKeyCommand({}));
    assert.ok(key.KeyMetadata?.Arn?.startsWith(`arn:aws:kms:us-east-1:${account}:key/`));

    // The session token is required and must be the one issued.
    const noToken = { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey };
    assert.equal(queryError(await sts('GetCallerIdentity', {}, noToken)).code, 'InvalidClientTokenId');
    await assert.rejects(kmsClient(server.endpoint, { ...creds, sessionToken: `${creds.sessionToken}x` }).send(new ListKeysCommand({})), {
      name: 'UnrecognizedClientException',
    });
  });

  test('AssumeRole is denied when the trust policy does not name the caller, or names only the account without an identity policy', async () => {
    const erin = await userWithKey('wire-erin');
    await ok(iam('CreateRole', { RoleName: 'wire-other', AssumeRolePolicyDocument: trust(`arn:aws:iam::${account}:user/wire-dave`) }));
    const roleArn = `arn:aws:iam::${account}:role/wire-other`;
    const e = queryError(await sts('AssumeRole', { RoleArn: roleArn, RoleSessionName: 'sess' }, erin));
    assert.equal(e.status, 403);
    assert.equal(e.code, 'AccessDenied');
    assert.match(e.message as string, new RegExp(`^User: arn:aws:iam::${account}:user/wire-erin is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`));
    // A role that does not exist is denied the same way.
    assert.equal(queryError(await sts('AssumeRole', { RoleArn: `arn:aws:iam::${account}:role/none`, RoleSessionName: 'sess' }, erin)).code, 'AccessDenied');

    await ok(iam('CreateRole', { RoleName: 'wire-account', AssumeRolePolicyDocument: trust(`arn:aws:iam::${account}:root`) }));
    const accountRole = `arn:aws:iam::${account}:role/wire-account`;
    assert.equal(queryError(await sts('AssumeRole', { RoleArn: accountRole, RoleSessionName: 'sess' }, erin)).code, 'AccessDenied');
    await ok(iam('PutUserPolicy', { UserName: 'wire-erin', PolicyName: 'assume', PolicyDocument: policy(allow('sts:AssumeRole', accountRole)) }));
    await ok(sts('AssumeRole', { RoleArn: accountRole, RoleSessionName: 'sess' }, erin));
  });

  test('AssumeRole checks DurationSeconds against its range and the role MaxSessionDuration', async () => {
    const fay = await userWithKey('wire-fay');
    await ok(iam('CreateRole', { RoleName: 'wire-short', AssumeRolePolicyDocument: trust(`arn:aws:iam::${account}:user/wire-fay`) }));
    const roleArn = `arn:aws:iam::${account}:role/wire-short`;
    const tooLong = queryError(await sts('AssumeRole', { RoleArn: roleArn, RoleSessionName: 'sess', DurationSeconds: 3601 }, fay));
    assert.deepEqual(tooLong, { status: 400, type: 'Sender', code: 'ValidationError', message: 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.' });
    const tooShort = queryError(await sts('AssumeRole', { RoleArn: roleArn, RoleSessionName: 'sess', DurationSeconds: 899 }, fay));
    assert.equal(tooShort.code, 'ValidationError');
    assert.match(tooShort.message as string, /Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900/);
    const badTrust = queryError(await iam('CreateRole', { RoleName: 'wire-bad', AssumeRolePolicyDocument: policy(allow('sts:AssumeRole')) }));
    assert.equal(badTrust.code, 'MalformedPolicyDocument');
    const kmsTrust = queryError(await iam('CreateRole', {
      RoleName: 'wire-bad', AssumeRolePolicyDocument: policy({ Effect: 'Allow', Principal: { AWS: account }, Action: 'kms:Encrypt' }),
    }));
    assert.deepEqual(kmsTrust, { status: 400, type: 'Sender', code: 'MalformedPolicyDocument', message: 'AssumeRole policy may only specify STS AssumeRole actions.' });
  });

  test('session policies bound a session: the role allows everything, the session only what its policy allows', async () => {
    const gus = await userWithKey('wire-gus');
    await ok(iam('CreateRole', { RoleName: 'wire-admin', AssumeRolePolicyDocument: trust(`arn:aws:iam::${account}:user/wire-gus`) }));
    await ok(iam('AttachRolePolicy', { RoleName: 'wire-admin', PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }));
    const roleArn = `arn:aws:iam::${account}:role/wire-admin`;
    const full = credsFrom(await ok(sts('AssumeRole', { RoleArn: roleArn, RoleSessionName: 'full' }, gus)));
    await ok(iam('ListUsers', {}, full));
    const bounded = await ok(sts('AssumeRole', { RoleArn: roleArn, RoleSessionName: 'bounded', Policy: policy(allow('iam:GetRole')) }, gus));
    assert.match(xml(bounded, 'PackedPolicySize') as string, /^\d+$/);
    const session = credsFrom(bounded);
    await ok(iam('GetRole', { RoleName: 'wire-admin' }, session));
    const denied = queryError(await iam('ListUsers', {}, session));
    assert.equal(denied.code, 'AccessDenied');
    assert.match(denied.message as string, /because no session policy allows the iam:ListUsers action$/);
    const managed = credsFrom(await ok(sts('AssumeRole', {
      RoleArn: roleArn, RoleSessionName: 'managed', 'PolicyArns.member.1.arn': 'arn:aws:iam::aws:policy/IAMReadOnlyAccess',
    }, gus)));
    await ok(iam('ListUsers', {}, managed));
    assert.equal(queryError(await iam('CreateUser', { UserName: 'nope' }, managed)).code, 'AccessDenied');
    const malformed = queryError(await sts('AssumeRole', { RoleArn: roleArn, RoleSessionName: 'mm', Policy: '{"Statement":[]}' }, gus));
    assert.equal(malformed.code, 'MalformedPolicyDocument');
  });

  test('session tags need sts:TagSession, become aws:PrincipalTag, and transitive tags pass through role chaining (one hour at most)', async () => {
    const hal = await userWithKey('wire-hal');
    await ok(iam('CreateRole', { RoleName: 'wire-tagged', AssumeRolePolicyDocument: trust(`arn:aws:iam::${account}:user/wire-hal`, ['sts:AssumeRole', 'sts:TagSession']) }));
    await ok(iam('CreateRole', { RoleName: 'wire-untagged', AssumeRolePolicyDocument: trust(`arn:aws:iam::${account}:user/wire-hal`) }));
    const tagged = `arn:aws:iam::${account}:role/wire-tagged`;
    const tags = { 'Tags.member.1.Key': 'team', 'Tags.member.1.Value': 'blue', 'TransitiveTagKeys.member.1': 'team' };
    const noTagSession = queryError(await sts('AssumeRole', { RoleArn: `arn:aws:iam::${account}:role/wire-untagged`, RoleSessionName: 'sess', ...tags }, hal));
    assert.equal(noTagSession.code, 'AccessDenied');
    assert.match(noTagSession.message as string, /sts:TagSession/);
    const dup = queryError(await sts('AssumeRole', { RoleArn: tagged, RoleSessionName: 'sess', ...tags, 'Tags.member.2.Key': 'TEAM', 'Tags.member.2.Value': 'x' }, hal));
    assert.equal(dup.code, 'ValidationError');

    // The chained role lets sessions list users only when they carry team=blue.
    await ok(iam('CreateRole', {
      RoleName: 'wire-chained',
      AssumeRolePolicyDocument: policy({ Effect: 'Allow', Principal: { AWS: tagged }, Action: ['sts:AssumeRole', 'sts:TagSession'] }),
    }));
    await ok(iam('PutRolePolicy', {
      RoleName: 'wire-chained', PolicyName: 'by-tag',
      PolicyDocument: policy(allow('iam:ListUsers', '*', { Condition: { StringEquals: { 'aws:PrincipalTag/team': 'blue' } } })),
    }));
    await ok(iam('PutRolePolicy', { RoleName: 'wire-tagged', PolicyName: 'chain', PolicyDocument: policy(allow('sts:AssumeRole')) }));
    const chained = `arn:aws:iam::${account}:role/wire-chained`;
    const first = credsFrom(await ok(sts('AssumeRole', { RoleArn: tagged, RoleSessionName: 'first', ...tags }, hal)));
    const hop = queryError(await sts('AssumeRole', { RoleArn: chained, RoleSessionName: 'second', DurationSeconds: 3601 }, first));
    assert.deepEqual(hop, { status: 400, type: 'Sender', code: 'ValidationError', message: 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.' });
    const second = credsFrom(await ok(sts('AssumeRole', { RoleArn: chained, RoleSessionName: 'second' }, first)));
    await ok(iam('ListUsers', {}, second));
    const untaggedFirst = credsFrom(await ok(sts('AssumeRole', { RoleArn: tagged, RoleSessionName: 'plain' }, hal)));
    const plainSecond = credsFrom(await ok(sts('AssumeRole', { RoleArn: chained, RoleSessionName: 'second' }, untaggedFirst)));
    assert.equal(queryError(await iam('ListUsers', {}, plainSecond)).code, 'AccessDenied');
  });

  test('TagUser and TagRole add tags (IAM user tags are aws:PrincipalTag), with the 50-tag quota', async () => {
    const ivy = await userWithKey('wire-ivy', policy(allow('iam:ListUsers', '*', { Condition: { StringEquals: { 'aws:PrincipalTag/level': 'ops' } } })));
    assert.equal(queryError(await iam('ListUsers', {}, ivy)).code, 'AccessDenied');
    await ok(iam('TagUser', { UserName: 'wire-ivy', 'Tags.member.1.Key': 'level', 'Tags.member.1.Value': 'ops' }));
    await ok(iam('ListUsers', {}, ivy));
    const many: Record<string, string> = {};
    for (let i = 1; i <= 50; i++) {
      many[`Tags.member.${i}.Key`] = `k${i}`;
      many[`Tags.member.${i}.Value`] = 'v';
    }
    assert.equal(queryError(await iam('TagUser', { UserName: 'wire-ivy', ...many })).code, 'LimitExceeded');
    await ok(iam('CreateRole', { RoleName: 'wire-tag-role', AssumeRolePolicyDocument: trust(account) }));
    await ok(iam('TagRole', { RoleName: 'wire-tag-role', 'Tags.member.1.Key': 'env', 'Tags.member.1.Value': 'prod' }));
    const role = await ok(iam('GetRole', { RoleName: 'wire-tag-role' }));
    assert.equal(xml(role, 'Key'), 'env');
    assert.equal(xml(role, 'Value'), 'prod');
    assert.equal(queryError(await iam('TagRole', { RoleName: 'wire-tag-role', 'Tags.member.1.Key': 'aws:x', 'Tags.member.1.Value': 'v' })).code, 'InvalidInput');
  });

  test('DeleteRole refuses a role with policies (DeleteConflict), then deletes it', async () => {
    await ok(iam('CreateRole', { RoleName: 'wire-doomed', AssumeRolePolicyDocument: trust(account) }));
    await ok(iam('PutRolePolicy', { RoleName: 'wire-doomed', PolicyName: 'p', PolicyDocument: policy(allow('kms:*')) }));
    assert.equal(queryError(await iam('DeleteRole', { RoleName: 'wire-doomed' })).code, 'DeleteConflict');
    assert.equal(queryError(await iam('GetRole', { RoleName: 'nope' })).message, 'The role with name nope cannot be found.');
  });
});

describe('global services sign for us-east-1', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ region: 'eu-west-1' });
  });
  after(() => stopAndRemove(server));

  test('IAM and STS accept us-east-1 and the served Region; KMS still only the served Region', async () => {
    const creds = server.credentials;
    assert.equal((await query(server.port, 'iam', 'ListUsers', {}, creds, 'us-east-1')).status, 200);
    assert.equal((await query(server.port, 'sts', 'GetCallerIdentity', {}, creds, 'eu-west-1')).status, 200);
    assert.equal(queryError(await query(server.port, 'sts', 'GetCallerIdentity', {}, creds, 'ap-south-1')).code, 'SignatureDoesNotMatch');
    const body = '{}';
    const headers = await sign(server.port, 'kms', 'us-east-1', { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.ListKeys' }, body, creds);
    const kms = await send(server.port, headers, body);
    assert.equal(kms.status, 400);
    assert.equal(JSON.parse(kms.body).__type, 'InvalidSignatureException');
  });
});
