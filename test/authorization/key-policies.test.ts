/**
 * Authorization, table-driven (issue 3): key policies and identity policies together as AWS
 * evaluates them (kms-reference.md §9.2) — the default key policy delegating to IAM, key
 * policies naming principals directly, `*` principals, explicit denies, NotPrincipal, NotAction,
 * NotResource; every KMS operation asking for its own permission on the right resource (§3.1);
 * alias operations on the alias ARN and the key; Decrypt authorized on the ciphertext's key;
 * ReEncrypt's two permissions; the policy-lockout safety check and named principals that must
 * exist; AWS managed keys' fixed policy with kms:ViaService and kms:CallerAccount.
 */
import { after, before, describe } from 'node:test';
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateGrantCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeleteAliasCommand,
  DeleteImportedKeyMaterialCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GenerateRandomCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  GetParametersForImportCommand,
  ImportKeyMaterialCommand,
  ListAliasesCommand,
  ListGrantsCommand,
  ListKeyPoliciesCommand,
  ListKeyRotationsCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  ListRetirableGrantsCommand,
  PutKeyPolicyCommand,
  ReEncryptCommand,
  ReplicateKeyCommand,
  RevokeGrantCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateAliasCommand,
  UpdateKeyDescriptionCommand,
  UpdatePrimaryRegionCommand,
  type KMSClient,
  GenerateDataKeyPairCommand,
  GenerateDataKeyPairWithoutPlaintextCommand,
  GenerateMacCommand,
  DeriveSharedSecretCommand,
  EncapsulateCommand,
  DecapsulateCommand,
  GetPublicKeyCommand,
  SignCommand,
  VerifyCommand,
  VerifyMacCommand,
} from '@aws-sdk/client-kms';
import {
  ALLOW,
  allow,
  allowedThen,
  deny,
  denied,
  doc,
  fails,
  kp,
  rootStatement,
  runCases,
  Slot,
  World,
  type AuthzCase,
  type Expect,
  type Json,
  type Key,
  type Principal,
} from './harness';
import { KMS_OPERATIONS } from '../../src/operations/registry';
import assert from 'node:assert/strict';
import { test } from 'node:test';

const LOCKOUT = 'The new key policy will not allow you to update the key policy in the future.';
const INVALID_PRINCIPALS = 'Policy contains a statement with one or more invalid principals.';

