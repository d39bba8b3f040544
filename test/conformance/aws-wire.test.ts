/**
 * Issue 8: the wire as unmodified AWS clients speak it, against a server whose only Region is
 * eu-west-1 (not the default), through three client stacks nobody here wrote: the AWS SDK for
 * JavaScript v3 (@aws-sdk/client-cloudtrail, -iam, -sts, -kms), the AWS CLI v2 (/usr/bin/aws)
 * and botocore (Debian's, /usr/bin/python3). Also the wire-strictness answers (unsigned x-amz-*
 * headers, wrong Content-Type or path) and UnsupportedOperationException for modelled operations
 * Keyhold does not implement.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import { CloudTrailClient, DescribeTrailsCommand, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { CreateAccountAliasCommand, CreateUserCommand, DeleteAccountAliasCommand, IAMClient, ListAccountAliasesCommand } from '@aws-sdk/client-iam';
import {
  CreateAliasCommand, CreateKeyCommand, DecryptCommand, DescribeCustomKeyStoresCommand, EncryptCommand, ReEncryptCommand,
} from '@aws-sdk/client-kms';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { AwsCli, assertAwsCliInstalled } from '../helpers/aws-cli';
import { rejects, validation } from '../helpers/assertions';
import { startServer, stopAndRemove, type TestServer } from '../helpers/server';
import { send } from '../identity/wire';

const REGION = 'eu-west-1';
const PYTHON = '/usr/bin/python3';
const UNSUPPORTED = (op: string): string => `${op} is not supported by Keyhold. See docs/compatibility.md for the operations it does not implement.`;
const UNKNOWN_OPERATION = 'The requested operation is not recognized by this service.';

let server: TestServer;
let cli: AwsCli;

before(async () => {
  assertAwsCliInstalled();
  server = await startServer({ region: REGION });
  cli = new AwsCli(() => server);
});

after(async () => {
  cli?.remove();
  await stopAndRemove(server);
});

function creds(): { accessKeyId: string; secretAccessKey: string } {
  return { ...server.credentials };
}

/** A raw request signed as the JS SDK signs it; `unsigned` headers are left out of SignedHeaders. */
async function signed(
  service: string, headers: Record<string, string>, body: string, opts: { path?: string; region?: string; unsigned?: string[] } = {},
): Promise<{ status: number; json: any }> {
  const path = opts.path ?? '/';
  const req = new HttpRequest({ method: 'POST', protocol: 'http:', hostname: '127.0.0.1', port: server.port, path, headers: { host: `127.0.0.1:${server.port}`, ...headers }, body });
  const signer = new SignatureV4({ service, region: opts.region ?? REGION, credentials: creds(), sha256: Sha256 });
  const s = await signer.sign(req, opts.unsigned === undefined ? {} : { unsignableHeaders: new Set(opts.unsigned) });
  const a = await send(server.port, { ...(s.headers as Record<string, string>), 'content-length': String(Buffer.byteLength(body)) }, body, 'POST', path);
  return { status: a.status, json: a.body === '' ? {} : JSON.parse(a.body) };
}

