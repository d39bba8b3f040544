/**
 * The AWS Query codec (src/protocol/query-protocol.ts): form parameters to input, XML output and
 * error documents, escaping, and the Query spelling of every error.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServiceError } from '../../src/errors';
import { structure } from '../../src/operations/shape';
import {
  escapeXml, findQueryOperation, isQueryRequest, parseForm, queryError, queryErrorResponse, queryParameters, queryResponse, scopeService,
} from '../../src/protocol/query-protocol';
import { decodeInput } from '../../src/operations/shape';

const SHAPE = structure({
  Name: { type: 'string', required: true },
  Count: { type: 'integer', min: 1, max: 5 },
  Flag: { type: 'boolean' },
  Tags: { type: 'list', member: structure({ Key: { type: 'string', required: true }, Value: { type: 'string', required: true } }) },
  Keys: { type: 'list', member: { type: 'string' } },
  Arns: { type: 'list', member: structure({ arn: { type: 'string' } }) },
  Nested: structure({ Inner: { type: 'string' } }),
  Attrs: { type: 'map' },
});

test('form parameters decode into lists, nested structures, maps, integers and booleans', () => {
  const params = parseForm(Buffer.from(
    'Action=X&Name=a+b%26c&Count=3&Flag=true&Tags.member.2.Key=k2&Tags.member.2.Value=v2&Tags.member.1.Key=k1&Tags.member.1.Value=v1' +
      '&Keys.member.1=x&Keys.member.10=z&Keys.member.2=y&Arns.member.1.arn=arn%3Aaws&Nested.Inner=i&Attrs.entry.1.key=ek&Attrs.entry.1.value=ev&Unknown=1',
  ));
  assert.deepEqual(queryParameters(SHAPE, params), {
    Name: 'a b&c',
    Count: 3,
    Flag: true,
    Tags: [{ Key: 'k1', Value: 'v1' }, { Key: 'k2', Value: 'v2' }],
    Keys: ['x', 'y', 'z'],
    Arns: [{ arn: 'arn:aws' }],
    Nested: { Inner: 'i' },
    Attrs: { ek: 'ev' },
  });
});

test('an empty list is sent as `Name=`', () => {
  assert.deepEqual(queryParameters(SHAPE, parseForm(Buffer.from('Name=n&Tags='))), { Name: 'n', Tags: [] });
});

test('decoded parameters are validated like JSON input: ValidationException names the member', () => {
  const decode = (body: string) => decodeInput(SHAPE, queryParameters(SHAPE, parseForm(Buffer.from(body))));
  assert.throws(() => decode('Count=9'), (e: ServiceError) => {
    assert.equal(e.name, 'ValidationException');
    assert.equal(
      e.message,
      "2 validation errors detected: Value null at 'name' failed to satisfy constraint: Member must not be null; " +
        "Value '9' at 'count' failed to satisfy constraint: Member must have value less than or equal to 5",
    );
    return true;
  });
  assert.throws(() => decode('Name=n&Count=many'), { name: 'SerializationException' });
});

test('the Action parameter finds the operation; anything else is InvalidAction', () => {
  const op = { name: 'Ping', input: structure({}), output: structure({}), readOnly: true, invoke: async () => undefined };
  const service = { signingName: 'iam', version: '2010-05-08', xmlNamespace: 'ns', operations: { Ping: op } };
  assert.equal(findQueryOperation(service, parseForm(Buffer.from('Action=Ping'))), op);
  for (const body of ['Action=constructor', 'Action=toString', '']) {
    assert.throws(() => findQueryOperation(service, parseForm(Buffer.from(body))), (e: ServiceError) => {
      assert.equal(queryError(e).code, 'InvalidAction');
      return true;
    });
  }
});

test('responses follow the output shape: dates ISO 8601, lists as member items, maps as entries, absent and unmodelled members left out', () => {
  const shape = structure({
    Thing: structure({
      Name: { type: 'string' },
      Created: { type: 'timestamp' },
      Missing: { type: 'string' },
      Items: { type: 'list', member: structure({ A: { type: 'integer' } }) },
      Flag: { type: 'boolean' },
      Empty: { type: 'string' },
      Counts: { type: 'map', value: { type: 'integer' } },
      Updated: { type: 'timestamp' },
    }),
  });
  const xml = queryResponse('GetThing', 'https://example/ns/', shape, {
    Thing: {
      Name: 'x<y', Created: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)), Missing: undefined, Items: [{ A: 1 }, { A: 2 }], Flag: false, Empty: '',
      Counts: { Users: 3 }, Updated: Date.UTC(2026, 0, 2, 3, 4, 6), NotModelled: 'never written',
    },
  }, 'req-1');
  assert.equal(
    xml,
    '<GetThingResponse xmlns="https://example/ns/"><GetThingResult><Thing><Name>x&lt;y</Name><Created>2026-01-02T03:04:05Z</Created>' +
      '<Items><member><A>1</A></member><member><A>2</A></member></Items><Flag>false</Flag><Empty/>' +
      '<Counts><entry><key>Users</key><value>3</value></entry></Counts><Updated>2026-01-02T03:04:06Z</Updated></Thing></GetThingResult>' +
      '<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetThingResponse>',
  );
  assert.throws(() => queryResponse('GetThing', 'ns', shape, { Thing: { Flag: 'yes' } }, 'r'), /output member Thing.Flag: not a boolean/);
  assert.equal(
    queryResponse('DeleteThing', 'ns', structure({}), undefined, 'r'),
    '<DeleteThingResponse xmlns="ns"><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DeleteThingResponse>',
  );
});

test('escapeXml escapes markup and replaces characters XML cannot carry', () => {
  assert.equal(escapeXml(`<a href="x">'&'</a>\r\n\t`), '&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;&#xD;\n\t');
  assert.equal(escapeXml('a\u0000b\u001Fc\uFFFE'), 'a\uFFFDb\uFFFDc\uFFFD');
  assert.equal(escapeXml('\uD800x\uD83D\uDE00'), '\uFFFDx\uD83D\uDE00');
});

test('errors: IAM codes and statuses from QUERY_ERRORS, Receiver for server faults, otherwise the name itself', () => {
  const e = queryErrorResponse(new ServiceError('NoSuchEntityException', 'The user with name <b> cannot be found.'), 'ns', 'rid');
  assert.equal(e.status, 404);
  assert.equal(
    e.body,
    '<ErrorResponse xmlns="ns"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The user with name &lt;b&gt; cannot be found.</Message>' +
      '</Error><RequestId>rid</RequestId></ErrorResponse>',
  );
  const internal = queryErrorResponse(new ServiceError('KMSInternalException', 'x'), 'ns', 'rid');
  assert.equal(internal.status, 500);
  assert.match(internal.body, /<Type>Receiver<\/Type><Code>InternalFailure<\/Code>/);
  assert.deepEqual(queryError(new ServiceError('LimitExceededException', 'x')), { code: 'LimitExceeded', status: 409 });
  assert.deepEqual(queryError(new ServiceError('ExpiredTokenException', 'x')), { code: 'ExpiredToken', status: 403 });
  assert.deepEqual(queryError(new ServiceError('UnrecognizedClientException', 'x')), { code: 'InvalidClientTokenId', status: 403 });
  assert.deepEqual(queryError(new ServiceError('DisabledException', 'x')), { code: 'DisabledException', status: 400 });
});

test('routing: form-encoded without X-Amz-Target is Query; the scope names the service', () => {
  assert.equal(isQueryRequest('application/x-www-form-urlencoded; charset=utf-8', undefined), true);
  assert.equal(isQueryRequest('application/x-www-form-urlencoded', 'TrentService.ListKeys'), false);
  assert.equal(isQueryRequest('application/x-amz-json-1.1', undefined), false);
  assert.equal(isQueryRequest(undefined, undefined), false);
  assert.equal(scopeService('AWS4-HMAC-SHA256 Credential=AKIAX/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=00'), 'iam');
  assert.equal(scopeService('garbage'), undefined);
  assert.equal(scopeService(undefined), undefined);
});
