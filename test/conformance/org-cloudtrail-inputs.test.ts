/**
 * Issue 8: Organizations and CloudTrail validate their input with the generated shapes
 * (src/model/{organizations,cloudtrail}-inputs.ts). A violated constraint of the model (a
 * pattern, a length, a range, an enum) gets AWS's ValidationException message form; LookupEvents
 * keeps the exceptions CloudTrail documents for its own checks (InvalidLookupAttributesException,
 * InvalidMaxResultsException, InvalidEventCategoryException); a policy type the model knows but
 * Keyhold does not is refused by the operation. Through two client stacks: the AWS SDK for
 * JavaScript v3 and botocore (Debian's, /usr/bin/python3), neither of which checks patterns,
 * maxima or enums before sending.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { CloudTrailClient, LookupEventsCommand, type LookupAttributeKey } from '@aws-sdk/client-cloudtrail';
import {
  CreateAccountCommand, CreatePolicyCommand, DescribeCreateAccountStatusCommand, EnablePolicyTypeCommand, ListAccountsCommand,
  ListPoliciesCommand, OrganizationsClient, type PolicyType,
} from '@aws-sdk/client-organizations';
import { rejects, validation } from '../helpers/assertions';
import { startServer, stopAndRemove, type TestServer } from '../helpers/server';

const PYTHON = '/usr/bin/python3';
const KNOWN_TYPES = 'SERVICE_CONTROL_POLICY, RESOURCE_CONTROL_POLICY, TAG_POLICY, BACKUP_POLICY, AISERVICES_OPT_OUT_POLICY';

let server: TestServer;
let org: OrganizationsClient;
let ct: CloudTrailClient;

before(async () => {
  server = await startServer();
  const config = { endpoint: server.endpoint, region: 'us-east-1', credentials: { ...server.credentials }, maxAttempts: 1 };
  org = new OrganizationsClient(config);
  ct = new CloudTrailClient(config);
});

after(async () => {
  org?.destroy();
  ct?.destroy();
  await stopAndRemove(server);
});

describe('Organizations inputs by the generated shapes (@aws-sdk/client-organizations)', () => {
  test('a pattern: the model\'s pattern text, the value quoted', async () => {
    await rejects(
      org.send(new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: 'car-NOT_LOWER' })),
      'ValidationException',
      validation('createAccountRequestId', 'satisfy regular expression pattern: ^car-[a-z0-9]{8,32}$', 'car-NOT_LOWER'),
    );
  });

  test('a range: MaxResults above 20', async () => {
    await rejects(org.send(new ListAccountsCommand({ MaxResults: 21 })), 'ValidationException', validation('maxResults', 'have value less than or equal to 20', 21));
  });

  test('a sensitive member (Email) is never quoted; its length and pattern are both counted', async () => {
    await rejects(
      org.send(new CreateAccountCommand({ Email: 'a@b', AccountName: 'ok' })),
      'ValidationException',
      "2 validation errors detected: Value at 'email' failed to satisfy constraint: Member must have length greater than or equal to 6; " +
        "Value at 'email' failed to satisfy constraint: Member must satisfy regular expression pattern: [^\\s@]+@[^\\s@]+\\.[^\\s@]+",
    );
  });

  test('a tag key outside the model\'s pattern', async () => {
    await rejects(
      org.send(new CreateAccountCommand({ Email: 'someone@example.com', AccountName: 'ok', Tags: [{ Key: 'a;b', Value: 'v' }] })),
      'ValidationException',
      validation('tags.1.member.key', 'satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$', 'a;b'),
    );
  });

  test('an enum value AWS does not model is named with the model\'s set', async () => {
    await assert.rejects(org.send(new ListPoliciesCommand({ Filter: 'NO_SUCH_POLICY' as PolicyType })), (err: Error) => {
      assert.equal(err.name, 'ValidationException');
      assert.match(err.message, /^1 validation error detected: Value 'NO_SUCH_POLICY' at 'filter' failed to satisfy constraint: Member must satisfy enum value set: \[SERVICE_CONTROL_POLICY, .*BEDROCK_POLICY, .*\]$/);
      return true;
    });
  });

  test('a policy type AWS models but Keyhold does not know is refused by the operation, naming the five it knows', async () => {
    const named = (member: string): string => validation(member, `satisfy enum value set: [${KNOWN_TYPES}]`, 'BEDROCK_POLICY');
    await rejects(org.send(new ListPoliciesCommand({ Filter: 'BEDROCK_POLICY' })), 'ValidationException', named('filter'));
    await rejects(
      org.send(new CreatePolicyCommand({ Name: 'n', Description: '', Content: '{}', Type: 'BEDROCK_POLICY' })),
      'ValidationException',
      named('type'),
    );
    await rejects(org.send(new EnablePolicyTypeCommand({ RootId: 'r-abcd', PolicyType: 'BEDROCK_POLICY' })), 'ValidationException', named('policyType'));
  });
});

describe('CloudTrail LookupEvents inputs by the generated shape (@aws-sdk/client-cloudtrail)', () => {
  test('the violations CloudTrail documents keep their own exceptions', async () => {
    await rejects(
      ct.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'Bogus' as LookupAttributeKey, AttributeValue: 'x' }] })),
      'InvalidLookupAttributesException',
      'The attribute key is not valid. Valid keys: EventId, EventName, ReadOnly, Username, ResourceType, ResourceName, EventSource, AccessKeyId.',
    );
    await rejects(ct.send(new LookupEventsCommand({ MaxResults: 51 })), 'InvalidMaxResultsException', 'MaxResults must be from 1 to 50.');
    await rejects(ct.send(new LookupEventsCommand({ MaxResults: 0 })), 'InvalidMaxResultsException', 'MaxResults must be from 1 to 50.');
    await rejects(
      ct.send(new LookupEventsCommand({ EventCategory: 'management' as 'insight' })),
      'InvalidEventCategoryException',
      'The event category is not valid. Valid value: insight.',
    );
  });

  test('any other violation is the generic ValidationException form', async () => {
    await rejects(
      ct.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: undefined as unknown as string }] })),
      'ValidationException',
      validation('lookupAttributes.1.member.attributeValue', 'not be null', null),
    );
  });

  test('valid input still answers', async () => {
    const out = await ct.send(new LookupEventsCommand({ MaxResults: 50, EventCategory: 'insight' }));
    assert.deepEqual(out.Events, []);
  });
});

describe('botocore (Debian python3-boto3)', () => {
  test('the same answers through a second client stack', async () => {
    const script = `
import json, os, botocore.session
from botocore.config import Config
s = botocore.session.get_session()
def client(name): return s.create_client(name, region_name='us-east-1', endpoint_url=os.environ['KH_ENDPOINT'],
    aws_access_key_id=os.environ['KH_AKID'], aws_secret_access_key=os.environ['KH_SECRET'], config=Config(retries={'max_attempts': 1}))
def error(call):
    try:
        call()
        return {'ok': True}
    except Exception as e:
        r = getattr(e, 'response', {})
        return {'code': r.get('Error', {}).get('Code'), 'message': r.get('Error', {}).get('Message'), 'status': r.get('ResponseMetadata', {}).get('HTTPStatusCode')}
org = client('organizations')
ct = client('cloudtrail')
print(json.dumps({
  'pattern': error(lambda: org.describe_create_account_status(CreateAccountRequestId='car-NOT_LOWER')),
  'known': error(lambda: org.list_policies(Filter='BEDROCK_POLICY')),
  'attribute': error(lambda: ct.lookup_events(LookupAttributes=[{'AttributeKey': 'Bogus', 'AttributeValue': 'x'}])),
  'max': error(lambda: ct.lookup_events(MaxResults=51)),
}))
`;
    const env = {
      PATH: '/usr/bin:/bin', HOME: '/nonexistent', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      KH_ENDPOINT: server.endpoint, KH_AKID: server.credentials.accessKeyId, KH_SECRET: server.credentials.secretAccessKey,
    };
    const out = await new Promise<any>((resolve, reject) => {
      execFile(PYTHON, ['-c', script], { env, timeout: 60_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`${PYTHON} failed: ${stderr}`));
        else resolve(JSON.parse(stdout));
      });
    });
    assert.deepEqual(out.pattern, {
      code: 'ValidationException',
      message: validation('createAccountRequestId', 'satisfy regular expression pattern: ^car-[a-z0-9]{8,32}$', 'car-NOT_LOWER'),
      status: 400,
    });
    assert.deepEqual(out.known, { code: 'ValidationException', message: validation('filter', `satisfy enum value set: [${KNOWN_TYPES}]`, 'BEDROCK_POLICY'), status: 400 });
    assert.equal(out.attribute.code, 'InvalidLookupAttributesException');
    assert.equal(out.attribute.status, 400);
    assert.deepEqual(out.max, { code: 'InvalidMaxResultsException', message: 'MaxResults must be from 1 to 50.', status: 400 });
  });
});
