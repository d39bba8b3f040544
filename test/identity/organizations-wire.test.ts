/**
 * Organizations over awsJson1_1 against a real server (issue 3): an organization, member
 * accounts (CreateAccount and `keyhold accounts create`), the OrganizationAccountAccessRole,
 * service control policies bounding member accounts' IAM calls, and the expiry of temporary
 * credentials (KEYHOLD_TEST_CLOCK_OFFSET_MS).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ListKeysCommand } from '@aws-sdk/client-kms';
import { keyhold } from '../helpers/keyhold-cli';
import { startServer, stopAndRemove, type TestServer } from '../helpers/server';
import { credsFrom, kmsClient, organizations, query, queryError, xml, type Creds } from './wire';

function policy(...statements: object[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

describe('Organizations and service control policies', () => {
  let server: TestServer;
  let root: Creds;
  let account: string;
  let orgId = '';
  let rootId = '';
  let member = '';
  let memberSession: Creds;
  let ops: Creds;

  const org = (op: string, input: Record<string, unknown> = {}, creds: Creds = root) => organizations(server.port, op, input, creds);
  async function ok(op: string, input: Record<string, unknown> = {}, creds: Creds = root): Promise<any> {
    const r = await org(op, input, creds);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    return r.json;
  }
  const iam = (action: string, params: Record<string, string | number>, creds: Creds) => query(server.port, 'iam', action, params, creds);
  const sts = (action: string, params: Record<string, string | number>, creds: Creds) => query(server.port, 'sts', action, params, creds);

  before(async () => {
    server = await startServer();
    root = server.credentials;
    account = server.accountId;
  });
  after(() => stopAndRemove(server));

  test('DescribeOrganization outside an organization is AWSOrganizationsNotInUseException', async () => {
    const r = await org('DescribeOrganization');
    assert.equal(r.status, 400);
    assert.deepEqual(r.json, { __type: 'AWSOrganizationsNotInUseException', message: 'Your account is not a member of an organization.' });
  });

  test('CreateOrganization makes the caller the management account; a second one is AlreadyInOrganizationException', async () => {
    const o = (await ok('CreateOrganization', { FeatureSet: 'ALL' })).Organization;
    assert.match(o.Id, /^o-[a-z0-9]{10}$/);
    orgId = o.Id;
    assert.equal(o.Arn, `arn:aws:organizations::${account}:organization/${orgId}`);
    assert.equal(o.MasterAccountId, account);
    assert.equal((await org('CreateOrganization')).json.__type, 'AlreadyInOrganizationException');
    assert.equal((await ok('DescribeOrganization')).Organization.Id, orgId);
    rootId = (await ok('ListRoots')).Roots[0].Id;
    assert.match(rootId, /^r-[0-9a-z]{4}$/);
  });

  test('CreateAccount adds a member with an OrganizationAccountAccessRole the management account may assume', async () => {
    const status = (await ok('CreateAccount', { Email: 'dev@example.com', AccountName: 'dev' })).CreateAccountStatus;
    assert.equal(status.State, 'SUCCEEDED');
    member = status.AccountId;
    assert.match(member, /^\d{12}$/);
    assert.equal((await ok('DescribeCreateAccountStatus', { CreateAccountRequestId: status.Id })).CreateAccountStatus.AccountId, member);
    const accounts = (await ok('ListAccounts')).Accounts;
    assert.deepEqual(accounts.map((a: { Id: string }) => a.Id).sort(), [account, member].sort());
    const dev = accounts.find((a: { Id: string }) => a.Id === member);
    assert.equal(dev.Name, 'dev');
    assert.equal(dev.JoinedMethod, 'CREATED');
    assert.equal(dev.Arn, `arn:aws:organizations::${account}:account/${orgId}/${member}`);

    // A management-account user allowed sts:AssumeRole reaches the member account.
    assert.equal((await iam('CreateUser', { UserName: 'ops' }, root)).status, 200);
    const roleArn = `arn:aws:iam::${member}:role/OrganizationAccountAccessRole`;
    await iam('PutUserPolicy', { UserName: 'ops', PolicyName: 'p', PolicyDocument: policy({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: roleArn }) }, root);
    ops = credsFrom((await iam('CreateAccessKey', { UserName: 'ops' }, root)).body);
    const assumed = await sts('AssumeRole', { RoleArn: roleArn, RoleSessionName: 'ops', DurationSeconds: 900 }, ops);
    assert.equal(assumed.status, 200, assumed.body);
    memberSession = credsFrom(assumed.body);
    assert.equal(xml((await sts('GetCallerIdentity', {}, memberSession)).body, 'Account'), member);
    assert.equal((await iam('CreateUser', { UserName: 'member-user' }, memberSession)).status, 200);
    // Cross-account: the member role's trust names the management root, so ops needs its identity policy.
    await iam('DeleteUserPolicy', { UserName: 'ops', PolicyName: 'p' }, root);
    assert.equal(queryError(await sts('AssumeRole', { RoleArn: roleArn, RoleSessionName: 'ops' }, ops)).code, 'AccessDenied');
  });

  test('member accounts may describe the organization but not manage it', async () => {
    assert.equal((await ok('DescribeOrganization', {}, memberSession)).Organization.Id, orgId);
    const r = await org('ListAccounts', {}, memberSession);
    assert.deepEqual(r.json, { __type: 'AccessDeniedException', message: "You don't have permissions to access this resource." });
  });

  let denyPolicyId = '';

  test('SCPs: AttachPolicy needs the policy type enabled; EnablePolicyType attaches FullAWSAccess everywhere', async () => {
    const created = (await ok('CreatePolicy', {
      Name: 'no-iam-users', Description: 'members may not create IAM users', Type: 'SERVICE_CONTROL_POLICY',
      Content: policy({ Effect: 'Deny', Action: 'iam:CreateUser', Resource: '*' }),
    })).Policy;
    denyPolicyId = created.PolicySummary.Id;
    assert.match(denyPolicyId, /^p-[0-9a-z]{8}$/);
    assert.equal(created.PolicySummary.Arn, `arn:aws:organizations::${account}:policy/${orgId}/service_control_policy/${denyPolicyId}`);
    assert.equal((await org('AttachPolicy', { PolicyId: denyPolicyId, TargetId: member })).json.__type, 'PolicyTypeNotEnabledException');
    const enabled = (await ok('EnablePolicyType', { RootId: rootId, PolicyType: 'SERVICE_CONTROL_POLICY' })).Root;
    assert.deepEqual(enabled.PolicyTypes, [{ Type: 'SERVICE_CONTROL_POLICY', Status: 'ENABLED' }]);
    assert.equal((await org('EnablePolicyType', { RootId: rootId, PolicyType: 'SERVICE_CONTROL_POLICY' })).json.__type, 'PolicyTypeAlreadyEnabledException');
    const targets = (await ok('ListTargetsForPolicy', { PolicyId: 'p-FullAWSAccess' })).Targets;
    assert.deepEqual(targets.map((t: { TargetId: string }) => t.TargetId).sort(), [account, member, rootId].sort());
    const names = (await ok('ListPolicies', { Filter: 'SERVICE_CONTROL_POLICY' })).Policies.map((p: { Name: string }) => p.Name).sort();
    assert.deepEqual(names, ['FullAWSAccess', 'no-iam-users']);
  });

  test('an SCP denying iam:CreateUser bounds the member account, even its administrators, but not the management account', async () => {
    await ok('AttachPolicy', { PolicyId: denyPolicyId, TargetId: member });
    assert.equal((await org('AttachPolicy', { PolicyId: denyPolicyId, TargetId: member })).json.__type, 'DuplicatePolicyAttachmentException');
    const denied = queryError(await iam('CreateUser', { UserName: 'blocked' }, memberSession));
    assert.equal(denied.code, 'AccessDenied');
    assert.equal(
      denied.message,
      `User: arn:aws:sts::${member}:assumed-role/OrganizationAccountAccessRole/ops is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::${member}:user/blocked with an explicit deny in a service control policy`,
    );
    assert.equal((await iam('CreateRole', { RoleName: 'still-ok', AssumeRolePolicyDocument: policy({ Effect: 'Allow', Principal: { AWS: member }, Action: 'sts:AssumeRole' }) }, memberSession)).status, 200);
    assert.equal((await iam('CreateUser', { UserName: 'mgmt-ok' }, root)).status, 200);
    const targets = (await ok('ListTargetsForPolicy', { PolicyId: denyPolicyId })).Targets;
    assert.deepEqual(targets, [{ TargetId: member, Arn: `arn:aws:organizations::${account}:account/${orgId}/${member}`, Name: 'dev', Type: 'ACCOUNT' }]);
  });

  test('without FullAWSAccess an account is allowed only what its SCPs allow; its last SCP cannot be detached', async () => {
    await ok('DetachPolicy', { PolicyId: 'p-FullAWSAccess', TargetId: member });
    const denied = queryError(await iam('CreateRole', { RoleName: 'now-denied', AssumeRolePolicyDocument: policy({ Effect: 'Allow', Principal: { AWS: member }, Action: 'sts:AssumeRole' }) }, memberSession));
    assert.equal(denied.code, 'AccessDenied');
    assert.match(denied.message as string, /because no service control policy allows the iam:CreateRole action$/);
    assert.equal((await org('DetachPolicy', { PolicyId: denyPolicyId, TargetId: member })).json.__type, 'ConstraintViolationException');
    await ok('AttachPolicy', { PolicyId: 'p-FullAWSAccess', TargetId: member });
    assert.equal((await org('DetachPolicy', { PolicyId: 'p-FullAWSAccess', TargetId: rootId })).json.__type, 'ConstraintViolationException');
  });

  test('CreatePolicy validates the SCP; unknown policies and targets are named errors', async () => {
    const withPrincipal = await org('CreatePolicy', {
      Name: 'bad', Description: '', Type: 'SERVICE_CONTROL_POLICY', Content: policy({ Effect: 'Deny', Principal: '*', Action: '*', Resource: '*' }),
    });
    assert.equal(withPrincipal.json.__type, 'MalformedPolicyDocumentException');
    const dup = await org('CreatePolicy', { Name: 'no-iam-users', Description: '', Type: 'SERVICE_CONTROL_POLICY', Content: policy({ Effect: 'Deny', Action: '*', Resource: '*' }) });
    assert.equal(dup.json.__type, 'DuplicatePolicyException');
    assert.equal((await org('AttachPolicy', { PolicyId: 'p-00000000', TargetId: member })).json.__type, 'PolicyNotFoundException');
    assert.equal((await org('AttachPolicy', { PolicyId: denyPolicyId, TargetId: '111111111111' })).json.__type, 'TargetNotFoundException');
    const v = await org('ListPolicies', {});
    assert.equal(v.json.__type, 'ValidationException');
  });

  test('Organizations calls by IAM users need organizations:* permissions', async () => {
    const r = await org('ListAccounts', {}, ops);
    assert.equal(r.json.__type, 'AccessDeniedException');
    assert.equal(
      r.json.message,
      `User: arn:aws:iam::${account}:user/ops is not authorized to perform: organizations:ListAccounts on resource: * because no identity-based policy allows the organizations:ListAccounts action`,
    );
  });

  test('keyhold accounts create adds an account with an administrator profile, optionally invited into the organization', async () => {
    const r = await keyhold(['accounts', 'create', '--data-dir', server.dataDir, '--name', 'ci', '--email', 'ci@example.com', '--profile', 'ci', '--organization', orgId]);
    assert.equal(r.code, 0, r.stderr);
    const id = /created account (\d{12})/.exec(r.stdout)?.[1] as string;
    const text = readFileSync(join(server.dataDir, 'credentials'), 'utf8');
    const section = text.slice(text.indexOf('[ci]'));
    const creds = {
      accessKeyId: /aws_access_key_id = (\S+)/.exec(section)?.[1] as string,
      secretAccessKey: /aws_secret_access_key = (\S+)/.exec(section)?.[1] as string,
    };
    assert.equal(xml((await sts('GetCallerIdentity', {}, creds)).body, 'Arn'), `arn:aws:iam::${id}:root`);
    const listed = (await ok('ListAccounts')).Accounts.find((a: { Id: string }) => a.Id === id);
    assert.equal(listed.JoinedMethod, 'INVITED');
    assert.equal(listed.Email, 'ci@example.com');
    // Invited accounts get FullAWSAccess, so the SCP levels allow as before.
    assert.equal((await iam('CreateUser', { UserName: 'ci-user' }, creds)).status, 200);
    const again = await keyhold(['accounts', 'create', '--data-dir', server.dataDir, '--account-id', id]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists/);
  });

  test('temporary credentials past their expiry are ExpiredToken (STS, 403) and ExpiredTokenException (KMS)', async () => {
    const dataDir = server.dataDir;
    assert.equal(await server.stop(), 0);
    // The session was issued for 900 s; judge it 16 minutes later.
    server = await startServer({ dataDir, env: { KEYHOLD_TEST_CLOCK_OFFSET_MS: String(16 * 60_000) } });
    assert.match(server.output(), /KEYHOLD_TEST_CLOCK_OFFSET_MS is set/);
    assert.deepEqual(queryError(await sts('GetCallerIdentity', {}, memberSession)), {
      status: 403, type: 'Sender', code: 'ExpiredToken', message: 'The security token included in the request is expired',
    });
    await assert.rejects(kmsClient(server.endpoint, memberSession).send(new ListKeysCommand({})), {
      name: 'ExpiredTokenException',
      message: 'The security token included in the request is expired',
    });
    // Long-term keys are unaffected.
    assert.equal((await sts('GetCallerIdentity', {}, ops)).status, 200);
  });
});
