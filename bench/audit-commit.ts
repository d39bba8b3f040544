/**
 * The audit writer thread's own cost, without HTTP (issue 11): group commits of B records each
 * through a stream opened as its writer thread opens it (journal owner), with the background
 * work the thread does after the acknowledgements (applying to SQLite, indexing), on one thread.
 * Reports the time a commit keeps its requests waiting (the call, fdatasync included), and the
 * CPU time per record of everything (commit + apply + index), from process.cpuUsage — a measure
 * that a machine shared with other work disturbs far less than throughput.
 *
 * `--impl DIR` runs another build's store (e.g. an older commit's dist/) with the same records,
 * so a before/after comparison can alternate in one run:
 *   node dist/bench/audit-commit.js [--batches 400] [--batch 16,64] [--rounds 3] [--impl /path/to/other/dist]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { AuditAppend } from '../src/store/audit-log';

interface StreamLike {
  initialize(trailId: string, genesis: Buffer): unknown;
  commit(events: readonly AuditAppend[], intents: readonly unknown[], recover: readonly string[], link: (prev: Buffer, body: string) => Buffer): { seq: number };
  index(max: number): number;
  apply?(): number;
  readonly pendingRecords?: number;
}
interface StoreLike {
  initialize(create: () => string): string;
  stream(n: number): StreamLike;
  close(): void;
}

/** A CloudTrail Encrypt record of the usual size (~1.3 KB). */
function record(i: number, time: number): AuditAppend {
  const arn = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  const body = JSON.stringify({
    eventVersion: '1.11',
    userIdentity: { type: 'Root', principalId: '111122223333', arn: 'arn:aws:iam::111122223333:root', accountId: '111122223333', accessKeyId: 'AKIAIOSFODNN7EXAMPLE' },
    eventTime: new Date(time).toISOString().replace(/\.\d+Z$/, 'Z'),
    eventSource: 'kms.amazonaws.com',
    eventName: 'Encrypt',
    awsRegion: 'us-east-1',
    sourceIPAddress: '127.0.0.1',
    userAgent: 'aws-sdk-js/3.1164.0 ua/2.1 os/linux#6.1 lang/js md/nodejs#20.20.2 api/kms#3.1164.0',
    requestParameters: { keyId: arn, encryptionAlgorithm: 'SYMMETRIC_DEFAULT' },
    responseElements: null,
    requestID: `0000${i}-aaaa-4bbb-8ccc-dddddddddddd`,
    eventID: `0190${i}-aaaa-7bbb-8ccc-eeeeeeeeeeee`,
    readOnly: true,
    resources: [{ accountId: '111122223333', type: 'AWS::KMS::Key', ARN: arn }],
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: '111122223333',
    eventCategory: 'Management',
    tlsDetails: { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: '127.0.0.1:7711' },
  });
  return {
    body,
    time,
    eventId: `0190${i}-aaaa-7bbb-8ccc-eeeeeeeeeeee`,
    account: '111122223333',
    eventName: 'Encrypt',
    eventSource: 'kms.amazonaws.com',
    readOnly: true,
    username: 'root',
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    requestId: `0000${i}-aaaa-4bbb-8ccc-dddddddddddd`,
    resources: [{ type: 'AWS::KMS::Key', name: arn }],
  };
}

function run(dist: string, batches: number, per: number): { waitUs: number; cpuUsPerRecord: number } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { SqliteAuditStore } = require(join(dist, 'src/store/sqlite/audit-log-sqlite')) as { SqliteAuditStore: new (o: object) => StoreLike };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { chainLink, genesisHash } = require(join(dist, 'src/audit/chain')) as { chainLink: (p: Buffer, b: string) => Buffer; genesisHash: (t: string, s: number) => Buffer };
  const dir = mkdtempSync(join(tmpdir(), 'keyhold-audit-commit-'));
  try {
    const store = new SqliteAuditStore({ dir, journalOwner: 0, busyTimeoutMs: 5000 });
    const trailId = store.initialize(() => 'bench-trail');
    const s = store.stream(0);
    s.initialize(trailId, genesisHash(trailId, 0));
    const t0 = Date.now();
    const records = Array.from({ length: batches }, (_, b) => Array.from({ length: per }, (_, i) => record(b * per + i, t0 + b)));
    let wait = 0;
    let indexed = 0;
    let applyAt = Date.now();
    const cpu0 = process.cpuUsage();
    for (let b = 0; b < batches; b++) {
      const w0 = process.hrtime.bigint();
      const head = s.commit(records[b]!, [], [], chainLink);
      wait += Number(process.hrtime.bigint() - w0) / 1000;
      // The writer thread's background step (src/cli/audit-writer-thread.ts), after the acknowledgement.
      if (s.apply !== undefined && ((s.pendingRecords ?? 0) >= 512 || Date.now() - applyAt >= 100)) {
        s.apply();
        applyAt = Date.now();
      }
      if (head.seq - indexed >= 2048) indexed += s.index(20_000);
    }
    s.index(Number.MAX_SAFE_INTEGER);
    const cpu = process.cpuUsage(cpu0);
    store.close();
    return { waitUs: wait / batches, cpuUsPerRecord: (cpu.user + cpu.system) / (batches * per) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

const { values } = parseArgs({
  options: {
    batches: { type: 'string', default: '400' },
    batch: { type: 'string', default: '1,16,64' },
    rounds: { type: 'string', default: '3' },
    impl: { type: 'string' },
  },
});
const impls: [string, string][] = [['this build', resolve(__dirname, '..')]];
if (values.impl !== undefined) impls.push([`--impl ${values.impl}`, resolve(values.impl)]);
const results = new Map<string, { wait: number[]; cpu: number[] }>();
const loadBefore = loadavg()[0]!;
for (let r = 0; r < Number(values.rounds); r++) {
  for (const per of values.batch!.split(',').map(Number)) {
    for (const [name, dist] of r % 2 === 0 ? impls : [...impls].reverse()) {
      const x = run(dist, Number(values.batches), per);
      const k = `${name}\0${per}`;
      const acc = results.get(k) ?? { wait: [], cpu: [] };
      acc.wait.push(x.waitUs);
      acc.cpu.push(x.cpuUsPerRecord);
      results.set(k, acc);
    }
  }
}
process.stdout.write(`audit commits: ${values.batches} commits per run, medians of ${values.rounds} alternating rounds; load average ${loadBefore.toFixed(1)} -> ${loadavg()[0]!.toFixed(1)}\n`);
process.stdout.write('implementation            records/commit  commit wait µs  CPU µs/record (commit+apply+index)\n');
for (const [k, v] of results) {
  const [name, per] = k.split('\0');
  process.stdout.write(`${name!.padEnd(25)} ${per!.padStart(14)} ${median(v.wait).toFixed(0).padStart(15)} ${median(v.cpu).toFixed(1).padStart(12)}\n`);
}