describe('authorization: key policies, identity policies and every operation', () => {
  let w: World;
  const P = new Map<string, Principal>();
  const keys = new Map<string, Key>();
  const who = (name: string) => (): Principal => P.get(name) as Principal;
  const key = (name: string): Key => keys.get(name) as Key;
  const arn = (name: string) => (): string => key(name).arn;
  const userArn = (name: string): string => `arn:aws:iam::${w.account}:user/${name}`;
  const rootArn = (): string => `arn:aws:iam::${w.account}:root`;
  const pt = Buffer.from('p');

  const encrypt = (k: string, ctx?: Record<string, string>) => (kms: KMSClient) =>
    kms.send(new EncryptCommand({ KeyId: key(k).id, Plaintext: pt, EncryptionContext: ctx }));
  const decryptBlobOf = (k: string, withKeyId = false, ctx?: Record<string, string>) => async (kms: KMSClient) => {
    const blob = (await w.root.kms.send(new EncryptCommand({ KeyId: key(k).id, Plaintext: pt, EncryptionContext: ctx }))).CiphertextBlob;
    return kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: ctx, KeyId: withKeyId ? key(k).arn : undefined }));
  };
  const describeKey = (k: string) => (kms: KMSClient) => kms.send(new DescribeKeyCommand({ KeyId: key(k).id }));
  const cases: AuthzCase[] = [];
  const add = (name: string, principal: string, call: (kms: KMSClient) => Promise<unknown>, expect: () => Expect): void => {
    cases.push({ name, who: who(principal), call, expect });
  };
  const deniedOn = (action: string, k: string, why: Parameters<typeof denied>[2]) => (): Expect => denied(action, key(k).arn, why);

  // ---------------------------------------------------------------------------------------------
  // Principals (identity policies) and keys (key policies)

  const USERS: Record<string, () => Json[]> = {
    alice: () => [], // no identity-based policy at all
    bob: () => [allow('kms:*')],
    carol: () => [allow('kms:Encrypt')],
    dave: () => [allow('kms:*'), deny('kms:Decrypt', '*', { Sid: 'NoDecrypt' })],
    erin: () => [allow('kms:*')],
    frank: () => [allow('kms:Encrypt', '*'), { Effect: 'Deny', Action: 'kms:Encrypt', NotResource: key('default').arn }],
    gina: () => [{ Effect: 'Allow', NotAction: ['kms:Decrypt', 'kms:ScheduleKeyDeletion'], Resource: '*' }],
    hank: () => [allow('kms:*', key('default').arn)],
    ivy: () => [allow(['kms:CreateKey', 'kms:PutKeyPolicy', 'kms:DescribeKey'])],
    judy: () => [allow('kms:CreateKey')],
    ken: () => [allow(['kms:CreateAlias', 'kms:DeleteAlias', 'kms:UpdateAlias'], [`arn:aws:kms:*:${w.account}:alias/team-*`, `arn:aws:kms:*:${w.account}:key/*`])],
    leo: () => [allow(['kms:CreateAlias', 'kms:DeleteAlias'], `arn:aws:kms:*:${w.account}:key/*`)],
    mia: () => [allow(['kms:CreateAlias', 'kms:DeleteAlias'], `arn:aws:kms:*:${w.account}:alias/*`)],
    ned: () => [allow('kms:Decrypt', key('other').arn)],
    olga: () => [allow('kms:Decrypt', key('default').arn)],
    pam: () => [allow('kms:ReEncryptFrom')],
    quin: () => [allow('kms:ReEncrypt*')],
    svc_s3: () => [],
    svc_ec2: () => [],
    nobody: () => [],
    changer: () => [],
  };
  const TAGS: Record<string, Record<string, string>> = {
    svc_s3: { 'keyhold:ViaService': 's3' },
    svc_ec2: { 'keyhold:ViaService': 'ec2' },
  };

  /** Key policies, by key name (statements made once principals exist). */
  const KEYS: Record<string, () => Json[] | undefined> = {
    default: () => undefined,
    other: () => undefined,
    // Names alice directly, next to the root statement.
    direct: () => [rootStatement(w.account), kp(userArn('alice'), ['kms:Encrypt', 'kms:Decrypt', 'kms:DescribeKey'])],
    // No root statement: IAM policies alone give nothing.
    noroot: () => [kp(userArn('alice'), 'kms:Encrypt')],
    // An explicit deny of Decrypt to everyone, with a Sid.
    denydecrypt: () => [rootStatement(w.account), kp('*', 'kms:Decrypt', 'Deny', { Sid: 'NoDecryptHere' })],
    // Everyone except bob and the root is denied.
    notprincipal: () => [rootStatement(w.account), { Effect: 'Deny', NotPrincipal: { AWS: [userArn('bob'), rootArn()] }, Action: 'kms:*', Resource: '*' }],
    // alice gets everything but the key-destroying actions.
    notaction: () => [rootStatement(w.account), { Effect: 'Allow', Principal: { AWS: userArn('alice') }, NotAction: ['kms:ScheduleKeyDeletion', 'kms:PutKeyPolicy'], Resource: '*' }],
    // Anyone in the account may encrypt, without an identity policy.
    star: () => [rootStatement(w.account), kp('*', 'kms:Encrypt', 'Allow', { Condition: { StringEquals: { 'kms:CallerAccount': w.account } } })],
    // Anyone of another account only: nobody here matches.
    starother: () => [rootStatement(w.account), kp({ AWS: '*' }, 'kms:Encrypt', 'Allow', { Condition: { StringEquals: { 'kms:CallerAccount': '111122223333' } } })],
    // alice may decrypt only with purpose=backup.
    ctxcond: () => [rootStatement(w.account), kp(userArn('alice'), 'kms:Decrypt', 'Allow', { Condition: { StringEquals: { 'kms:EncryptionContext:purpose': 'backup' } } })],
    // A statement without Resource is accepted but matches nothing (§9.2).
    noresource: () => [rootStatement(w.account), { Effect: 'Allow', Principal: { AWS: userArn('alice') }, Action: 'kms:Encrypt' }],
    // The account id form of the account principal.
    accountid: () => [kp(w.account, 'kms:*')],
    // A key-policy deny with a condition on the caller's tag-less state.
    denyunless: () => [rootStatement(w.account), kp('*', 'kms:Encrypt', 'Deny', { Condition: { StringNotEquals: { 'kms:EncryptionContext:app': 'ok' } } })],
    alias1: () => undefined,
    alias2: () => undefined,
    // The root may read and manage the policy; only bob may point aliases at it.
    aliasnokey: () => [kp(rootArn(), ['kms:DescribeKey', 'kms:GetKeyPolicy', 'kms:PutKeyPolicy']), kp(userArn('bob'), 'kms:CreateAlias')],
  };

  // ---------------------------------------------------------------------------------------------
  // Evaluation: default policy, direct principals, explicit denies, Not* elements

  add('default policy: the account root may encrypt', 'root', encrypt('default'), () => ALLOW);
  add('default policy: a user with an identity allow may encrypt', 'bob', encrypt('default'), () => ALLOW);
  add('default policy: a user without identity policies may not', 'alice', encrypt('default'), deniedOn('kms:Encrypt', 'default', 'no-identity'));
  add('default policy: a user allowed only Encrypt may not decrypt', 'carol', decryptBlobOf('default'), deniedOn('kms:Decrypt', 'default', 'no-identity'));
  add('default policy: a user allowed only Encrypt may encrypt', 'carol', encrypt('default'), () => ALLOW);
  add('default policy: GetKeyPolicy by a user without identity policies', 'alice', (k) => k.send(new GetKeyPolicyCommand({ KeyId: key('default').id })), deniedOn('kms:GetKeyPolicy', 'default', 'no-identity'));
  add('identity explicit deny wins over an identity allow', 'dave', decryptBlobOf('default'), deniedOn('kms:Decrypt', 'default', 'deny-identity'));
  add('identity explicit deny leaves other actions alone', 'dave', encrypt('default'), () => ALLOW);
  add('identity Deny with NotResource: another key is denied', 'frank', encrypt('other'), deniedOn('kms:Encrypt', 'other', 'deny-identity'));
  add('identity Deny with NotResource: the excepted key', 'frank', encrypt('default'), () => ALLOW);
  add('identity Allow with NotAction: an action outside the list', 'gina', encrypt('default'), () => ALLOW);
  add('identity Allow with NotAction: a listed action is not allowed', 'gina', decryptBlobOf('default'), deniedOn('kms:Decrypt', 'default', 'no-identity'));
  add('identity Allow on one key ARN: that key', 'hank', encrypt('default'), () => ALLOW);
  add('identity Allow on one key ARN: another key', 'hank', encrypt('other'), deniedOn('kms:Encrypt', 'other', 'no-identity'));
  add('a key policy naming the user needs no identity policy', 'alice', encrypt('direct'), () => ALLOW);
  add('a key policy naming the user: Decrypt', 'alice', decryptBlobOf('direct'), () => ALLOW);
  add('a key policy naming the user: an action it does not list', 'alice', (k) => k.send(new DisableKeyCommand({ KeyId: key('direct').id })), deniedOn('kms:DisableKey', 'direct', 'no-identity'));
  add('a key policy naming another user, with the root statement: identity policies apply', 'bob', encrypt('direct'), () => ALLOW);
  add('a key policy without the root statement: identity allow is not enough', 'bob', encrypt('noroot'), deniedOn('kms:Encrypt', 'noroot', 'no-resource'));
  add('a key policy without the root statement: even the account root is refused', 'root', (k) => k.send(new DescribeKeyCommand({ KeyId: key('noroot').id })), deniedOn('kms:DescribeKey', 'noroot', 'no-resource'));
  add('a key policy without the root statement: the named user', 'alice', encrypt('noroot'), () => ALLOW);
  add('a key policy explicit deny (with a Sid) refuses the root', 'root', decryptBlobOf('denydecrypt'), deniedOn('kms:Decrypt', 'denydecrypt', 'deny-resource'));
  add('a key policy explicit deny refuses a user allowed kms:*', 'bob', decryptBlobOf('denydecrypt'), deniedOn('kms:Decrypt', 'denydecrypt', 'deny-resource'));
  add('a key policy explicit deny leaves other actions', 'bob', encrypt('denydecrypt'), () => ALLOW);
  add('Deny with NotPrincipal: a principal it names escapes', 'bob', encrypt('notprincipal'), () => ALLOW);
  add('Deny with NotPrincipal: the root it names escapes', 'root', encrypt('notprincipal'), () => ALLOW);
  add('Deny with NotPrincipal: any other principal is denied', 'erin', encrypt('notprincipal'), deniedOn('kms:Encrypt', 'notprincipal', 'deny-resource'));
  add('Allow with NotAction in a key policy: an action outside the list', 'alice', (k) => k.send(new UpdateKeyDescriptionCommand({ KeyId: key('notaction').id, Description: 'x' })), () => ALLOW);
  add('Allow with NotAction in a key policy: a listed action', 'alice', (k) => k.send(new ScheduleKeyDeletionCommand({ KeyId: key('notaction').id })), deniedOn('kms:ScheduleKeyDeletion', 'notaction', 'no-identity'));
  add('Principal "*" with kms:CallerAccount: a user without identity policies', 'alice', encrypt('star'), () => ALLOW);
  add('Principal "*" with kms:CallerAccount: another action still needs IAM', 'alice', describeKey('star'), deniedOn('kms:DescribeKey', 'star', 'no-identity'));
  add('Principal {"AWS":"*"} with another account\'s kms:CallerAccount', 'alice', encrypt('starother'), deniedOn('kms:Encrypt', 'starother', 'no-identity'));
  add('a key policy condition on the encryption context: satisfied', 'alice', decryptBlobOf('ctxcond', false, { purpose: 'backup' }), () => ALLOW);
  add('a key policy condition on the encryption context: not satisfied', 'alice', decryptBlobOf('ctxcond', false, { purpose: 'other' }), deniedOn('kms:Decrypt', 'ctxcond', 'no-identity'));
  add('a key policy statement without Resource matches nothing', 'alice', encrypt('noresource'), deniedOn('kms:Encrypt', 'noresource', 'no-identity'));
  add('a key policy naming the account by id delegates to IAM', 'bob', encrypt('accountid'), () => ALLOW);
  add('a key policy naming the account by id: the root', 'root', encrypt('accountid'), () => ALLOW);
  add('a key policy naming the account by id: no identity policy', 'alice', encrypt('accountid'), deniedOn('kms:Encrypt', 'accountid', 'no-identity'));
  add('a conditional key policy deny: condition met', 'bob', encrypt('denyunless', { app: 'other' }), deniedOn('kms:Encrypt', 'denyunless', 'deny-resource'));
  add('a conditional key policy deny: condition not met', 'bob', encrypt('denyunless', { app: 'ok' }), () => ALLOW);
  add('Decrypt without KeyId is authorized on the ciphertext\'s key, not "*"', 'ned', decryptBlobOf('default'), deniedOn('kms:Decrypt', 'default', 'no-identity'));
  add('Decrypt without KeyId by a user allowed on that key', 'olga', decryptBlobOf('default'), () => ALLOW);
  add('Decrypt with KeyId by a user allowed on that key', 'olga', decryptBlobOf('default', true), () => ALLOW);
  add('ReEncrypt needs kms:ReEncryptTo on the destination too', 'pam', async (k) => {
    const blob = (await w.root.kms.send(new EncryptCommand({ KeyId: key('default').id, Plaintext: pt }))).CiphertextBlob;
    return k.send(new ReEncryptCommand({ CiphertextBlob: blob, DestinationKeyId: key('other').id }));
  }, deniedOn('kms:ReEncryptTo', 'other', 'no-identity'));
  add('ReEncrypt with kms:ReEncrypt* on both keys', 'quin', async (k) => {
    const blob = (await w.root.kms.send(new EncryptCommand({ KeyId: key('default').id, Plaintext: pt }))).CiphertextBlob;
    return k.send(new ReEncryptCommand({ CiphertextBlob: blob, DestinationKeyId: key('other').id }));
  }, () => ALLOW);
  add('ReEncrypt without ReEncryptFrom on the source', 'carol', async (k) => {
    const blob = (await w.root.kms.send(new EncryptCommand({ KeyId: key('default').id, Plaintext: pt }))).CiphertextBlob;
    return k.send(new ReEncryptCommand({ CiphertextBlob: blob, DestinationKeyId: key('other').id }));
  }, deniedOn('kms:ReEncryptFrom', 'default', 'no-identity'));
  add('a disabled key: authorization comes before the key state', 'alice', async (k) => {
    await w.root.kms.send(new DisableKeyCommand({ KeyId: key('direct2').id }));
    return k.send(new EncryptCommand({ KeyId: key('direct2').id, Plaintext: pt }));
  }, deniedOn('kms:Encrypt', 'direct2', 'no-identity'));
  add('a disabled key: an authorized caller gets DisabledException', 'bob', encrypt('direct2'), () => allowedThen('DisabledException'));
  add('DryRun: an unauthorized caller gets AccessDenied', 'alice', (k) => k.send(new EncryptCommand({ KeyId: key('default').id, Plaintext: pt, DryRun: true })), deniedOn('kms:Encrypt', 'default', 'no-identity'));
  add('DryRun: an authorized caller gets DryRunOperation', 'carol', (k) => k.send(new EncryptCommand({ KeyId: key('default').id, Plaintext: pt, DryRun: true })), () => allowedThen('DryRunOperationException'));
  add('a key policy change is seen by the next request', 'alice', async (k) => {
    await w.root.kms.send(new PutKeyPolicyCommand({ KeyId: key('changing').id, Policy: doc(rootStatement(w.account), kp(userArn('alice'), 'kms:Encrypt')) }));
    await k.send(new EncryptCommand({ KeyId: key('changing').id, Plaintext: pt }));
    await w.root.kms.send(new PutKeyPolicyCommand({ KeyId: key('changing').id, Policy: doc(rootStatement(w.account)) }));
    return k.send(new EncryptCommand({ KeyId: key('changing').id, Plaintext: pt }));
  }, deniedOn('kms:Encrypt', 'changing', 'no-identity'));
  add('an identity policy change is seen by the next request', 'changer', async (k) => {
    await w.setUserPolicy(P.get('changer') as Principal, [allow('kms:Encrypt', key('changing2').arn)]);
    await k.send(new EncryptCommand({ KeyId: key('changing2').id, Plaintext: pt }));
    await w.setUserPolicy(P.get('changer') as Principal, [allow('kms:DescribeKey')]);
    return k.send(new EncryptCommand({ KeyId: key('changing2').id, Plaintext: pt }));
  }, deniedOn('kms:Encrypt', 'changing2', 'no-identity'));

  // ---------------------------------------------------------------------------------------------
  // Alias operations: the alias ARN (identity-based policies) and the key(s) (key policies)

  add('CreateAlias with permission on the alias pattern and the key', 'ken', (k) => k.send(new CreateAliasCommand({ AliasName: 'alias/team-a', TargetKeyId: key('alias1').id })), () => ALLOW);
  add('CreateAlias of an alias outside the permitted pattern', 'ken', (k) => k.send(new CreateAliasCommand({ AliasName: 'alias/other-a', TargetKeyId: key('alias1').id })), () => denied('kms:CreateAlias', w.aliasArn('alias/other-a'), 'no-identity'));
  add('CreateAlias with permission on keys only (not on the alias)', 'leo', (k) => k.send(new CreateAliasCommand({ AliasName: 'alias/leo', TargetKeyId: key('alias1').id })), () => denied('kms:CreateAlias', w.aliasArn('alias/leo'), 'no-identity'));
  add('CreateAlias with permission on aliases only (not on the key)', 'mia', (k) => k.send(new CreateAliasCommand({ AliasName: 'alias/mia', TargetKeyId: key('alias1').id })), deniedOn('kms:CreateAlias', 'alias1', 'no-identity'));
  add('CreateAlias on a key whose policy does not delegate CreateAlias to IAM', 'ken', (k) => k.send(new CreateAliasCommand({ AliasName: 'alias/team-x', TargetKeyId: key('aliasnokey').id })), deniedOn('kms:CreateAlias', 'aliasnokey', 'no-resource'));
  add('UpdateAlias needs the new key too', 'ken', async (k) => {
    await w.root.kms.send(new CreateAliasCommand({ AliasName: 'alias/team-u', TargetKeyId: key('alias1').id }));
    return k.send(new UpdateAliasCommand({ AliasName: 'alias/team-u', TargetKeyId: key('aliasnokey').id }));
  }, deniedOn('kms:UpdateAlias', 'aliasnokey', 'no-resource'));
  add('UpdateAlias needs the current key too', 'ken', async (k) => {
    await P.get('bob')!.kms.send(new CreateAliasCommand({ AliasName: 'alias/team-v', TargetKeyId: key('aliasnokey').id }));
    return k.send(new UpdateAliasCommand({ AliasName: 'alias/team-v', TargetKeyId: key('alias2').id }));
  }, deniedOn('kms:UpdateAlias', 'aliasnokey', 'no-resource'));
  add('UpdateAlias with permission on the alias and both keys', 'ken', (k) => k.send(new UpdateAliasCommand({ AliasName: 'alias/team-a', TargetKeyId: key('alias2').id })), () => ALLOW);
  add('DeleteAlias with permission on keys only', 'leo', async (k) => {
    await w.root.kms.send(new CreateAliasCommand({ AliasName: 'alias/leo-d', TargetKeyId: key('alias1').id }));
    return k.send(new DeleteAliasCommand({ AliasName: 'alias/leo-d' }));
  }, () => denied('kms:DeleteAlias', w.aliasArn('alias/leo-d'), 'no-identity'));
  add('DeleteAlias with permission on aliases only', 'mia', async (k) => {
    await w.root.kms.send(new CreateAliasCommand({ AliasName: 'alias/mia-d', TargetKeyId: key('alias1').id }));
    return k.send(new DeleteAliasCommand({ AliasName: 'alias/mia-d' }));
  }, deniedOn('kms:DeleteAlias', 'alias1', 'no-identity'));
  add('DeleteAlias with permission on both', 'ken', (k) => k.send(new DeleteAliasCommand({ AliasName: 'alias/team-a' })), () => ALLOW);
  add('DeleteAlias of an alias that does not exist, by a permitted caller', 'ken', (k) => k.send(new DeleteAliasCommand({ AliasName: 'alias/team-none' })), () => fails('NotFoundException'));

  // ---------------------------------------------------------------------------------------------
  // The lockout safety check and named principals (CreateKey, PutKeyPolicy)

  const createWith = (statements: () => Json[], bypass?: boolean) => (kms: KMSClient) =>
    kms.send(new CreateKeyCommand({ Policy: doc(...statements()), BypassPolicyLockoutSafetyCheck: bypass }));
  add('CreateKey whose policy shuts the caller out', 'bob', createWith(() => [kp(userArn('alice'), 'kms:*')]), () => fails('MalformedPolicyDocumentException', LOCKOUT));
  add('CreateKey whose policy shuts the caller out, with the bypass', 'bob', createWith(() => [kp(userArn('alice'), 'kms:*')], true), () => ALLOW);
  add('CreateKey with the root statement: IAM keeps the caller in', 'bob', createWith(() => [rootStatement(w.account)]), () => ALLOW);
  add('CreateKey by a caller whose IAM lacks kms:PutKeyPolicy', 'judy', createWith(() => [rootStatement(w.account)]), () => fails('MalformedPolicyDocumentException', LOCKOUT));
  add('CreateKey without a policy needs no lockout check', 'judy', (k) => k.send(new CreateKeyCommand({})), () => ALLOW);
  add('CreateKey by a caller whose IAM allows kms:PutKeyPolicy', 'ivy', createWith(() => [rootStatement(w.account)]), () => ALLOW);
  add('CreateKey whose policy names the caller for PutKeyPolicy', 'judy', createWith(() => [kp(userArn('judy'), 'kms:PutKeyPolicy'), rootStatement(w.account)]), () => ALLOW);
  add('CreateKey whose policy denies the caller PutKeyPolicy', 'ivy', createWith(() => [rootStatement(w.account), kp(userArn('ivy'), 'kms:PutKeyPolicy', 'Deny')]), () => fails('MalformedPolicyDocumentException', LOCKOUT));
  add('CreateKey naming a user that does not exist', 'root', createWith(() => [rootStatement(w.account), kp(userArn('no-such-user'), 'kms:Encrypt')]), () => fails('MalformedPolicyDocumentException', INVALID_PRINCIPALS));
  add('CreateKey naming a role that does not exist', 'root', createWith(() => [rootStatement(w.account), kp(`arn:aws:iam::${w.account}:role/no-such-role`, 'kms:Encrypt')]), () => fails('MalformedPolicyDocumentException', INVALID_PRINCIPALS));
  add('CreateKey naming a missing user even with the bypass', 'root', createWith(() => [rootStatement(w.account), kp(userArn('ghost'), 'kms:Encrypt')], true), () => fails('MalformedPolicyDocumentException', INVALID_PRINCIPALS));
  add('CreateKey naming existing users and another account\'s root', 'root', createWith(() => [rootStatement(w.account), kp([userArn('alice'), 'arn:aws:iam::111122223333:root', '444455556666'], 'kms:Encrypt')]), () => ALLOW);
  add('CreateKey needs kms:CreateKey in IAM', 'alice', (k) => k.send(new CreateKeyCommand({})), () => denied('kms:CreateKey', '*', 'no-identity'));
  add('CreateKey with Tags also needs kms:TagResource in IAM', 'judy', (k) => k.send(new CreateKeyCommand({ Tags: [{ TagKey: 't', TagValue: 'v' }] })), () => denied('kms:TagResource', '*', 'no-identity'));
  add('PutKeyPolicy that would shut the root out', 'root', (k) => k.send(new PutKeyPolicyCommand({ KeyId: key('lockout').id, Policy: doc(kp(userArn('alice'), 'kms:Encrypt')) })), () => fails('MalformedPolicyDocumentException', LOCKOUT));
  add('PutKeyPolicy that would shut the root out, with the bypass', 'root', (k) => k.send(new PutKeyPolicyCommand({ KeyId: key('lockout').id, Policy: doc(kp(userArn('alice'), ['kms:Encrypt', 'kms:PutKeyPolicy'])), BypassPolicyLockoutSafetyCheck: true })), () => ALLOW);
  add('PutKeyPolicy by the principal the policy names', 'alice', (k) => k.send(new PutKeyPolicyCommand({ KeyId: key('lockout').id, Policy: doc(kp(userArn('alice'), ['kms:Encrypt', 'kms:PutKeyPolicy'])) })), () => ALLOW);
  add('PutKeyPolicy now refuses the root', 'root', (k) => k.send(new PutKeyPolicyCommand({ KeyId: key('lockout').id, Policy: doc(rootStatement(w.account)) })), deniedOn('kms:PutKeyPolicy', 'lockout', 'no-resource'));
  add('PutKeyPolicy naming a user that does not exist', 'root', (k) => k.send(new PutKeyPolicyCommand({ KeyId: key('other').id, Policy: doc(rootStatement(w.account), kp(userArn('nobody-here'), 'kms:Encrypt')) })), () => fails('MalformedPolicyDocumentException', INVALID_PRINCIPALS));
  add('PutKeyPolicy naming a user with the wrong path', 'root', (k) => k.send(new PutKeyPolicyCommand({ KeyId: key('other').id, Policy: doc(rootStatement(w.account), kp(`arn:aws:iam::${w.account}:user/ops/alice`, 'kms:Encrypt')) })), () => fails('MalformedPolicyDocumentException', INVALID_PRINCIPALS));

  // ---------------------------------------------------------------------------------------------
  // AWS managed keys: their fixed policy allows use only through the service (kms:ViaService)

  const managedArn = (service: string) => (): string => keys.get(`aws/${service}`)!.arn;
  const viaAlias = (alias: string) => (kms: KMSClient) => kms.send(new EncryptCommand({ KeyId: alias, Plaintext: pt }));
  add('AWS managed key: a principal acting for s3 encrypts with alias/aws/s3', 'svc_s3', viaAlias('alias/aws/s3'), () => ALLOW);
  add('AWS managed key: the account root may not use it directly', 'root', viaAlias('alias/aws/s3'), () => denied('kms:Encrypt', managedArn('s3')(), 'no-resource'));
  add('AWS managed key: a user allowed kms:* may not use it directly', 'bob', viaAlias('alias/aws/s3'), () => denied('kms:Encrypt', managedArn('s3')(), 'no-resource'));
  add('AWS managed key: a principal acting for ec2 may not use the s3 key', 'svc_ec2', viaAlias('alias/aws/s3'), () => denied('kms:Encrypt', managedArn('s3')(), 'no-resource'));
  add('AWS managed key: EBS keys are used through ec2', 'svc_ec2', viaAlias('alias/aws/ebs'), () => ALLOW);
  add('AWS managed key: the root reads its metadata', 'root', (k) => k.send(new DescribeKeyCommand({ KeyId: 'alias/aws/s3' })), () => ALLOW);
  add('AWS managed key: a user without identity policies may not read it', 'alice', (k) => k.send(new GetKeyPolicyCommand({ KeyId: managedArn('s3')() })), () => denied('kms:GetKeyPolicy', managedArn('s3')(), 'no-identity'));
  add('AWS managed key: a user allowed kms:* reads its policy', 'bob', (k) => k.send(new GetKeyPolicyCommand({ KeyId: managedArn('s3')() })), () => ALLOW);
  add('AWS managed key: nobody may disable it', 'bob', (k) => k.send(new DisableKeyCommand({ KeyId: managedArn('s3')() })), () => denied('kms:DisableKey', managedArn('s3')(), 'no-resource'));
  add('AWS managed key: the service principal may create a grant on it (its fixed policy allows kms:CreateGrant)', 'svc_s3', (k) =>
    k.send(new CreateGrantCommand({ KeyId: managedArn('s3')(), GranteePrincipal: userArn('svc_s3'), Operations: ['Decrypt'] })), () => ALLOW);
  add('AWS managed key: the account root may not create grants on it', 'root', (k) =>
    k.send(new CreateGrantCommand({ KeyId: managedArn('s3')(), GranteePrincipal: userArn('alice'), Operations: ['Decrypt'] })), () => denied('kms:CreateGrant', managedArn('s3')(), 'no-resource'));
  add('AWS managed key: the service principal may decrypt what it encrypted', 'svc_s3', async (k) => {
    const blob = (await k.send(new EncryptCommand({ KeyId: 'alias/aws/s3', Plaintext: pt }))).CiphertextBlob;
    return k.send(new DecryptCommand({ CiphertextBlob: blob }));
  }, () => ALLOW);

  // ---------------------------------------------------------------------------------------------
  // Every operation asks for its own permission (kms-reference.md §3.1): a principal without any
  // is refused with the action and resource; a principal allowed exactly that action passes.

  interface OpCase {
    readonly op: string;
    readonly action: string;
    /** The resource in the message: a key name, or a function for '*' and alias ARNs. */
    readonly resource: string | (() => string);
    readonly call: (kms: KMSClient) => Promise<unknown>;
    /** What the permitted principal gets: success, or this error after authorization. */
    readonly then?: string;
    /** Extra actions the permitted principal needs (e.g. ReplicateKey needs kms:CreateKey). */
    readonly extra?: string[];
  }
  const opKey = (op: string): Key => key(`op-${op}`);
  const OPS: OpCase[] = [
    { op: 'CancelKeyDeletion', action: 'kms:CancelKeyDeletion', resource: 'op-CancelKeyDeletion', call: (k) => k.send(new CancelKeyDeletionCommand({ KeyId: opKey('CancelKeyDeletion').id })), then: 'KMSInvalidStateException' },
    { op: 'CreateAlias', action: 'kms:CreateAlias', resource: () => w.aliasArn('alias/op-create'), call: (k) => k.send(new CreateAliasCommand({ AliasName: 'alias/op-create', TargetKeyId: opKey('CreateAlias').id })) },
    { op: 'CreateGrant', action: 'kms:CreateGrant', resource: 'op-CreateGrant', call: (k) => k.send(new CreateGrantCommand({ KeyId: opKey('CreateGrant').id, GranteePrincipal: userArn('alice'), Operations: ['Encrypt'] })) },
    { op: 'CreateKey', action: 'kms:CreateKey', resource: () => '*', call: (k) => k.send(new CreateKeyCommand({})) },
    { op: 'Decrypt', action: 'kms:Decrypt', resource: 'op-Decrypt', call: async (k) => {
      const blob = (await w.root.kms.send(new EncryptCommand({ KeyId: opKey('Decrypt').id, Plaintext: pt }))).CiphertextBlob;
      return k.send(new DecryptCommand({ CiphertextBlob: blob }));
    } },
    { op: 'DeleteAlias', action: 'kms:DeleteAlias', resource: () => w.aliasArn('alias/op-delete'), call: (k) => k.send(new DeleteAliasCommand({ AliasName: 'alias/op-delete' })) },
    { op: 'DeleteImportedKeyMaterial', action: 'kms:DeleteImportedKeyMaterial', resource: 'op-DeleteImportedKeyMaterial', call: (k) => k.send(new DeleteImportedKeyMaterialCommand({ KeyId: opKey('DeleteImportedKeyMaterial').id })), then: 'UnsupportedOperationException' },
    { op: 'DescribeKey', action: 'kms:DescribeKey', resource: 'op-DescribeKey', call: (k) => k.send(new DescribeKeyCommand({ KeyId: opKey('DescribeKey').id })) },
    { op: 'DisableKey', action: 'kms:DisableKey', resource: 'op-DisableKey', call: (k) => k.send(new DisableKeyCommand({ KeyId: opKey('DisableKey').id })) },
    { op: 'DisableKeyRotation', action: 'kms:DisableKeyRotation', resource: 'op-DisableKeyRotation', call: (k) => k.send(new DisableKeyRotationCommand({ KeyId: opKey('DisableKeyRotation').id })) },
    { op: 'EnableKey', action: 'kms:EnableKey', resource: 'op-EnableKey', call: (k) => k.send(new EnableKeyCommand({ KeyId: opKey('EnableKey').id })) },
    { op: 'EnableKeyRotation', action: 'kms:EnableKeyRotation', resource: 'op-EnableKeyRotation', call: (k) => k.send(new EnableKeyRotationCommand({ KeyId: opKey('EnableKeyRotation').id })) },
    { op: 'Encrypt', action: 'kms:Encrypt', resource: 'op-Encrypt', call: (k) => k.send(new EncryptCommand({ KeyId: opKey('Encrypt').id, Plaintext: pt })) },
    { op: 'GenerateDataKey', action: 'kms:GenerateDataKey', resource: 'op-GenerateDataKey', call: (k) => k.send(new GenerateDataKeyCommand({ KeyId: opKey('GenerateDataKey').id, KeySpec: 'AES_256' })) },
    { op: 'GenerateDataKeyWithoutPlaintext', action: 'kms:GenerateDataKeyWithoutPlaintext', resource: 'op-GenerateDataKeyWithoutPlaintext', call: (k) => k.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: opKey('GenerateDataKeyWithoutPlaintext').id, NumberOfBytes: 16 })) },
    { op: 'GenerateDataKeyPair', action: 'kms:GenerateDataKeyPair', resource: 'op-GenerateDataKeyPair', call: (k) => k.send(new GenerateDataKeyPairCommand({ KeyId: opKey('GenerateDataKeyPair').id, KeyPairSpec: 'ECC_NIST_P256' })) },
    { op: 'GenerateDataKeyPairWithoutPlaintext', action: 'kms:GenerateDataKeyPairWithoutPlaintext', resource: 'op-GenerateDataKeyPairWithoutPlaintext', call: (k) => k.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: opKey('GenerateDataKeyPairWithoutPlaintext').id, KeyPairSpec: 'ECC_NIST_P256' })) },
    // The op- keys are symmetric: the signing and MAC operations pass authorization, then fail on key usage.
    { op: 'GenerateMac', action: 'kms:GenerateMac', resource: 'op-GenerateMac', call: (k) => k.send(new GenerateMacCommand({ KeyId: opKey('GenerateMac').id, Message: pt, MacAlgorithm: 'HMAC_SHA_256' })), then: 'InvalidKeyUsageException' },
    { op: 'GetPublicKey', action: 'kms:GetPublicKey', resource: 'op-GetPublicKey', call: (k) => k.send(new GetPublicKeyCommand({ KeyId: opKey('GetPublicKey').id })), then: 'UnsupportedOperationException' },
    { op: 'Sign', action: 'kms:Sign', resource: 'op-Sign', call: (k) => k.send(new SignCommand({ KeyId: opKey('Sign').id, Message: pt, SigningAlgorithm: 'ECDSA_SHA_256' })), then: 'InvalidKeyUsageException' },
    { op: 'Verify', action: 'kms:Verify', resource: 'op-Verify', call: (k) => k.send(new VerifyCommand({ KeyId: opKey('Verify').id, Message: pt, Signature: pt, SigningAlgorithm: 'ECDSA_SHA_256' })), then: 'InvalidKeyUsageException' },
    { op: 'DeriveSharedSecret', action: 'kms:DeriveSharedSecret', resource: 'op-DeriveSharedSecret', call: (k) => k.send(new DeriveSharedSecretCommand({ KeyId: opKey('DeriveSharedSecret').id, KeyAgreementAlgorithm: 'ECDH', PublicKey: pt })), then: 'InvalidKeyUsageException' },
    { op: 'Encapsulate', action: 'kms:Encapsulate', resource: 'op-Encapsulate', call: (k) => k.send(new EncapsulateCommand({ KeyId: opKey('Encapsulate').id, EncapsulationAlgorithm: 'ML_KEM' })), then: 'InvalidKeyUsageException' },
    { op: 'Decapsulate', action: 'kms:Decapsulate', resource: 'op-Decapsulate', call: (k) => k.send(new DecapsulateCommand({ KeyId: opKey('Decapsulate').id, SharedSecretCiphertextBlob: pt, EncapsulationAlgorithm: 'ML_KEM' })), then: 'InvalidKeyUsageException' },
    { op: 'VerifyMac', action: 'kms:VerifyMac', resource: 'op-VerifyMac', call: (k) => k.send(new VerifyMacCommand({ KeyId: opKey('VerifyMac').id, Message: pt, Mac: pt, MacAlgorithm: 'HMAC_SHA_256' })), then: 'InvalidKeyUsageException' },
    { op: 'GenerateRandom', action: 'kms:GenerateRandom', resource: () => '*', call: (k) => k.send(new GenerateRandomCommand({ NumberOfBytes: 8 })) },
    { op: 'GetKeyPolicy', action: 'kms:GetKeyPolicy', resource: 'op-GetKeyPolicy', call: (k) => k.send(new GetKeyPolicyCommand({ KeyId: opKey('GetKeyPolicy').id })) },
    { op: 'GetKeyRotationStatus', action: 'kms:GetKeyRotationStatus', resource: 'op-GetKeyRotationStatus', call: (k) => k.send(new GetKeyRotationStatusCommand({ KeyId: opKey('GetKeyRotationStatus').id })) },
    { op: 'GetParametersForImport', action: 'kms:GetParametersForImport', resource: 'op-GetParametersForImport', call: (k) => k.send(new GetParametersForImportCommand({ KeyId: opKey('GetParametersForImport').id, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' })), then: 'UnsupportedOperationException' },
    { op: 'ImportKeyMaterial', action: 'kms:ImportKeyMaterial', resource: 'op-ImportKeyMaterial', call: (k) => k.send(new ImportKeyMaterialCommand({ KeyId: opKey('ImportKeyMaterial').id, ImportToken: Buffer.alloc(64, 1), EncryptedKeyMaterial: Buffer.alloc(256, 1), ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' })), then: 'UnsupportedOperationException' },
    { op: 'ListAliases', action: 'kms:ListAliases', resource: () => '*', call: (k) => k.send(new ListAliasesCommand({})) },
    { op: 'ListGrants', action: 'kms:ListGrants', resource: 'op-ListGrants', call: (k) => k.send(new ListGrantsCommand({ KeyId: opKey('ListGrants').id })) },
    { op: 'ListKeyPolicies', action: 'kms:ListKeyPolicies', resource: 'op-ListKeyPolicies', call: (k) => k.send(new ListKeyPoliciesCommand({ KeyId: opKey('ListKeyPolicies').id })) },
    { op: 'ListKeyRotations', action: 'kms:ListKeyRotations', resource: 'op-ListKeyRotations', call: (k) => k.send(new ListKeyRotationsCommand({ KeyId: opKey('ListKeyRotations').id })) },
    { op: 'ListKeys', action: 'kms:ListKeys', resource: () => '*', call: (k) => k.send(new ListKeysCommand({})) },
    { op: 'ListResourceTags', action: 'kms:ListResourceTags', resource: 'op-ListResourceTags', call: (k) => k.send(new ListResourceTagsCommand({ KeyId: opKey('ListResourceTags').id })) },
    { op: 'ListRetirableGrants', action: 'kms:ListRetirableGrants', resource: () => '*', call: (k) => k.send(new ListRetirableGrantsCommand({ RetiringPrincipal: userArn('alice') })) },
    { op: 'PutKeyPolicy', action: 'kms:PutKeyPolicy', resource: 'op-PutKeyPolicy', call: (k) => k.send(new PutKeyPolicyCommand({ KeyId: opKey('PutKeyPolicy').id, Policy: doc(rootStatement(w.account)) })) },
    { op: 'ReEncrypt', action: 'kms:ReEncryptFrom', resource: 'op-ReEncrypt', extra: ['kms:ReEncryptTo'], call: async (k) => {
      const blob = (await w.root.kms.send(new EncryptCommand({ KeyId: opKey('ReEncrypt').id, Plaintext: pt }))).CiphertextBlob;
      return k.send(new ReEncryptCommand({ CiphertextBlob: blob, DestinationKeyId: opKey('ReEncrypt').id }));
    } },
    { op: 'ReplicateKey', action: 'kms:ReplicateKey', resource: 'op-ReplicateKey', extra: ['kms:CreateKey'], call: (k) => k.send(new ReplicateKeyCommand({ KeyId: opKey('ReplicateKey').id, ReplicaRegion: 'eu-west-1' })), then: 'UnsupportedOperationException' },
    { op: 'RevokeGrant', action: 'kms:RevokeGrant', resource: 'op-RevokeGrant', call: (k) => k.send(new RevokeGrantCommand({ KeyId: opKey('RevokeGrant').id, GrantId: 'a'.repeat(64) })), then: 'InvalidGrantIdException' },
    { op: 'RotateKeyOnDemand', action: 'kms:RotateKeyOnDemand', resource: 'op-RotateKeyOnDemand', call: (k) => k.send(new RotateKeyOnDemandCommand({ KeyId: opKey('RotateKeyOnDemand').id })) },
    { op: 'ScheduleKeyDeletion', action: 'kms:ScheduleKeyDeletion', resource: 'op-ScheduleKeyDeletion', call: (k) => k.send(new ScheduleKeyDeletionCommand({ KeyId: opKey('ScheduleKeyDeletion').id, PendingWindowInDays: 7 })) },
    { op: 'TagResource', action: 'kms:TagResource', resource: 'op-TagResource', call: (k) => k.send(new TagResourceCommand({ KeyId: opKey('TagResource').id, Tags: [{ TagKey: 'a', TagValue: 'b' }] })) },
    { op: 'UntagResource', action: 'kms:UntagResource', resource: 'op-UntagResource', call: (k) => k.send(new UntagResourceCommand({ KeyId: opKey('UntagResource').id, TagKeys: ['a'] })) },
    { op: 'UpdateAlias', action: 'kms:UpdateAlias', resource: () => w.aliasArn('alias/op-update'), call: (k) => k.send(new UpdateAliasCommand({ AliasName: 'alias/op-update', TargetKeyId: opKey('UpdateAlias').id })) },
    { op: 'UpdateKeyDescription', action: 'kms:UpdateKeyDescription', resource: 'op-UpdateKeyDescription', call: (k) => k.send(new UpdateKeyDescriptionCommand({ KeyId: opKey('UpdateKeyDescription').id, Description: 'd' })) },
    { op: 'UpdatePrimaryRegion', action: 'kms:UpdatePrimaryRegion', resource: 'op-UpdatePrimaryRegion', call: (k) => k.send(new UpdatePrimaryRegionCommand({ KeyId: opKey('UpdatePrimaryRegion').id, PrimaryRegion: 'eu-west-1' })), then: 'UnsupportedOperationException' },
  ];
  // RetireGrant is decided by the grant itself (cross-account.test.ts).
  const OPS_ELSEWHERE = ['RetireGrant'];

  for (const o of OPS) {
    const resource = (): string => (typeof o.resource === 'string' ? key(o.resource).arn : o.resource());
    add(`${o.op}: a principal without permissions is refused ${o.action}`, 'nobody', o.call, () => denied(o.action, resource(), 'no-identity'));
    add(`${o.op}: a principal allowed exactly ${[o.action, ...(o.extra ?? [])].join(' + ')} passes`, `op-${o.op}`, o.call, () => (o.then === undefined ? ALLOW : allowedThen(o.then)));
  }

  test('the operation table covers every registered KMS operation', () => {
    assert.deepEqual([...OPS.map((o) => o.op), ...OPS_ELSEWHERE].sort(), Object.keys(KMS_OPERATIONS).sort());
  });

  before(async () => {
    w = await World.start();
    for (const name of ['default', 'other']) keys.set(name, await w.key());
    for (const name of ['direct2', 'changing', 'changing2', 'lockout', 'alias1', 'alias2']) keys.set(name, await w.key());
    // Users before policies that name them (principals must exist).
    for (const [name, statements] of Object.entries(USERS)) {
      P.set(name, await w.user(name, { ...(TAGS[name] !== undefined ? { tags: TAGS[name] } : {}) }));
      void statements;
    }
    P.set('root', w.root);
    for (const [name, statements] of Object.entries(KEYS)) {
      if (keys.has(name)) continue;
      const s = statements();
      keys.set(name, s === undefined ? await w.key() : await w.keyWithPolicy(s));
    }
    for (const [name, statements] of Object.entries(USERS)) {
      const s = statements();
      if (s.length > 0) await w.setUserPolicy(P.get(name) as Principal, s);
    }
    // direct2: names alice for DescribeKey only, so Encrypt on it needs IAM.
    await w.root.kms.send(new PutKeyPolicyCommand({ KeyId: key('direct2').id, Policy: doc(rootStatement(w.account), kp(userArn('alice'), 'kms:DescribeKey')) }));
    // AWS managed keys exist once used; learn their ARNs.
    for (const s of ['s3', 'ebs']) {
      const m = (await w.root.kms.send(new DescribeKeyCommand({ KeyId: `alias/aws/${s}` }))).KeyMetadata!;
      keys.set(`aws/${s}`, { id: m.KeyId!, arn: m.Arn! });
    }
    // One key and one principal per operation.
    for (const o of OPS) {
      keys.set(`op-${o.op}`, await w.key());
      P.set(`op-${o.op}`, await w.user(`op-${o.op}`, { statements: [allow([o.action, ...(o.extra ?? [])])] }));
    }
    await w.root.kms.send(new CreateAliasCommand({ AliasName: 'alias/op-delete', TargetKeyId: opKey('DeleteAlias').id }));
    await w.root.kms.send(new CreateAliasCommand({ AliasName: 'alias/op-update', TargetKeyId: opKey('CreateAlias').id }));
    await w.root.kms.send(new DisableKeyCommand({ KeyId: opKey('EnableKey').id }));
    await w.root.kms.send(new EnableKeyRotationCommand({ KeyId: opKey('DisableKeyRotation').id }));
  });
  after(async () => {
    for (const p of P.values()) p.kms.destroy();
    await w?.stop();
  });

  runCases(cases);
});
