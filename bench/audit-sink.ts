/**
 * The audit sink's cost per request without HTTP (issue 11): C simulated requests in one
 * process, each `expect()` → a few µs of work → `settle()` + `append(record)` → await the
 * acknowledgement → next request, against the real AuditWriter and its writer thread (journal,
 * fdatasync, SQLite write-behind). Reports records/s, records per commit, the wait of a record
 * (p50/p99 ms) and the process's CPU per record from /proc (every thread: event loop, writer
 * thread, V8 helpers) — the number that a machine shared with other work disturbs least.
 *
 * `--impl DIR` runs another build (a dist/ directory, e.g. of the commit before a change) in the
 * same run; rounds alternate ABBA so background load falls on both alike:
 *   node dist/bench/audit-sink.js [--concurrency 1,16,64] [--seconds 3] [--rounds 2] [--impl /path/to/other/dist]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

interface Result {
  rps: number;
  /** CPU µs per record of the event-loop thread, of the writer thread (the busiest other), of the rest (V8 helpers). */
  mainUs: number;
  writerUs: number;
  restUs: number;
  perCommit: number;
  p50: number;
  p99: number;
  cpuUs: number;
}

/** utime+stime of this process (all threads), µs. */
function processCpuUs(): number {
  const stat = readFileSync('/proc/self/stat', 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(f[11]) + Number(f[12]);
  return (ticks * 1e6) / CLK_TCK;
}
/** utime+stime of each thread of this process, µs, by thread id. */
function threadCpuUs(): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(tid, ((Number(f[11]) + Number(f[12])) * 1e6) / CLK_TCK);
    } catch {
      // the thread ended
    }
  }
  return out;
}
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** One child run: prints a Result as JSON. */
async function child(dist: string, concurrency: number, seconds: number): Promise<void> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { AuditWriter } = require(join(dist, 'src/audit/writer')) as typeof import('../src/audit/writer');
  const { SqliteAuditStore } = require(join(dist, 'src/store/sqlite/audit-log-sqlite')) as typeof import('../src/store/sqlite/audit-log-sqlite');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const dir = mkdtempSync(join(tmpdir(), 'keyhold-audit-sink-'));
  const setup = new SqliteAuditStore({ dir });
  setup.initialize(() => 'bench-trail');
  setup.close();
  const logger = { error: () => undefined, warn: () => undefined };
  const writer = new AuditWriter({ threadScript: join(dist, 'src/cli/audit-writer-thread.js'), dir, stream: 1, logger });
  const arn = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  let n = 0;
  const record = () => {
    const i = n++;
    const time = Date.now();
    return {
      body: JSON.stringify({
        eventVersion: '1.11', eventTime: new Date(time).toISOString(), eventSource: 'kms.amazonaws.com', eventName: 'Encrypt',
        awsRegion: 'us-east-1', sourceIPAddress: '127.0.0.1', userAgent: 'aws-sdk-js/3.1164.0 ua/2.1 os/linux#6.1 lang/js md/nodejs#20.20.2 api/kms#3.1164.0',
        requestParameters: { keyId: arn, encryptionAlgorithm: 'SYMMETRIC_DEFAULT' }, responseElements: null,
        requestID: `0000${i}-aaaa-4bbb-8ccc-dddddddddddd`, eventID: `0190${i}-aaaa-7bbb-8ccc-eeeeeeeeeeee`, readOnly: true,
        resources: [{ accountId: '111122223333', type: 'AWS::KMS::Key', ARN: arn }], eventType: 'AwsApiCall', managementEvent: true,
        recipientAccountId: '111122223333', eventCategory: 'Management',
      }),
      time, eventId: `0190${i}-aaaa-7bbb-8ccc-eeeeeeeeeeee`, account: '111122223333', eventName: 'Encrypt', eventSource: 'kms.amazonaws.com',
      readOnly: true, username: 'root', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', requestId: `0000${i}-aaaa-4bbb-8ccc-dddddddddddd`,
      resources: [{ type: 'AWS::KMS::Key', name: arn }],
    };
  };
  try {
    // Warm up (JIT, journal pages), then measure.
    for (let i = 0; i < 200; i++) await writer.append(record());
    let stop = false;
    let done = 0;
    const waits: number[] = [];
    const c0 = writer.stats().commits;
    const cpu0 = processCpuUs();
    const threads0 = threadCpuUs();
    const t0 = process.hrtime.bigint();
    const loop = async (): Promise<void> => {
      while (!stop) {
        writer.expect();
        // The request's own work happens between expect and settle (a turn of the event loop).
        await new Promise<void>((r) => setImmediate(r));
        writer.settle();
        const w0 = process.hrtime.bigint();
        await writer.append(record());
        waits.push(Number(process.hrtime.bigint() - w0) / 1e6);
        done += 1;
      }
    };
    const loops = Array.from({ length: concurrency }, loop);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    stop = true;
    await Promise.all(loops);
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = processCpuUs() - cpu0;
    const threads = [...threadCpuUs()].map(([tid, us]) => [tid, us - (threads0.get(tid) ?? 0)] as const);
    const mainUs = threads.find(([tid]) => tid === String(process.pid))?.[1] ?? 0;
    const others = threads.filter(([tid]) => tid !== String(process.pid)).map(([, us]) => us).sort((a, b) => b - a);
    const writerUs = others[0] ?? 0;
    const restUs = others.slice(1).reduce((a, b) => a + b, 0);
    const commits = writer.stats().commits - c0;
    waits.sort((a, b) => a - b);
    const r: Result = {
      rps: done / wall,
      perCommit: done / Math.max(1, commits),
      p50: waits[Math.floor(waits.length * 0.5)] ?? 0,
      p99: waits[Math.floor(waits.length * 0.99)] ?? 0,
      cpuUs: cpu / done,
      mainUs: mainUs / done,
      writerUs: writerUs / done,
      restUs: restUs / done,
    };
    process.stdout.write(JSON.stringify(r));
  } finally {
    await writer.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      concurrency: { type: 'string', default: '1,16,64' },
      seconds: { type: 'string', default: '3' },
      rounds: { type: 'string', default: '2' },
      impl: { type: 'string' },
      child: { type: 'string' },
    },
  });
  if (values.child !== undefined) {
    const [dist, c, s] = values.child.split(',');
    void child(dist!, Number(c), Number(s));
    return;
  }
  const impls: [string, string][] = [['this build', resolve(__dirname, '..')]];
  if (values.impl !== undefined) impls.push([`--impl`, resolve(values.impl)]);
  const results = new Map<string, Result[]>();
  const load0 = loadavg()[0]!;
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const c of values.concurrency!.split(',').map(Number)) {
      for (const [name, dist] of round % 2 === 0 ? impls : [...impls].reverse()) {
        // Each run in its own process, so CPU from /proc is this run's alone.
        const out = execFileSync(process.execPath, [__filename, '--child', `${dist},${c},${values.seconds}`], { encoding: 'utf8' });
        const k = `${name}\0${c}`;
        results.set(k, [...(results.get(k) ?? []), JSON.parse(out) as Result]);
      }
    }
  }
  process.stdout.write(`audit sink (AuditWriter + writer thread, no HTTP), ${values.seconds} s runs, medians of ${values.rounds} ABBA rounds; load average ${load0.toFixed(1)} -> ${loadavg()[0]!.toFixed(1)}\n`);
  process.stdout.write('build        conc   records/s  per commit  p50 ms  p99 ms  CPU µs/record (event loop / writer thread / rest)\n');
  for (const [k, rs] of results) {
    const [name, c] = k.split('\0');
    const m = (f: (r: Result) => number): number => median(rs.map(f));
    process.stdout.write(
      `${name!.padEnd(12)} ${c!.padStart(4)} ${m((r) => r.rps).toFixed(0).padStart(11)} ${m((r) => r.perCommit).toFixed(1).padStart(11)} ${m((r) => r.p50).toFixed(2).padStart(7)} ${m((r) => r.p99).toFixed(2).padStart(7)} ${m((r) => r.cpuUs).toFixed(0).padStart(14)} (${m((r) => r.mainUs).toFixed(0)} / ${m((r) => r.writerUs).toFixed(0)} / ${m((r) => r.restUs).toFixed(0)})\n`,
    );
  }
}

main();
