/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`) as text: self time by function and by
 * file, and inclusive (self + callees) time of the functions in a path filter.
 *
 *   node dist/bench/profile-summary.js PROFILE.cpuprofile [--top 30] [--filter /src/]
 *
 * Typical use, a single-worker server under the Encrypt load:
 *   node dist/bench/run.js --workers 1 --cases encrypt-64 --concurrency 16 --no-half-load \
 *     --keyhold-node-arg=--cpu-prof --keyhold-node-arg=--cpu-prof-dir=/tmp/prof
 *   node dist/bench/profile-summary.js /tmp/prof/*.cpuprofile
 * (The profile covers the server's whole life, start-up and idle time included; "(idle)" is
 * time the event loop waited.)
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '30' }, filter: { type: 'string', default: '/src/' } },
});
if (positionals.length !== 1) {
  process.stderr.write('usage: profile-summary PROFILE.cpuprofile [--top N] [--filter SUBSTRING]\n');
  process.exit(2);
}
const top = Number(values.top);
const profile = JSON.parse(readFileSync(positionals[0]!, 'utf8')) as Profile;

// Self time per node from the sample timeline (more exact than hitCount × mean interval).
const selfUs = new Map<number, number>();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i]!;
  const dt = profile.timeDeltas[i + 1] ?? 0;
  selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
}
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const short = (url: string): string => url.replace(/^file:\/\//, '').replace(/^.*\/(dist|node_modules)\//, '$1/');
const label = (f: CallFrame): string => `${f.functionName || '(anonymous)'} ${f.url ? `${short(f.url)}:${f.lineNumber + 1}` : ''}`.trim();

const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const idle = [...selfUs].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((a, [, t]) => a + t, 0);
const busy = total - idle;

function bump(m: Map<string, number>, k: string, v: number): void {
  m.set(k, (m.get(k) ?? 0) + v);
}

const selfByFn = new Map<string, number>();
const selfByFile = new Map<string, number>();
for (const [id, t] of selfUs) {
  const f = byId.get(id)!.callFrame;
  if (f.functionName === '(idle)') continue;
  bump(selfByFn, label(f), t);
  bump(selfByFile, f.url ? short(f.url) : `(${f.functionName})`, t);
}

// Inclusive time: each sample counts once for every distinct function on its stack.
const inclusive = new Map<string, number>();
for (const [id, t] of selfUs) {
  const seen = new Set<string>();
  for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
    const f = byId.get(n)!.callFrame;
    if (!f.url.includes(values.filter)) continue;
    const l = label(f);
    if (seen.has(l)) continue;
    seen.add(l);
    bump(inclusive, l, t);
  }
}

const pct = (t: number): string => `${((100 * t) / busy).toFixed(1).padStart(5)}%`;
const ms = (t: number): string => `${(t / 1000).toFixed(0).padStart(7)} ms`;
function print(title: string, m: Map<string, number>): void {
  process.stdout.write(`\n${title}\n`);
  for (const [k, t] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${ms(t)} ${pct(t)}  ${k}\n`);
}
process.stdout.write(`profile ${(total / 1e6).toFixed(2)} s, busy ${(busy / 1e6).toFixed(2)} s (percentages are of busy time)\n`);
print('Self time by function', selfByFn);
print('Self time by file', selfByFile);
print(`Inclusive time, functions whose file contains "${values.filter}"`, inclusive);
