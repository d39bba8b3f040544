/**
 * The key-pair generation thread (issue 9, "Key generation never blocks request handling"):
 * generates one key pair per message with the synchronous generator, on this thread's own CPU
 * time — not on the request thread and not on libuv's four shared threads, which the audit's
 * fsyncs need. The thread lowers its own scheduling priority (Linux nice values are per thread)
 * so a burst of RSA-4096 generation yields the CPU to request handling.
 */
import { generateKeyPairSync } from 'node:crypto';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import type { Generation } from './key-specs';

/** A request to the thread. */
export interface KeyPairJob {
  readonly id: number;
  readonly generation: Generation;
}

/** The thread's answer: the PKCS#8 DER private key, or an error message. */
export interface KeyPairResult {
  readonly id: number;
  readonly privateKey?: Uint8Array;
  readonly error?: string;
}

/** Nice value of the generation thread (0 normal … 19 lowest). */
const NICE = 10;

function generate(g: Generation): Buffer {
  const pair =
    g.type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: g.modulusLength, publicExponent: 0x10001 })
    : g.type === 'ec' ? generateKeyPairSync('ec', { namedCurve: g.namedCurve })
    : g.type === 'ed25519' ? generateKeyPairSync('ed25519')
    : undefined;
  if (pair !== undefined) return pair.privateKey.export({ type: 'pkcs8', format: 'der' });
  throw new Error(`no key pair for ${g.type}`);
}

try {
  setPriority(NICE);
} catch {
  // Not permitted (some containers): generation still runs off the request thread.
}

parentPort?.on('message', (job: KeyPairJob) => {
  try {
    const key = generate(job.generation);
    const out = new Uint8Array(key.length);
    out.set(key);
    key.fill(0);
    parentPort?.postMessage({ id: job.id, privateKey: out } satisfies KeyPairResult, [out.buffer]);
  } catch (e) {
    parentPort?.postMessage({ id: job.id, error: (e as Error).message } satisfies KeyPairResult);
  }
});
