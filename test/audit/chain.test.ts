/**
 * The hash chain, digests and record projections as units: known answers for the chain, the
 * CloudTrail-style digest signing string, digest continuity and retention declarations, and the
 * lowerCamelCase projections that keep secrets out of requestParameters and responseElements.
 */
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  chainLink,
  digestSignatureValid,
  digestSigningString,
  genesisHash,
  nextDigest,
  publicKeyFingerprint,
  sha256Hex,
  signDigest,
} from '../../src/audit/chain';
import { newEventId } from '../../src/audit/event-id';
import { awsRecordDate, requestParameters, responseElements } from '../../src/audit/request-parameters';
import { structure } from '../../src/operations/shape';

describe('hash chain', () => {
  test('genesis is SHA-256 of a labelled trail id and stream; links hash the previous value and the record bytes', () => {
    assert.equal(genesisHash('t-1', 0).toString('hex'), sha256Hex('keyhold/audit/v1/genesis\0t-1\0' + '0'));
    assert.notDeepEqual(genesisHash('t-1', 0), genesisHash('t-1', 1));
    const prev = Buffer.alloc(32, 7);
    const body = '{"eventName":"Encrypt","x":"é"}';
    assert.deepEqual(chainLink(prev, body), createHash('sha256').update(prev).update(Buffer.from(body, 'utf8')).digest());
  });

  test('event ids are UUIDv7 GUIDs naming their millisecond', () => {
    const id = newEventId(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(parseInt(id.slice(0, 8) + id.slice(9, 13), 16), Date.UTC(2026, 0, 2, 3, 4, 5, 678));
    assert.notEqual(newEventId(1), newEventId(1));
  });
});

describe('digests', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const fingerprint = publicKeyFingerprint(publicKey);
  const heads = new Map([
    [0, { seq: 3, hash: Buffer.alloc(32, 1) }],
    [1, { seq: 0, hash: genesisHash('trail', 1) }],
  ]);

  test('the first digest starts every stream at its genesis; the next continues each range', () => {
    const d1 = nextDigest(heads, undefined, { trailId: 'trail', reason: 'start', now: Date.UTC(2026, 0, 1), fingerprint });
    assert.equal(d1.digestSeq, 1);
    assert.equal(d1.previousDigestSeq, null);
    assert.equal(d1.digestEndTime, '2026-01-01T00:00:00Z');
    assert.deepEqual(d1.streams[0], { stream: 0, firstSeq: 1, lastSeq: 3, startHash: genesisHash('trail', 0).toString('hex'), endHash: '01'.repeat(32), prunedThroughSeq: 0 });
    const row1 = { seq: 1, ...signDigest(d1, privateKey) };
    const more = new Map(heads);
    more.set(0, { seq: 5, hash: Buffer.alloc(32, 2) });
    more.set(2, { seq: 1, hash: Buffer.alloc(32, 3) });
    const d2 = nextDigest(more, row1, { trailId: 'trail', reason: 'interval', now: Date.UTC(2026, 0, 1, 1), fingerprint });
    assert.equal(d2.previousDigestSeq, 1);
    assert.equal(d2.previousDigestHashValue, sha256Hex(row1.body));
    assert.equal(d2.previousDigestSignature, row1.signature);
    assert.equal(d2.digestStartTime, d1.digestEndTime);
    assert.deepEqual(d2.streams.map((s) => [s.stream, s.firstSeq, s.lastSeq]), [[0, 4, 5], [1, 1, 0], [2, 1, 1]]);
    assert.equal(d2.streams[0]!.startHash, d1.streams[0]!.endHash);
    const d3 = nextDigest(more, { seq: 2, ...signDigest(d2, privateKey) }, {
      trailId: 'trail', reason: 'prune', now: Date.UTC(2026, 0, 2), fingerprint, prune: { throughDigest: 1, throughSeq: new Map([[0, 3]]) },
    });
    assert.equal(d3.prunedThroughDigest, 1);
    assert.equal(d3.streams[0]!.prunedThroughSeq, 3);
    const d4 = nextDigest(more, { seq: 3, ...signDigest(d3, privateKey) }, { trailId: 'trail', reason: 'interval', now: Date.UTC(2026, 0, 3), fingerprint });
    assert.equal(d4.prunedThroughDigest, 1, 'a retention cut stays declared in every later digest');
    assert.equal(d4.streams[0]!.prunedThroughSeq, 3);
  });

  test('signatures cover the CloudTrail-style signing string and nothing else verifies', () => {
    const d = nextDigest(heads, undefined, { trailId: 'trail', reason: 'start', now: Date.UTC(2026, 0, 1), fingerprint });
    const { body, signature } = signDigest(d, privateKey);
    assert.equal(digestSigningString(d, body), `2026-01-01T00:00:00Z\ntrail/1\n${sha256Hex(body)}\nnull`);
    assert.ok(digestSignatureValid(body, signature, publicKey));
    assert.ok(!digestSignatureValid(body.replace('"start"', '"stop"'), signature, publicKey));
    assert.ok(!digestSignatureValid(body, signature.replace(/^./, (c) => (c === '0' ? '1' : '0')), publicKey));
    assert.ok(!digestSignatureValid(body, signature, generateKeyPairSync('ed25519').publicKey));
    assert.ok(!digestSignatureValid('not json', signature, publicKey));
  });
});

