/**
 * Bad input gets a clear AWS-shaped error (the brief): 3,000 KMS calls over the wire whose
 * inputs are drawn from each operation's model shape (src/model/kms-inputs.ts) — mostly values
 * of the right type, some out of their limits, some of the wrong type, some bodies that are not
 * JSON at all — against keys of every usage. Whatever the input, the answer is 200 or a 4xx
 * whose body names an error `__type` and a message, never a 5xx or a dropped connection, an
 * error never echoes the plaintext it was given, and the server still serves afterwards.
 *
 * The inputs come from a fixed-seed generator, so every run sends the same requests in the same
 * order; a failure names the seed's request number, the operation and the body, which replays it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CreateKeyCommand, EncryptCommand, type CreateKeyCommandInput, type KeyMetadata } from '@aws-sdk/client-kms';
import { KMS_INPUTS } from '../../src/model/kms-inputs';
import type { Shape } from '../../src/model/shape-types';
import { startServer, stopAndRemove, type TestServer } from '../helpers/server';
import { send, sign } from '../identity/wire';

const SEED = 20261207;
const CALLS = 3000;

/** A small deterministic generator (a 32-bit LCG): the same seed, the same requests. */
class Draw {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  next(): number {
    this.#s = (Math.imul(this.#s, 1664525) + 1013904223) >>> 0;
    return this.#s / 0x1_0000_0000;
  }
  pick<T>(a: readonly T[]): T {
    return a[Math.floor(this.next() * a.length)] as T;
  }
}