/** Runs a botocore script with the server's endpoint, credentials and Region; its stdout parsed as JSON. */
function botocore(script: string): Promise<any> {
  const env = {
    PATH: '/usr/bin:/bin',
    HOME: cli.home,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    KH_ENDPOINT: server.endpoint,
    KH_REGION: REGION,
    KH_AKID: server.credentials.accessKeyId,
    KH_SECRET: server.credentials.secretAccessKey,
  };
  const prelude = [
    'import json, os, botocore.session',
    'from botocore.config import Config',
    's = botocore.session.get_session()',
    "def client(name): return s.create_client(name, region_name=os.environ['KH_REGION'], endpoint_url=os.environ['KH_ENDPOINT'],",
    "    aws_access_key_id=os.environ['KH_AKID'], aws_secret_access_key=os.environ['KH_SECRET'], config=Config(retries={'max_attempts': 1}))",
    'def error(call):',
    '    try:',
    '        call()',
    "        return {'ok': True}",
    '    except Exception as e:',
    "        r = getattr(e, 'response', {})",
    "        return {'code': r.get('Error', {}).get('Code'), 'message': r.get('Error', {}).get('Message'), 'status': r.get('ResponseMetadata', {}).get('HTTPStatusCode')}",
    '',
  ].join('\n');
  return new Promise((resolve, reject) => {
    execFile(PYTHON, ['-c', prelude + script], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${PYTHON} failed: ${stderr}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

describe('X-Amz-Target forms', () => {
  test('@aws-sdk/client-cloudtrail (CloudTrail_20131101.LookupEvents) reads the trail', async () => {
    const key = await server.client().send(new CreateKeyCommand({ Description: 'wire forms' }));
    const targets: string[] = [];
    const ct = new CloudTrailClient({ endpoint: server.endpoint, region: REGION, credentials: creds(), maxAttempts: 1 });
    ct.middlewareStack.add((next) => async (args) => {
      const h = (args.request as { headers: Record<string, string> }).headers;
      targets.push(h['x-amz-target'] ?? h['X-Amz-Target'] ?? '');
      return next(args);
    }, { step: 'finalizeRequest', name: 'captureTarget' });
    const out = await ct.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'CreateKey' }] }));
    assert.deepEqual(targets, ['CloudTrail_20131101.LookupEvents']);
    assert.ok(out.Events!.some((e) => e.Resources?.some((r) => r.ResourceName === key.KeyMetadata!.Arn)), 'the CreateKey event is found');
    await rejects(ct.send(new DescribeTrailsCommand({})), 'UnsupportedOperationException', UNSUPPORTED('DescribeTrails'));
  });

  test('the AWS CLI (com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents) reads the trail in eu-west-1', async () => {
    const out = await cli.json(['cloudtrail', 'lookup-events', '--region', REGION, '--max-results', '5']);
    assert.ok(Array.isArray(out.Events) && out.Events.length > 0);
    assert.equal(out.Events[0].EventSource !== undefined, true);
  });

  test('a target prefix nobody sends is UnknownOperationException', async () => {
    const r = await signed('cloudtrail', { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'CloudTrail_20131102.LookupEvents' }, '{}', { region: REGION });
    assert.equal(r.status, 400);
    assert.equal(r.json.__type, 'UnknownOperationException');
    assert.equal(r.json.message, UNKNOWN_OPERATION);
  });
});

describe('global services signed for the client Region', () => {
  test('STS and IAM accept the served Region eu-west-1 and us-east-1, through the CLI and the JS SDK', async () => {
    for (const region of [REGION, 'us-east-1']) {
      const who = await cli.json(['sts', 'get-caller-identity', '--region', region]);
      assert.equal(who.Account, server.accountId);
      assert.deepEqual(await cli.json(['iam', 'list-users', '--region', region]), { Users: [] });
    }
    const sts = new STSClient({ endpoint: server.endpoint, region: REGION, credentials: creds(), maxAttempts: 1 });
    assert.equal((await sts.send(new GetCallerIdentityCommand({}))).Account, server.accountId);
  });

  test('a Region the deployment does not serve is refused as AWS refuses it', async () => {
    const r = await cli.run(['sts', 'get-caller-identity', '--region', 'ap-south-1']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /SignatureDoesNotMatch.*Credential should be scoped to a valid region, not 'ap-south-1'\./);
  });
});

describe('IAM account aliases', () => {
  test('CreateAccountAlias, ListAccountAliases, DeleteAccountAlias through @aws-sdk/client-iam in eu-west-1', async () => {
    const iam = new IAMClient({ endpoint: server.endpoint, region: REGION, credentials: creds(), maxAttempts: 1 });
    assert.deepEqual((await iam.send(new ListAccountAliasesCommand({}))).AccountAliases, []);
    await iam.send(new CreateAccountAliasCommand({ AccountAlias: 'keyhold-first' }));
    await iam.send(new CreateAccountAliasCommand({ AccountAlias: 'keyhold-first' }));
    const listed = await iam.send(new ListAccountAliasesCommand({}));
    assert.deepEqual(listed.AccountAliases, ['keyhold-first']);
    assert.equal(listed.IsTruncated, false);
    // An account has one alias: a new one replaces it.
    await iam.send(new CreateAccountAliasCommand({ AccountAlias: 'keyhold-second' }));
    assert.deepEqual((await iam.send(new ListAccountAliasesCommand({}))).AccountAliases, ['keyhold-second']);
    await rejects(iam.send(new DeleteAccountAliasCommand({ AccountAlias: 'keyhold-first' })), 'NoSuchEntityException', 'The account alias keyhold-first cannot be found.');
    await rejects(
      iam.send(new CreateAccountAliasCommand({ AccountAlias: 'Bad--Alias' })),
      'ValidationError',
      // The model's pattern as it writes it (IAM quotes the model's text: src/model/iam-inputs.ts).
      validation('accountAlias', 'satisfy regular expression pattern: ^[a-z0-9](([a-z0-9]|-(?!-))*[a-z0-9])?$', 'Bad--Alias'),
    );
    await iam.send(new DeleteAccountAliasCommand({ AccountAlias: 'keyhold-second' }));
    assert.deepEqual((await iam.send(new ListAccountAliasesCommand({}))).AccountAliases, []);
  });

  test('the AWS CLI creates, lists and deletes an account alias; deleting it twice is NoSuchEntity', async () => {
    assert.equal((await cli.ok(['iam', 'create-account-alias', '--account-alias', 'keyhold-cli', '--region', REGION])).trim(), '');
    // The CLI's paginator drops IsTruncated and Marker from what it prints.
    assert.deepEqual(await cli.json(['iam', 'list-account-aliases', '--region', REGION]), { AccountAliases: ['keyhold-cli'] });
    await cli.ok(['iam', 'delete-account-alias', '--account-alias', 'keyhold-cli', '--region', REGION]);
    const again = await cli.run(['iam', 'delete-account-alias', '--account-alias', 'keyhold-cli', '--region', REGION]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /\(NoSuchEntity\).*The account alias keyhold-cli cannot be found\./);
  });
});

