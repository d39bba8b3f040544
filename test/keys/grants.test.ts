/**
 * The grant model as plain functions (src/keys/grants.ts): constraint semantics of grantAllows
 * (GrantConstraints API reference; create-grant-overview.html), the stricter-child rule for
 * CreateGrant through a grant, who may retire, CreateGrant validation by key type, idempotency
 * keys, and grant tokens (a known-answer vector computed independently with Python's hmac, and
 * tampering) — tokens against a real SQLite store and local root of trust.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Caller } from '../../src/identity/caller';
import {
  GRANT_TOKEN_LENGTH,
  INVALID_GRANT_TOKEN,
  callerGranteeArns,
  constraintsAtLeastAsStrict,
  decodeGrantToken,
  encodeGrantToken,
  encryptionContextSatisfies,
  findAllowingGrant,
  grantAllows,
  grantIdempotencyKey,
  grantOperationOf,
  grantTokenKey,
  grantableOperations,
  grantsForGrantee,
  issueGrantToken,
  mayRetireGrant,
  validateGrantForKey,
  validateGrantRequest,
  validateGrantTokens,
  type GrantCheck,
} from '../../src/keys/grants';
import type { GrantConstraintsRecord, GrantRecord } from '../../src/store/records';
import { CacheLayer } from '../../src/store/cache';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import { openLocalRootOfTrust } from '../../src/trust/local';
import { removeDir, tempDir } from '../helpers/server';
import { addGrant } from '../../src/keys/guarded-writes';

const ACCOUNT = '111122223333';
const KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const ALICE = `arn:aws:iam::${ACCOUNT}:user/alice`;
const BOB = `arn:aws:iam::${ACCOUNT}:user/bob`;
const ROOT = `arn:aws:iam::${ACCOUNT}:root`;
let counter = 0;

function grant(overrides: Partial<GrantRecord> = {}): GrantRecord {
  counter++;
  return {
    grantId: counter.toString(16).padStart(64, '0'),
    keyArn: KEY,
    region: 'us-east-1',
    issuingAccount: ACCOUNT,
    name: null,
    idempotencyKey: null,
    granteePrincipal: ALICE,
    granteeServicePrincipal: null,
    granteePrincipalId: null,
    retiringPrincipal: null,
    retiringServicePrincipal: null,
    operations: ['Decrypt', 'Encrypt', 'DescribeKey', 'ReEncryptFrom', 'ReEncryptTo', 'GenerateDataKey'],
    constraints: null,
    creationDate: 1_000,
    ...overrides,
  };
}

function check(operation: string, encryptionContext?: Record<string, string>, more: Partial<GrantCheck> = {}): GrantCheck {
  return { operation, granteePrincipalArns: [ALICE, ROOT], ...(encryptionContext ? { encryptionContext } : {}), ...more };
}

function throwsService(fn: () => unknown, name: string, message: string | RegExp): void {
  assert.throws(fn, (e: Error) => {
    assert.equal(e.name, name);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

describe('grantAllows', () => {
  test('allows only the grantee, only the granted operations; no grants allow nothing', () => {
    const g = grant();
    assert.equal(grantAllows([], check('Decrypt')), false);
    assert.equal(grantAllows([g], check('Decrypt')), true);
    assert.equal(grantAllows([g], check('GenerateDataKeyWithoutPlaintext')), false);
    assert.equal(grantAllows([g], { operation: 'Decrypt', granteePrincipalArns: [BOB] }), false);
    assert.equal(grantAllows([grant({ granteePrincipal: null, granteeServicePrincipal: 'logs.us-east-1.amazonaws.com' })], check('Decrypt')), false);
  });

  test('EncryptionContextSubset: every constraint pair in the request; more pairs are fine', () => {
    const g = grant({ constraints: { EncryptionContextSubset: { Department: 'Finance', Classification: 'Public' } } });
    // The examples of grants.html, "Grant constraints".
    assert.equal(grantAllows([g], check('Decrypt', { Department: 'Finance', Classification: 'Public' })), true);
    assert.equal(grantAllows([g], check('Decrypt', { Classification: 'Public', Department: 'Finance' })), true);
    assert.equal(grantAllows([g], check('Decrypt', { Customer: '12345', Department: 'Finance', Classification: 'Public', Purpose: 'Test' })), true);
    assert.equal(grantAllows([g], check('Decrypt', { Department: 'Finance' })), false);
    assert.equal(grantAllows([g], check('Decrypt', { department: 'finance', classification: 'public' })), false);
    assert.equal(grantAllows([g], check('Decrypt', { Classification: 'Public', Customer: '12345' })), false);
    assert.equal(grantAllows([g], check('Decrypt')), false);
  });

  test('EncryptionContextEquals: exactly the constraint pairs, in any order', () => {
    const g = grant({ constraints: { EncryptionContextEquals: { Department: 'IT' } } });
    assert.equal(grantAllows([g], check('Decrypt', { Department: 'IT' })), true);
    assert.equal(grantAllows([g], check('Decrypt', { Department: 'IT', Purpose: 'Test' })), false);
    assert.equal(grantAllows([g], check('Decrypt', {})), false);
    assert.equal(grantAllows([g], check('Decrypt')), false);
    assert.equal(grantAllows([g], check('Decrypt', { Department: 'it' })), false);
  });

  test('constraint keys match case-insensitively, values case-sensitively (GrantConstraints, "Important")', () => {
    const equals = grant({ constraints: { EncryptionContextEquals: { Department: 'IT' } } });
    const subset = grant({ constraints: { EncryptionContextSubset: { Department: 'IT' } } });
    assert.equal(grantAllows([equals], check('Encrypt', { DEPARTMENT: 'IT' })), true);
    assert.equal(grantAllows([subset], check('Encrypt', { department: 'IT', x: 'y' })), true);
    assert.equal(grantAllows([subset], check('Encrypt', { department: 'It' })), false);
  });

  test('both constraints must hold when a grant has both', () => {
    const g = grant({ constraints: { EncryptionContextSubset: { a: '1' }, EncryptionContextEquals: { a: '1', b: '2' } } });
    assert.equal(grantAllows([g], check('Decrypt', { a: '1', b: '2' })), true);
    assert.equal(grantAllows([g], check('Decrypt', { a: '1' })), false);
    assert.equal(encryptionContextSatisfies({ EncryptionContextSubset: { a: '1' }, EncryptionContextEquals: { b: '2' } }, { b: '2' }), false);
    assert.equal(encryptionContextSatisfies(null, undefined), true);
  });

  test('constraints do not apply to DescribeKey; ReEncryptFrom and ReEncryptTo check the context given for each side', () => {
    const g = grant({ constraints: { EncryptionContextEquals: { stage: 'prod' } } });
    assert.equal(grantAllows([g], check('DescribeKey')), true);
    assert.equal(grantAllows([g], check('DescribeKey', { other: 'x' })), true);
    assert.equal(grantAllows([g], check('ReEncryptFrom', { stage: 'prod' })), true);
    assert.equal(grantAllows([g], check('ReEncryptTo', { stage: 'dev' })), false);
    assert.equal(grantAllows([g], check('GenerateDataKey', { stage: 'prod' })), true);
  });

  test('RetireGrant is never decided by grantAllows (see mayRetireGrant)', () => {
    assert.equal(grantAllows([grant({ operations: ['RetireGrant', 'Decrypt'] })], check('RetireGrant')), false);
  });

  test('a grant never denies: a grant whose constraint fails adds nothing, another grant still allows', () => {
    const strict = grant({ constraints: { EncryptionContextEquals: { a: '1' } } });
    const open = grant({ operations: ['Decrypt'] });
    assert.equal(grantAllows([strict, open], check('Decrypt', { b: '2' })), true);
    assert.equal(findAllowingGrant([strict, open], check('Decrypt', { b: '2' })), open);
    assert.equal(findAllowingGrant([strict, open], check('Decrypt', { a: '1' })), strict);
  });

  test('SourceArn: required to match on cryptographic operations, on DescribeKey only when the request has one', () => {
    const src = 'arn:aws:logs:us-east-1:111122223333:log-group:app';
    const g = grant({ constraints: { SourceArn: src } });
    assert.equal(grantAllows([g], check('Decrypt', undefined, { sourceArn: src })), true);
    assert.equal(grantAllows([g], check('Decrypt')), false);
    assert.equal(grantAllows([g], check('Decrypt', undefined, { sourceArn: `${src}2` })), false);
    assert.equal(grantAllows([g], check('DescribeKey')), true);
    assert.equal(grantAllows([g], check('DescribeKey', undefined, { sourceArn: `${src}2` })), false);
  });

  test('callerGranteeArns: a session matches grants to its session ARN, its role and its account', () => {
    const role = `arn:aws:iam::${ACCOUNT}:role/path/app`;
    const session = `arn:aws:sts::${ACCOUNT}:assumed-role/app/s1`;
    const caller = {
      accountId: ACCOUNT,
      principalArn: session,
      principalId: 'AROAEXAMPLE:s1',
      principalType: 'AssumedRole',
      userName: null,
      accessKeyId: 'ASIAEXAMPLE',
      session: { issuer: { type: 'Role', principalId: 'AROAEXAMPLE', arn: role, accountId: ACCOUNT, userName: 'app' } },
    } as unknown as Caller;
    const arns = callerGranteeArns(caller);
    assert.deepEqual(arns, [session, role, ROOT]);
    for (const grantee of arns) assert.equal(grantAllows([grant({ granteePrincipal: grantee })], { operation: 'Decrypt', granteePrincipalArns: arns }), true);
    const root = { ...caller, principalArn: ROOT, principalType: 'Root', session: undefined } as unknown as Caller;
    assert.deepEqual(callerGranteeArns(root), [ROOT]);
  });

  test('grantOperationOf maps IAM actions to grant operations', () => {
    assert.equal(grantOperationOf('kms:Decrypt'), 'Decrypt');
    assert.equal(grantOperationOf('kms:ReEncryptFrom'), 'ReEncryptFrom');
    assert.equal(grantOperationOf('kms:ScheduleKeyDeletion'), undefined);
    assert.equal(grantOperationOf('Decrypt'), undefined);
  });
});

describe('CreateGrant through a grant', () => {
  const parent = (constraints: GrantConstraintsRecord | null): GrantRecord =>
    grant({ operations: ['GenerateDataKey', 'Decrypt', 'CreateGrant'], constraints });

  test('the child may have only operations of the parent', () => {
    const p = parent(null);
    assert.equal(grantAllows([p], check('CreateGrant', undefined, { childGrant: { operations: ['Decrypt', 'CreateGrant'], constraints: null } })), true);
    assert.equal(grantAllows([p], check('CreateGrant', undefined, { childGrant: { operations: ['Decrypt', 'ReEncryptFrom'], constraints: null } })), false);
    assert.equal(grantAllows([p], check('CreateGrant')), false, 'without the child grant, fail closed');
  });

  test('constraints must be equally strict or stricter (create-grant-overview.html)', () => {
    const subset = { EncryptionContextSubset: { Department: 'IT' } };
    const equals = { EncryptionContextEquals: { Department: 'IT' } };
    assert.equal(constraintsAtLeastAsStrict(null, null), true);
    assert.equal(constraintsAtLeastAsStrict(subset, null), true);
    assert.equal(constraintsAtLeastAsStrict(null, subset), false);
    assert.equal(constraintsAtLeastAsStrict({ EncryptionContextSubset: { Department: 'IT', Team: 'a' } }, subset), true, 'add pairs');
    assert.equal(constraintsAtLeastAsStrict({ EncryptionContextSubset: { Team: 'a' } }, subset), false, 'remove pairs');
    assert.equal(constraintsAtLeastAsStrict(equals, subset), true, 'Subset to Equals');
    assert.equal(constraintsAtLeastAsStrict({ EncryptionContextEquals: { Team: 'a' } }, subset), false);
    assert.equal(constraintsAtLeastAsStrict(subset, equals), false, 'not Equals to Subset');
    assert.equal(constraintsAtLeastAsStrict(equals, equals), true);
    assert.equal(constraintsAtLeastAsStrict({ EncryptionContextEquals: { department: 'IT' } }, equals), true);
    assert.equal(constraintsAtLeastAsStrict({ EncryptionContextEquals: { Department: 'IT', Team: 'a' } }, equals), false);
    assert.equal(constraintsAtLeastAsStrict({ ...equals, SourceArn: 'arn:aws:s3:::b' }, { SourceArn: 'arn:aws:s3:::b' }), true);
    assert.equal(constraintsAtLeastAsStrict(equals, { SourceArn: 'arn:aws:s3:::b' }), false);
    const p = parent(subset);
    assert.equal(grantAllows([p], check('CreateGrant', undefined, { childGrant: { operations: ['Decrypt'], constraints: equals } })), true);
    assert.equal(grantAllows([p], check('CreateGrant', undefined, { childGrant: { operations: ['Decrypt'], constraints: null } })), false);
  });
});

describe('mayRetireGrant', () => {
  test('the retiring principal, a grantee whose grant allows RetireGrant, and the issuing account root', () => {
    assert.equal(mayRetireGrant(grant({ retiringPrincipal: BOB }), [BOB]), 'retiring-principal');
    assert.equal(mayRetireGrant(grant({ operations: ['Decrypt', 'RetireGrant'] }), [ALICE]), 'grantee');
    assert.equal(mayRetireGrant(grant(), [ALICE]), undefined, 'a grantee without RetireGrant');
    assert.equal(mayRetireGrant(grant(), [ROOT]), 'issuing-account');
    assert.equal(mayRetireGrant(grant({ issuingAccount: '444455556666' }), [ROOT]), undefined);
    assert.equal(mayRetireGrant(grant({ retiringPrincipal: BOB, constraints: { EncryptionContextEquals: { a: 'b' } } }), [BOB]), 'retiring-principal');
  });
});

describe('CreateGrant validation', () => {
  const base = { GranteePrincipal: ALICE, Operations: ['Decrypt'] };

  test('normalises: duplicate operations dropped, empty constraint maps ignored, constraint keys sorted', () => {
    const v = validateGrantRequest({ ...base, Operations: ['Decrypt', 'Encrypt', 'Decrypt'], Constraints: { EncryptionContextEquals: {}, EncryptionContextSubset: { b: '2', a: '1' } } });
    assert.deepEqual(v.operations, ['Decrypt', 'Encrypt']);
    assert.deepEqual(v.constraints, { EncryptionContextSubset: { a: '1', b: '2' } });
    assert.deepEqual(Object.keys(v.constraints!.EncryptionContextSubset!), ['a', 'b']);
    assert.equal(validateGrantRequest({ ...base, Constraints: {} }).constraints, null);
  });

  test('refuses a grant of CreateGrant alone, with AWS\'s message', () => {
    throwsService(() => validateGrantRequest({ ...base, Operations: ['CreateGrant', 'CreateGrant'] }), 'ValidationException', 'Grants must not contain only the CreateGrant operation.');
  });

  test('principal formats: IAM and STS principals and service principals, never groups or other resources', () => {
    for (const p of [ROOT, ALICE, `arn:aws:iam::${ACCOUNT}:role/a/b/c`, `arn:aws:sts::${ACCOUNT}:assumed-role/r/s`, `arn:aws:iam::${ACCOUNT}:federated-user/f`, 'ec2.amazonaws.com', 'dynamodb.us-west-2.amazonaws.com']) {
      assert.doesNotThrow(() => validateGrantRequest({ ...base, GranteePrincipal: p }), p);
    }
    for (const p of [`arn:aws:iam::${ACCOUNT}:group/g`, `arn:aws:iam::${ACCOUNT}:policy/p`, ACCOUNT, 'arn:aws:sts::111:assumed-role/r/s', `arn:aws:kms:us-east-1:${ACCOUNT}:key/x`]) {
      throwsService(() => validateGrantRequest({ ...base, GranteePrincipal: p }), 'InvalidArnException', /^GranteePrincipal must be/);
    }
  });

  test('operations must suit the key type', () => {
    const symmetric = { arn: KEY, keySpec: 'SYMMETRIC_DEFAULT', keyUsage: 'ENCRYPT_DECRYPT' };
    const rsaSign = { arn: KEY, keySpec: 'RSA_2048', keyUsage: 'SIGN_VERIFY' };
    const rsaEncrypt = { arn: KEY, keySpec: 'RSA_2048', keyUsage: 'ENCRYPT_DECRYPT' };
    const hmac = { arn: KEY, keySpec: 'HMAC_256', keyUsage: 'GENERATE_VERIFY_MAC' };
    const ecdh = { arn: KEY, keySpec: 'ECC_NIST_P256', keyUsage: 'KEY_AGREEMENT' };
    const mlkem = { arn: KEY, keySpec: 'ML_KEM_768', keyUsage: 'ENCAPSULATE_DECAPSULATE' };
    const ok = (key: typeof symmetric, ops: string[]): void => validateGrantForKey(validateGrantRequest({ ...base, Operations: ops }), key);
    ok(symmetric, ['GenerateDataKeyPair', 'ReEncryptTo', 'CreateGrant']);
    ok(rsaSign, ['Sign', 'Verify', 'GetPublicKey', 'DescribeKey', 'RetireGrant']);
    ok(rsaEncrypt, ['Encrypt', 'Decrypt', 'GetPublicKey']);
    ok(hmac, ['GenerateMac', 'VerifyMac']);
    ok(ecdh, ['DeriveSharedSecret', 'GetPublicKey']);
    ok(mlkem, ['Encapsulate', 'Decapsulate']);
    throwsService(() => ok(rsaEncrypt, ['GenerateDataKey']), 'ValidationException', /^The operation GenerateDataKey cannot be granted on /);
    throwsService(() => ok(rsaSign, ['Encrypt']), 'ValidationException', /KeySpec RSA_2048 and KeyUsage SIGN_VERIFY do not support it\.$/);
    throwsService(() => ok(hmac, ['Sign']), 'ValidationException', /^The operation Sign cannot be granted/);
    assert.equal(grantableOperations(symmetric).has('Sign'), false);
  });

  test('encryption context constraints only on symmetric encryption keys', () => {
    const req = validateGrantRequest({ ...base, Operations: ['Sign'], Constraints: { EncryptionContextSubset: { a: 'b' } } });
    throwsService(
      () => validateGrantForKey(req, { arn: KEY, keySpec: 'ECC_NIST_P256', keyUsage: 'SIGN_VERIFY' }),
      'ValidationException',
      `Encryption context grant constraints are not supported on ${KEY}: its operations do not take an encryption context.`,
    );
    const src = validateGrantRequest({ ...base, Operations: ['Sign'], Constraints: { SourceArn: 'arn:aws:s3:::bucket' } });
    assert.doesNotThrow(() => validateGrantForKey(src, { arn: KEY, keySpec: 'ECC_NIST_P256', keyUsage: 'SIGN_VERIFY' }));
  });

  test('idempotency keys: same grant, same key, whatever the order; null without a name', () => {
    const a = validateGrantRequest({ ...base, Name: 'n', Operations: ['Decrypt', 'Encrypt'], Constraints: { EncryptionContextSubset: { x: '1', y: '2' } } });
    const b = validateGrantRequest({ ...base, Name: 'n', Operations: ['Encrypt', 'Decrypt'], Constraints: { EncryptionContextSubset: { y: '2', x: '1' } } });
    const k = grantIdempotencyKey(KEY, ACCOUNT, a);
    assert.match(k!, /^[0-9a-f]{64}$/);
    assert.equal(grantIdempotencyKey(KEY, ACCOUNT, b), k);
    assert.notEqual(grantIdempotencyKey(KEY, '444455556666', a), k);
    assert.notEqual(grantIdempotencyKey(KEY, ACCOUNT, validateGrantRequest({ ...base, Name: 'n', GranteePrincipal: BOB, Operations: ['Decrypt', 'Encrypt'] })), k);
    assert.equal(grantIdempotencyKey(KEY, ACCOUNT, validateGrantRequest(base)), null);
  });
});

describe('grant tokens', () => {
  const key = Buffer.alloc(32, 1);
  const id = '0c237476b39f8bc44e45212e08498fbe3151305030726c0590dd8d3e9f3d6a60';
  // HMAC-SHA256 computed independently (Python hmac) over "keyhold/grant-token/v1\0" | 01 | id | 02*16.
  const VECTOR = 'AQwjdHazn4vETkUhLghJj74xUTBQMHJsBZDdjT6fPWpgAgICAgICAgICAgICAgICAvmI5DCORm5kRmfDj5ncib86pr9tgX34IACdQKrE1fqP';

  test('known-answer vector; decodes to its grant id', () => {
    assert.equal(encodeGrantToken(id, key, Buffer.alloc(16, 2)), VECTOR);
    assert.equal(VECTOR.length, GRANT_TOKEN_LENGTH);
    assert.equal(decodeGrantToken(VECTOR, key), id);
  });

  test('each token is fresh, all name the same grant', () => {
    const a = encodeGrantToken(id, key);
    const b = encodeGrantToken(id, key);
    assert.notEqual(a, b);
    assert.equal(decodeGrantToken(a, key), id);
    assert.equal(decodeGrantToken(b, key), id);
  });

  test('any altered character, another key, a wrong length or alphabet is not a token', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let i = 0; i < VECTOR.length; i++) {
      const c = VECTOR[i] as string;
      const other = alphabet[(alphabet.indexOf(c) + 1) % 64] as string;
      assert.equal(decodeGrantToken(VECTOR.slice(0, i) + other + VECTOR.slice(i + 1), key), undefined, `position ${i}`);
    }
    assert.equal(decodeGrantToken(VECTOR, Buffer.alloc(32, 3)), undefined);
    assert.equal(decodeGrantToken(VECTOR.slice(1), key), undefined);
    assert.equal(decodeGrantToken(`${VECTOR}A`, key), undefined);
    assert.equal(decodeGrantToken(`${VECTOR.slice(0, -1)}=`, key), undefined);
    assert.equal(decodeGrantToken(`${VECTOR.slice(0, -1)}+`, key), undefined, 'base64, not base64url');
    assert.equal(decodeGrantToken('', key), undefined);
  });

  describe('against a store and a root of trust', () => {
    let dir: string;
    let store: SqliteStore;
    const trust = (): ReturnType<typeof openLocalRootOfTrust> => openLocalRootOfTrust({ dataDir: dir });
    let deps: { store: SqliteStore; trust: ReturnType<typeof openLocalRootOfTrust> };

    before(async () => {
      dir = tempDir();
      store = new SqliteStore({ path: join(dir, 'grants.db') });
      await store.migrate();
      deps = { store, trust: trust() };
      await store.ensureAccount(ACCOUNT, 1);
      await store.createKey(
        {
          keyId: '1234abcd-12ab-34cd-56ef-1234567890ab', arn: KEY, accountId: ACCOUNT, region: 'us-east-1', keySpec: 'SYMMETRIC_DEFAULT',
          keyUsage: 'ENCRYPT_DECRYPT', origin: 'AWS_KMS', keyManager: 'CUSTOMER', state: 'Enabled', description: '', policy: '{}',
          multiRegion: false, creationDate: 1, deletionDate: null, pendingWindowInDays: null, currentVersion: 1, rotationEnabled: false,
          rotationPeriodInDays: null, nextRotationDate: null, onDemandRotationStartDate: null, expirationModel: null, validTo: null,
          multiRegionKeyType: null, primaryRegion: null,
        },
        null,
        [],
      );
    });
    after(async () => {
      await store.close();
      removeDir(dir);
    });

    test('the MAC key is made once and shared: a second process (store) converges on it', async () => {
      const k1 = await grantTokenKey(deps);
      const other = new SqliteStore({ path: join(dir, 'grants.db') });
      try {
        const k2 = await grantTokenKey({ store: other, trust: trust() });
        assert.ok(k1.equals(k2));
      } finally {
        await other.close();
      }
    });

    test('validateGrantTokens returns the grants named, skips retired ones, and fails on any forged token', async () => {
      const g1 = grant();
      const g2 = grant({ granteePrincipal: BOB });
      assert.equal(await addGrant(store, g1, 10, () => undefined), g1);
      assert.equal(await addGrant(store, g2, 10, () => undefined), g2);
      const t1 = await issueGrantToken(deps, g1.grantId);
      const t1b = await issueGrantToken(deps, g1.grantId);
      const t2 = await issueGrantToken(deps, g2.grantId);
      assert.deepEqual((await validateGrantTokens([t1, t1b, t2], deps)).map((g) => g.grantId), [g1.grantId, g2.grantId]);
      assert.deepEqual(await validateGrantTokens(undefined, deps), []);
      await assert.rejects(validateGrantTokens([t1, encodeGrantToken(g2.grantId, Buffer.alloc(32))], deps), (e: Error) => {
        assert.equal(e.name, 'InvalidGrantTokenException');
        assert.equal(e.message, INVALID_GRANT_TOKEN);
        return true;
      });
      assert.equal(await store.deleteGrant(KEY, g2.grantId), true);
      assert.deepEqual((await validateGrantTokens([t1, t2], deps)).map((g) => g.grantId), [g1.grantId]);
    });

    test('grantsForGrantee caches per key and principals until the change feed reports a change to the key\'s grants', async () => {
      const caches = new CacheLayer(store.changes);
      const g = grant({ granteePrincipal: `arn:aws:iam::${ACCOUNT}:user/carol` });
      const arns = [g.granteePrincipal as string];
      assert.deepEqual(await grantsForGrantee(caches, store, KEY, arns), []);
      await addGrant(store, g, 10, () => undefined);
      // This process's own commit reaches the cache before the write returns: no forgetting by hand.
      assert.deepEqual((await grantsForGrantee(caches, store, KEY, arns)).map((x) => x.grantId), [g.grantId]);
      const other = new SqliteStore({ path: join(dir, 'grants.db') });
      try {
        await other.deleteGrant(KEY, g.grantId);
      } finally {
        await other.close();
      }
      // Another connection's commit is seen at the next refresh (the server runs one per request).
      await new Promise((r) => setImmediate(r));
      caches.refresh();
      assert.deepEqual(await grantsForGrantee(caches, store, KEY, arns), [], 'another connection committed');
    });
  });
});

test('a grant bound to a unique id applies only to that principal, not to a later one of the same ARN (issue 12 item 8)', () => {
  const g = grant({ granteePrincipalId: 'AIDAALICEFIRSTALICE23' });
  const check = { operation: 'Encrypt', granteePrincipalArns: [ALICE] };
  assert.equal(grantAllows([g], { ...check, granteeUniqueId: 'AIDAALICEFIRSTALICE23' }), true);
  assert.equal(grantAllows([g], { ...check, granteeUniqueId: 'AIDAALICESECONDALICE2' }), false);
  assert.equal(grantAllows([grant()], { ...check, granteeUniqueId: 'AIDAALICESECONDALICE2' }), true, 'an unbound grant matches by ARN');
  assert.equal(mayRetireGrant({ ...g, operations: ['RetireGrant'] }, [ALICE], 'AIDAALICESECONDALICE2'), undefined);
  assert.equal(mayRetireGrant({ ...g, operations: ['RetireGrant'] }, [ALICE], 'AIDAALICEFIRSTALICE23'), 'grantee');
});
