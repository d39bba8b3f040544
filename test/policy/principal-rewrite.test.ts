/** replacePrincipal: a deleted user's or role's ARN becomes its unique id in Principal/NotPrincipal (issue 12 item 8). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePolicy } from '../../src/policy/evaluate';
import { replacePrincipal } from '../../src/policy/principal-rewrite';

const ARN = 'arn:aws:iam::111122223333:user/Alice';
const ID = 'AIDAABCDEFGHIJKLMNOPQ';

test('replaces the ARN (any case) in AWS principal strings and lists; leaves everything else', () => {
  const doc = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Sid: 'a', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:user/alice' }, Action: 'kms:*', Resource: '*' },
      { Effect: 'Allow', Principal: { AWS: ['arn:aws:iam::111122223333:root', ARN] }, Action: 'kms:Encrypt', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalArn': ARN } } },
      { Effect: 'Deny', NotPrincipal: { AWS: ARN }, Action: 'kms:Decrypt', Resource: '*' },
    ],
  });
  const out = JSON.parse(replacePrincipal(doc, ARN, ID) as string);
  assert.deepEqual(out.Statement[0].Principal, { AWS: ID });
  assert.deepEqual(out.Statement[1].Principal, { AWS: ['arn:aws:iam::111122223333:root', ID] });
  assert.deepEqual(out.Statement[1].Condition, { StringEquals: { 'aws:PrincipalArn': ARN } }, 'conditions are not principals');
  assert.deepEqual(out.Statement[2].NotPrincipal, { AWS: ID });
  // The rewritten document is still a valid policy (unique ids are accepted as principals and match nobody).
  assert.equal(compilePolicy(JSON.stringify(out), 'resource').kind, 'resource');
});

test('undefined when the document does not name the ARN, or is not JSON', () => {
  assert.equal(replacePrincipal(JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: '*', Action: '*' }] }), ARN, ID), undefined);
  assert.equal(replacePrincipal(JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { AWS: `${ARN}2` }, Action: '*' }] }), ARN, ID), undefined);
  assert.equal(replacePrincipal('{not json', ARN, ID), undefined);
});
