/**
 * cloudtrail:LookupEvents is authorized like any IAM action without resource-level permissions:
 * identity-based policies (inline and managed, user, group and role), session policies, SCPs,
 * explicit deny wins, and an account root needs no policy. Every call is a SigV4-signed
 * awsJson1_1 request over a real socket; a denied lookup is itself recorded, and the account's
 * root finds that record through LookupEvents.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { xml } from '../identity/wire';
import { allow, deny, doc, World, type Principal } from '../authorization/harness';
import { assertApiCallRecord, lookupAll, lookupEvents, trailRecords } from './helpers';

const ACTION = 'cloudtrail:LookupEvents';

/** AWS's message for a denied LookupEvents: the action has no resource, so none is named. */
function deniedMessage(arn: string, why: 'no-identity' | 'no-session' | 'deny-identity' | 'deny-scp'): string {
  const head = `User: ${arn} is not authorized to perform: ${ACTION}`;
  switch (why) {
    case 'no-identity':
      return `${head} because no identity-based policy allows the ${ACTION} action`;
    case 'no-session':
      return `${head} because no session policy allows the ${ACTION} action`;
    case 'deny-identity':
      return `${head} with an explicit deny in an identity-based policy`;
    case 'deny-scp':
      return `${head} with an explicit deny in a service control policy`;
  }
}

