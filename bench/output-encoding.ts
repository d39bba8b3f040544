/**
 * Cost of encoding an operation's output (issue 8, "performance guard"): the generated-shape
 * encoder (src/protocol/json-encoder.ts: closures compiled once per shape, text built by
 * concatenation) against what the operations did before it — build the wire object with the
 * blob already base64 and the timestamps already in seconds, then JSON.stringify it. Both
 * sides produce the same bytes (checked first). Alternating rounds; medians of ns per call.
 *
 * A benchmark, not a test. Usage: node dist/bench/output-encoding.js [--rounds 7] [--iterations 200000]
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { KMS_OUTPUTS } from '../src/model/kms-outputs';
import { encodeJson } from '../src/protocol/json-encoder';

const ARN = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const CIPHERTEXT = randomBytes(64 + 97); // a 64-byte plaintext's ciphertext, about
const CREATED = 1_733_520_000_123;
const PLAINTEXT = randomBytes(64);

interface Case {
  readonly name: string;
  before(): string;
  after(): string;
}

const CASES: readonly Case[] = [
  {
    name: 'Encrypt',
    before: () => JSON.stringify({ CiphertextBlob: CIPHERTEXT.toString('base64'), KeyId: ARN, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' }),
    after: () => encodeJson(KMS_OUTPUTS.Encrypt, { CiphertextBlob: CIPHERTEXT, KeyId: ARN, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' }),
  },
  {
    name: 'Decrypt',
    before: () => {
      const plaintext = Buffer.from(PLAINTEXT);
      try {
        return JSON.stringify({ KeyId: ARN, Plaintext: plaintext.toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
      } finally {
        plaintext.fill(0);
      }
    },
    after: () => encodeJson(KMS_OUTPUTS.Decrypt, { KeyId: ARN, Plaintext: Buffer.from(PLAINTEXT), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' }),
  },
  {
    name: 'GenerateDataKey',
    before: () => {
      const plaintext = randomBytes(32);
      try {
        return JSON.stringify({ CiphertextBlob: CIPHERTEXT.toString('base64'), Plaintext: plaintext.toString('base64'), KeyId: ARN });
      } finally {
        plaintext.fill(0);
      }
    },
    after: () => encodeJson(KMS_OUTPUTS.GenerateDataKey, { CiphertextBlob: CIPHERTEXT, Plaintext: randomBytes(32), KeyId: ARN }),
  },
  {
    name: 'DescribeKey',
    before: () => JSON.stringify({ KeyMetadata: metadata(CREATED / 1000) }),
    after: () => encodeJson(KMS_OUTPUTS.DescribeKey, { KeyMetadata: metadata(CREATED) }),
  },
];

function metadata(creationDate: number): Record<string, unknown> {
  return {
    AWSAccountId: '111122223333', KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab', Arn: ARN, CreationDate: creationDate, Enabled: true,
    Description: 'bench', KeyUsage: 'ENCRYPT_DECRYPT', KeyState: 'Enabled', Origin: 'AWS_KMS', KeyManager: 'CUSTOMER',
    CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT', KeySpec: 'SYMMETRIC_DEFAULT', EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'], MultiRegion: false,
  };
}

function nsPerCall(f: () => string, iterations: number): number {
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) sink += f().length;
  const ns = Number(process.hrtime.bigint() - t0) / iterations;
  if (sink === 0) throw new Error('unreachable');
  return ns;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function main(): void {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '7' }, iterations: { type: 'string', default: '200000' } } });
  const rounds = Number(values.rounds);
  const iterations = Number(values.iterations);
  for (const c of CASES) {
    // Same bytes up to member order (the encoder writes the model's); GenerateDataKey's plaintext is random.
    if (c.name !== 'GenerateDataKey' && JSON.stringify(sortKeys(JSON.parse(c.before()))) !== JSON.stringify(sortKeys(JSON.parse(c.after())))) {
      throw new Error(`${c.name}: outputs differ`);
    }
    nsPerCall(c.before, iterations);
    nsPerCall(c.after, iterations);
    const before: number[] = [];
    const after: number[] = [];
    for (let r = 0; r < rounds; r++) {
      if (r % 2 === 0) {
        before.push(nsPerCall(c.before, iterations));
        after.push(nsPerCall(c.after, iterations));
      } else {
        after.push(nsPerCall(c.after, iterations));
        before.push(nsPerCall(c.before, iterations));
      }
    }
    process.stdout.write(`${c.name.padEnd(16)} before ${median(before).toFixed(0)} ns/call  after ${median(after).toFixed(0)} ns/call  (after/before ${(median(after) / median(before)).toFixed(2)})\n`);
  }
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  return v;
}

main();