/** Keys of every usage, made through the SDK before the random calls. */
const KEY_SPECS: Readonly<Record<string, CreateKeyCommandInput>> = {
  symmetric: {},
  rsaSign: { KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' },
  rsaEncrypt: { KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' },
  ecdsa: { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' },
  hmac: { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' },
  agreement: { KeySpec: 'ECC_NIST_P256', KeyUsage: 'KEY_AGREEMENT' },
  mlKem: { KeySpec: 'ML_KEM_768', KeyUsage: 'ENCAPSULATE_DECAPSULATE' },
  mlDsa: { KeySpec: 'ML_DSA_44', KeyUsage: 'SIGN_VERIFY' },
  external: { Origin: 'EXTERNAL' },
};

let server: TestServer;
const keys: KeyMetadata[] = [];
let ciphertext = '';

before(async () => {
  server = await startServer();
  const kms = server.client();
  for (const input of Object.values(KEY_SPECS)) keys.push((await kms.send(new CreateKeyCommand(input))).KeyMetadata!);
  const enc = await kms.send(new EncryptCommand({ KeyId: keys[0]!.KeyId, Plaintext: Buffer.from('random input') }));
  ciphertext = Buffer.from(enc.CiphertextBlob!).toString('base64');
  fillKeyIds();
});
after(async () => {
  await stopAndRemove(server);
});

/** Values of no member's type, or out of every limit. */
const WRONG: readonly unknown[] = [null, 0, -1, 1.5, 2 ** 53, true, '', 'x', {}, [], [null], { a: 1 }, '\ud800', 'A'.repeat(70_000), 'NaN', 1e308];
/** Bodies that are not a JSON object. */
const NOT_AN_OBJECT: readonly string[] = ['', '{', 'null', '[]', '"x"', '{"KeyId":', '{}}', '\u0000', '{"a":'.repeat(1000)];

/** KeyId values: every key's id and ARN, and names that resolve to nothing or are malformed (filled in `before`). */
const keyIds: string[] = [];

function fillKeyIds(): void {
  const account = server.accountId;
  keyIds.push(
    ...keys.flatMap((k) => [k.KeyId!, k.Arn!]),
    'alias/aws/ebs', 'alias/aws/s3', 'alias/missing', 'alias/', 'alias/aws/', '', ' ', 'x'.repeat(2049), '\u0000',
    '1234abcd-12ab-34cd-56ef-1234567890ab', 'mrk-1234', 'arn:', 'arn:aws:kms',
    'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    `arn:aws:kms:us-west-2:${account}:key/${keys[0]!.KeyId}`,
    `arn:aws:kms:us-east-1:${account}:alias/aws/ebs`,
  );
}

/** A value for a member of `shape` named `name`. */
function value(d: Draw, shape: Shape, name: string, depth: number): unknown {
  if (d.next() < 0.03) return d.pick(WRONG);
  if (/^(KeyId|TargetKeyId|DestinationKeyId|SourceKeyId)$/.test(name)) return d.pick(keyIds);
  switch (shape.type) {
    case 'string':
      if (shape.enum !== undefined && d.next() < 0.7) return d.pick(shape.enum);
      return d.pick(['', 'a', 'x'.repeat((shape.max ?? 4999) + 1), `alias/test-${Math.floor(d.next() * 5)}`, keys[0]!.KeyId!,
        'arn:aws:iam::111122223333:root', '{"Version":"2012-10-17","Statement":[]}', '{', 'RAW', 'DIGEST', 'SYMMETRIC_DEFAULT', '\u2603', '1', 'a\u0000b']);
    case 'blob':
      return d.pick([ciphertext, Buffer.alloc(Math.floor(d.next() * 300), 7).toString('base64'), '', '!!!', 'AAAA', 'AA=', 'AAAA====', 'Y Q==',
        Buffer.alloc(4097, 1).toString('base64'), Buffer.alloc(5000, 2).toString('base64')]);
    case 'integer':
      return d.pick([shape.min ?? 0, shape.max ?? 1000, (shape.min ?? 0) - 1, (shape.max ?? 1000) + 1, 7, 30, 1024, 0, -5, 1.5]);
    case 'double':
      return d.pick([0, 1.5, -1]);
    case 'boolean':
      return d.next() < 0.5;
    case 'timestamp':
      return d.pick([0, 1_700_000_000, -1, 'x', 1e20]);
    case 'list':
      return depth > 3 ? [] : Array.from({ length: d.pick([0, 1, 2, 51]) }, () => value(d, shape.member, 'member', depth + 1));
    case 'map': {
      const out: Record<string, unknown> = {};
      if (depth > 3) return out;
      for (let i = 0, n = d.pick([0, 1, 3, 70]); i < n; i++) {
        out[d.pick(['k', 'aws:x', '', `K${i}`, 'x'.repeat(300)])] = value(d, shape.value ?? { type: 'string' }, 'value', depth + 1);
      }
      return out;
    }
    case 'structure': {
      const out: Record<string, unknown> = {};
      for (const [m, s] of Object.entries(shape.members)) if ((s.required === true && d.next() < 0.97) || d.next() < 0.4) out[m] = value(d, s, m, depth + 1);
      return out;
    }
    default:
      return null;
  }
}

test(`${CALLS} calls with inputs drawn from the model: 200 or an AWS-shaped 4xx, never a 5xx`, { timeout: 900_000 }, async () => {
  const d = new Draw(SEED);
  const ops = Object.keys(KMS_INPUTS);
  const statuses = new Map<number, number>();
  for (let i = 0; i < CALLS; i++) {
    const op = d.pick(ops);
    const input = d.next() < 0.03 ? undefined : (value(d, KMS_INPUTS[op]!, op, 0) as Record<string, unknown>);
    const body = input === undefined ? d.pick(NOT_AN_OBJECT) : JSON.stringify(input);
    const where = `call ${i} (seed ${SEED}): ${op} ${body.slice(0, 300)}`;
    const headers = await sign(server.port, 'kms', 'us-east-1', { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `TrentService.${op}` }, body, server.credentials);
    const a = await send(server.port, headers, body);
    statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
    assert.ok(a.status === 200 || (a.status >= 400 && a.status < 500), `HTTP ${a.status} for ${where}: ${a.body.slice(0, 300)}`);
    if (a.status === 200) continue;
    const error = JSON.parse(a.body) as { __type?: unknown; message?: unknown };
    assert.equal(typeof error.__type, 'string', `no __type for ${where}: ${a.body.slice(0, 300)}`);
    assert.equal(typeof error.message, 'string', `no message for ${where}: ${a.body.slice(0, 300)}`);
    const plaintext = input?.Plaintext;
    if (typeof plaintext === 'string' && plaintext.length >= 8) assert.ok(!a.body.includes(plaintext), `the error echoes the plaintext for ${where}`);
  }
  // Both outcomes occur, so the inputs reach the operations as well as their validation.
  assert.ok((statuses.get(200) ?? 0) >= 50, `only ${statuses.get(200) ?? 0} calls succeeded: ${JSON.stringify([...statuses])}`);
  assert.ok((statuses.get(400) ?? 0) >= 500, `only ${statuses.get(400) ?? 0} calls were refused: ${JSON.stringify([...statuses])}`);
  // And the server still serves (with a new key: the random calls may have disabled the others).
  const kms = server.client();
  const fresh = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
  const enc = await kms.send(new EncryptCommand({ KeyId: fresh.KeyId, Plaintext: Buffer.from('still here') }));
  assert.ok((enc.CiphertextBlob?.length ?? 0) > 0);
});