describe('cloudtrail:LookupEvents authorization', () => {
  let w: World;
  const P = new Map<string, Principal>();
  const who = (label: string): Principal => P.get(label) as Principal;
  const denials: { arn: string; requestId: string; message: string }[] = [];

  async function expectAllowed(label: string): Promise<void> {
    const r = await lookupEvents(w.server.port, who(label).creds, { MaxResults: 5 });
    assert.equal(r.status, 200, `${label}: ${JSON.stringify(r.json)}`);
    assert.ok(Array.isArray(r.json.Events), `${label}: no Events`);
  }

  async function expectDenied(label: string, why: Parameters<typeof deniedMessage>[1]): Promise<void> {
    const p = who(label);
    const r = await lookupEvents(w.server.port, p.creds, { MaxResults: 5 });
    assert.equal(r.status, 400, `${label}: ${JSON.stringify(r.json)}`);
    assert.equal(r.json.__type, 'AccessDeniedException');
    const message = deniedMessage(p.arn, why);
    assert.equal(r.json.message, message);
    denials.push({ arn: p.arn, requestId: r.requestId, message });
  }

  before(async () => {
    w = await World.start();
    P.set('admin', w.root);
    P.set('nobody', await w.user('nobody'));
    P.set('reader', await w.user('reader', { statements: [allow(ACTION)] }));
    P.set('wild', await w.user('wild', { statements: [allow('cloudtrail:Lookup*')] }));
    P.set('trail-only', await w.user('trail-only', { statements: [allow(ACTION, `arn:aws:cloudtrail:us-east-1:${w.account}:trail/audit`)] }));
    P.set('denied', await w.user('denied', { statements: [allow('cloudtrail:*'), deny(ACTION)] }));
    P.set('kms-admin', await w.user('kms-admin', { statements: [allow('kms:*')] }));

    // A managed policy through a group.
    P.set('grouped', await w.user('grouped'));
    const policyXml = await w.query('iam', 'CreatePolicy', { PolicyName: 'ct-read', PolicyDocument: doc(allow(ACTION)) });
    const policyArn = xml(policyXml, 'Arn') as string;
    await w.query('iam', 'CreateGroup', { GroupName: 'auditors' });
    await w.query('iam', 'AttachGroupPolicy', { GroupName: 'auditors', PolicyArn: policyArn });
    await w.query('iam', 'AddUserToGroup', { GroupName: 'auditors', UserName: 'grouped' });

    // Sessions of a role allowed to look events up: without and with a narrower session policy.
    const assumer = await w.user('assumer');
    const role = await w.role('auditor', [assumer.arn], { statements: [allow(ACTION)] });
    P.set('s-plain', await w.assume(role, 's-plain', assumer));
    P.set('s-narrow', await w.assume(role, 's-narrow', assumer, { policy: [allow('kms:Encrypt')] }));
    P.set('s-wide', await w.assume(role, 's-wide', assumer, { policy: [allow('cloudtrail:*')] }));

    // A member account of an organization whose SCP denies LookupEvents.
    await w.org('CreateOrganization', { FeatureSet: 'ALL' });
    const rootId = (await w.org('ListRoots')).Roots[0].Id as string;
    const member = (await w.org('CreateAccount', { Email: 'ct@example.com', AccountName: 'ct-member' })).CreateAccountStatus.AccountId as string;
    P.set('mroot', await w.accountRoot(member));
    await w.org('EnablePolicyType', { RootId: rootId, PolicyType: 'SERVICE_CONTROL_POLICY' });
    const scp = (await w.org('CreatePolicy', { Name: 'no-lookup', Description: 'no-lookup', Type: 'SERVICE_CONTROL_POLICY', Content: doc(deny(ACTION)) }))
      .Policy.PolicySummary.Id as string;
    await w.org('AttachPolicy', { PolicyId: scp, TargetId: member });
  });

  after(async () => {
    for (const p of P.values()) p.kms.destroy();
    await w?.stop();
  });

  test('the account administrator (root) needs no policy', () => expectAllowed('admin'));
  test('an IAM user without policies is denied: no identity-based policy allows it', () => expectDenied('nobody', 'no-identity'));
  test('an inline Allow of cloudtrail:LookupEvents allows', () => expectAllowed('reader'));
  test('a wildcard action (cloudtrail:Lookup*) allows', () => expectAllowed('wild'));
  test('a managed policy attached to the user\'s group allows', () => expectAllowed('grouped'));
  test('an Allow scoped to a trail ARN does not cover an action without resources', () => expectDenied('trail-only', 'no-identity'));
  test('an explicit Deny beats cloudtrail:* Allow', () => expectDenied('denied', 'deny-identity'));
  test('kms:* does not reach cloudtrail', () => expectDenied('kms-admin', 'no-identity'));
  test('an assumed role allowed by its role policy, without a session policy, is allowed', () => expectAllowed('s-plain'));
  test('a session policy that does not allow it denies, though the role allows', () => expectDenied('s-narrow', 'no-session'));
  test('a session policy that allows it keeps the role\'s permission', () => expectAllowed('s-wide'));
  test('an SCP Deny binds even the member account\'s root', () => expectDenied('mroot', 'deny-scp'));

  test('each denied lookup is recorded in the caller\'s account with AccessDeniedException', async () => {
    assert.equal(denials.length, 6, 'the denial tests ran first');
    // The account's root finds the denials of its account through LookupEvents itself.
    const found = await lookupAll(w.server.port, w.root.creds, { AttributeKey: 'EventName', AttributeValue: 'LookupEvents' });
    // The member account's root may not look anything up: its record is read from the trail.
    const stored = trailRecords(w.server.dataDir);
    for (const d of denials) {
      const account = d.arn.split(':')[4] as string;
      const source = account === w.account ? found : stored;
      const mine = source.filter((e) => e.requestID === d.requestId);
      assert.equal(mine.length, 1, `${d.arn}: ${mine.length} records of ${d.requestId}`);
      const e = mine[0]!;
      assert.equal(e.eventSource, 'cloudtrail.amazonaws.com');
      assert.equal(e.eventName, 'LookupEvents');
      assert.equal(e.errorCode, 'AccessDeniedException');
      assert.equal(e.errorMessage, d.message);
      assert.equal(e.userIdentity.arn, d.arn);
      assert.equal(e.recipientAccountId, account);
      assert.equal(e.readOnly, true);
      assertApiCallRecord(e);
    }
    // And an account's lookup never shows another account's records.
    assert.ok(found.every((e) => e.recipientAccountId === w.account));
  });
});