describe('IAM and STS inputs validated by the generated shapes (src/model/{iam,sts}-inputs.ts)', () => {
  // AWS's answers, as reported from AWS: STS "1 validation error detected: Value 'a:b' at
  // 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression
  // pattern: [\\w+=,.@-]*" (JuliaCloud/AWSCore.jl PR 38); IAM "… at 'tags.6.member.value' failed to
  // satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*"
  // (SWO-GS/auto-tag issue 90). Checked through two independent client stacks.
  const sessionName = validation('roleSessionName', 'satisfy regular expression pattern: [\\w+=,.@-]*', 'a:b');
  const tagValue = validation('tags.1.member.value', 'satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*', 'a;b');

  test('@aws-sdk/client-sts and @aws-sdk/client-iam', async () => {
    const sts = new STSClient({ endpoint: server.endpoint, region: REGION, credentials: creds(), maxAttempts: 1 });
    const iam = new IAMClient({ endpoint: server.endpoint, region: REGION, credentials: creds(), maxAttempts: 1 });
    try {
      await rejects(sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${server.accountId}:role/r`, RoleSessionName: 'a:b' })), 'ValidationError', sessionName);
      await rejects(iam.send(new CreateUserCommand({ UserName: 'tagged', Tags: [{ Key: 'k', Value: 'a;b' }] })), 'ValidationError', tagValue);
      await rejects(
        iam.send(new CreateUserCommand({ UserName: 'x'.repeat(65) })),
        'ValidationError',
        validation('userName', 'have length less than or equal to 64', 'x'.repeat(65)),
      );
    } finally {
      sts.destroy();
      iam.destroy();
    }
  });

  test('botocore (Debian python3-boto3)', async () => {
    const out = await botocore(`
sts = client('sts')
iam = client('iam')
print(json.dumps({
  'session': error(lambda: sts.assume_role(RoleArn='arn:aws:iam::${server.accountId}:role/r', RoleSessionName='a:b')),
  'tag': error(lambda: iam.create_user(UserName='tagged', Tags=[{'Key': 'k', 'Value': 'a;b'}])),
}))
`);
    assert.deepEqual(out.session, { code: 'ValidationError', message: sessionName, status: 400 });
    assert.deepEqual(out.tag, { code: 'ValidationError', message: tagValue, status: 400 });
  });
});

describe('wire strictness', () => {
  const target = { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.ListKeys' };

  test('an unsigned X-Amz-Target is refused with InvalidSignatureException; signed, the same call works', async () => {
    const ok = await signed('kms', target, '{}');
    assert.equal(ok.status, 200);
    assert.ok(Array.isArray(ok.json.Keys));
    const r = await signed('kms', target, '{}', { unsigned: ['x-amz-target'] });
    assert.equal(r.status, 400);
    assert.equal(r.json.__type, 'InvalidSignatureException');
    assert.equal(r.json.message, "'x-amz-target' must be a 'SignedHeader' in the AWS Authorization.");
  });

  test('a JSON call with another Content-Type, or on another path, is UnknownOperationException', async () => {
    for (const contentType of ['application/json', 'application/x-amz-json-1.0', 'text/plain']) {
      const r = await signed('kms', { ...target, 'content-type': contentType }, '{}');
      assert.equal(r.status, 400, contentType);
      assert.equal(r.json.__type, 'UnknownOperationException');
      assert.equal(r.json.message, UNKNOWN_OPERATION);
    }
    const r = await signed('kms', target, '{}', { path: '/keys' });
    assert.equal(r.json.__type, 'UnknownOperationException');
    const charset = await signed('kms', { ...target, 'content-type': 'application/x-amz-json-1.1; charset=utf-8' }, '{}');
    assert.equal(charset.status, 200);
  });
});

describe('message forms through two client stacks', () => {
  test('the JS SDK: UnsupportedOperationException names the operation; DryRun with IGNORE_CIPHERTEXT', async () => {
    const kms = server.client();
    await rejects(kms.send(new DescribeCustomKeyStoresCommand({})), 'UnsupportedOperationException', UNSUPPORTED('DescribeCustomKeyStores'));
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    await rejects(
      kms.send(new CreateAliasCommand({ AliasName: 'alias/my-alias!', TargetKeyId: key.KeyId })),
      'ValidationException',
      validation('aliasName', 'satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$', 'alias/my-alias!'),
    );
    const dry = 'The request would have succeeded, but the DryRun option is set.';
    const modifiers = { DryRun: true, DryRunModifiers: ['IGNORE_CIPHERTEXT' as const] };
    await rejects(kms.send(new DecryptCommand({ KeyId: key.KeyId, ...modifiers })), 'DryRunOperationException', dry);
    // The ciphertext is ignored, even one that would not decrypt.
    await rejects(kms.send(new DecryptCommand({ KeyId: key.KeyId, CiphertextBlob: Buffer.from('not a ciphertext'), ...modifiers })), 'DryRunOperationException', dry);
    await rejects(kms.send(new ReEncryptCommand({ DestinationKeyId: key.KeyId, CiphertextBlob: Buffer.from('garbage'), ...modifiers })), 'DryRunOperationException', dry);
    // Without the modifier, the ciphertext is read.
    await rejects(kms.send(new DecryptCommand({ KeyId: key.KeyId, CiphertextBlob: Buffer.from('not a ciphertext'), DryRun: true })), 'InvalidCiphertextException');
    const blob = (await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }))).CiphertextBlob!;
    await rejects(kms.send(new DecryptCommand({ CiphertextBlob: blob, DryRun: true })), 'DryRunOperationException', dry);
    // A modelled member Keyhold does not implement is refused by name, never silently ignored.
    const recipient = { KeyEncryptionAlgorithm: 'RSAES_OAEP_SHA_256' as const, AttestationDocument: Buffer.from('doc') };
    await rejects(
      kms.send(new DecryptCommand({ CiphertextBlob: blob, Recipient: recipient })),
      'UnsupportedOperationException',
      'Decrypt with Recipient is not supported by Keyhold. See docs/compatibility.md.',
    );
  });

  // Debian's botocore (1.29) predates DryRun, so the dry-run cases are the JS SDK's only.
  test('botocore: the same answers, names, messages and statuses', async () => {
    const key = (await server.client().send(new CreateKeyCommand({}))).KeyMetadata!;
    const out = await botocore(`
kms = client('kms')
ct = client('cloudtrail')
iam = client('iam')
key = ${JSON.stringify(key.KeyId)}
print(json.dumps({
  'unsupported': error(lambda: kms.describe_custom_key_stores()),
  'unsupportedTrail': error(lambda: ct.describe_trails()),
  'unsupportedIam': error(lambda: iam.create_saml_provider(Name='x' * 1, SAMLMetadataDocument='x' * 1000)),
  'pattern': error(lambda: kms.create_alias(AliasName='alias/my-alias!', TargetKeyId=key)),
  'prefix': error(lambda: kms.create_alias(AliasName='my-alias', TargetKeyId=key)),
  'reserved': error(lambda: kms.create_alias(AliasName='alias/aws/mine', TargetKeyId=key)),
  'aliasTarget': error(lambda: kms.create_alias(AliasName='alias/other', TargetKeyId='alias/none')),
  'lookup': len(ct.lookup_events(MaxResults=1)['Events']),
}))
`);
    assert.deepEqual(out.unsupported, { code: 'UnsupportedOperationException', message: UNSUPPORTED('DescribeCustomKeyStores'), status: 400 });
    assert.deepEqual(out.unsupportedTrail, { code: 'UnsupportedOperationException', message: UNSUPPORTED('DescribeTrails'), status: 400 });
    assert.deepEqual(out.unsupportedIam, { code: 'UnsupportedOperationException', message: UNSUPPORTED('CreateSAMLProvider'), status: 400 });
    assert.deepEqual(out.pattern, { code: 'ValidationException', message: validation('aliasName', 'satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$', 'alias/my-alias!'), status: 400 });
    assert.deepEqual(out.prefix, {
      code: 'ValidationException',
      message: 'Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html',
      status: 400,
    });
    assert.deepEqual(out.reserved, { code: 'NotAuthorizedException', message: 'Alias names beginning with "alias/aws/" are reserved for AWS managed keys.', status: 400 });
    assert.deepEqual(out.aliasTarget, { code: 'ValidationException', message: 'Aliases must refer to keys. Not aliases', status: 400 });
    assert.equal(out.lookup, 1);
  });
});