describe('record projections', () => {
  const shape = structure({
    KeyId: { type: 'string' },
    Plaintext: { type: 'blob', sensitive: true },
    EncryptionContext: { type: 'map' },
    GrantTokens: { type: 'list', member: { type: 'string' } },
    Tags: { type: 'list', member: structure({ TagKey: { type: 'string' }, TagValue: { type: 'string' } }) },
    KeyStorePassword: { type: 'string' },
    XksProxyAuthenticationCredential: structure({ AccessKeyId: { type: 'string' }, RawSecretAccessKey: { type: 'string' } }),
    NumberOfBytes: { type: 'integer' },
  });

  test('requestParameters keep declared members in lowerCamelCase and drop blobs, secrets and undeclared members', () => {
    const out = requestParameters(shape, {
      KeyId: 'alias/x',
      Plaintext: 'c2VjcmV0',
      EncryptionContext: { Tenant: 'acme' },
      GrantTokens: ['t1'],
      Tags: [{ TagKey: 'k', TagValue: 'v' }],
      KeyStorePassword: 'hunter2',
      XksProxyAuthenticationCredential: { AccessKeyId: 'AKID', RawSecretAccessKey: 'raw-secret' },
      NumberOfBytes: 'not a number',
      Injected: 'should not appear',
    });
    assert.deepEqual(out, {
      keyId: 'alias/x',
      encryptionContext: { Tenant: 'acme' },
      grantTokens: ['t1'],
      tags: [{ tagKey: 'k', tagValue: 'v' }],
      // The whole XKS credential is redacted (model/overlays/audit-redact.json; its AccessKeyId is sensitive in the model).
    });
    assert.equal(requestParameters(shape, undefined), null);
    assert.equal(requestParameters(shape, { Plaintext: 'eA==' }), null);
  });

  test('responseElements drop blobs and tokens and write dates as AWS records do', () => {
    const out = responseElements(JSON.stringify({
      KeyMetadata: { AWSAccountId: '111122223333', CreationDate: 1740909771, KeyId: 'k' },
      GrantToken: 'secret-token',
      GrantId: 'g',
      CiphertextBlob: 'AAAA',
      Plaintext: 'AAAA',
    }));
    assert.deepEqual(out, { keyMetadata: { aWSAccountId: '111122223333', creationDate: 'Mar 2, 2025, 10:02:51 AM', keyId: 'k' }, grantId: 'g' });
    assert.equal(responseElements(''), null);
    assert.equal(awsRecordDate(Date.UTC(2022, 7, 10, 22, 38, 27) / 1000), 'Aug 10, 2022, 10:38:27 PM');
    assert.equal(awsRecordDate(Date.UTC(2022, 7, 10, 0, 5, 7) / 1000), 'Aug 10, 2022, 12:05:07 AM');
  });
});
