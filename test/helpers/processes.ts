/**
 * Processes of a test server under `kill -9`, read from /proc (Linux): a server's workers, whether
 * a process still runs, and SIGKILL of the primary and every worker at once.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { TestServer } from './server';

/** The state letter and parent pid of `/proc/<pid>/stat` (fields 3 and 4; the name may hold spaces). */
function stat(pid: number | string): { state: string; ppid: number } {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const [state, ppid] = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: state as string, ppid: Number(ppid) };
}

/** Child pids of `pid`. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (stat(entry).ppid === pid) out.push(Number(entry));
    } catch {
      /* the process went away */
    }
  }
  return out;
}

/** Whether `pid` exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    return stat(pid).state !== 'Z';
  } catch {
    return false;
  }
}

/** SIGKILLs the server's primary and all its workers at once; resolves with their pids once all are gone. */
export async function killAll(server: TestServer): Promise<number[]> {
  const primary = server.process.pid!;
  const pids = [primary, ...childrenOf(primary)];
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  await server.kill(); // reaps the primary
  const deadline = Date.now() + 10_000;
  while (pids.some(alive)) {
    if (Date.now() > deadline) throw new Error(`processes survived SIGKILL: ${pids.filter(alive).join(', ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return pids;
}

/** `pid` and every process below it (children, their children, ...), read now. */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...childrenOf(out[i] as number));
  return out;
}

/**
 * SIGKILLs `pid` and every process below it at once (a server that never became ready: its
 * workers too); resolves with their pids once all are gone. Not the process group: a test's
 * server shares the test runner's group.
 */
export async function killTree(pid: number): Promise<number[]> {
  const pids = processTree(pid);
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  const deadline = Date.now() + 10_000;
  while (pids.some(alive)) {
    if (Date.now() > deadline) throw new Error(`processes survived SIGKILL: ${pids.filter(alive).join(', ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return pids;
}
