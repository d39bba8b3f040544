/**
 * Messages between a process's AuditWriter (event loop thread) and its writer thread, which owns
 * the process's stream file and does every fsync. Requests go to the thread's inbox port, which
 * it reads synchronously; commits are acknowledged on a port of their own. Records travel as
 * flat arrays: structured cloning of arrays of primitives costs a fraction of cloning objects
 * with named fields.
 */
import type { KeyObject } from 'node:crypto';
import type { MessagePort } from 'node:worker_threads';
import type { AuditAppend, AuditIntent } from '../store/audit-log';
import type { DigestReason } from './chain';

/**
 * Test hooks of the audit trail (issue 11). Never read from the environment or a flag of
 * `keyhold serve`: only code that constructs the server in-process can pass them (serve()'s
 * options), which the tests do through their own entry point (test/helpers/keyhold-audit-hooks.ts),
 * so an operator cannot turn them on by accident. The server warns at start when any is set.
 */
export interface AuditTestHooks {
  /** While this file exists, every commit and probe fails as an fsync error would. */
  readonly failFile?: string;
  /** Preallocate the journal to this many bytes (small: the test reaches the wrap-around). */
  readonly journalBytes?: number;
  /** Apply nothing to SQLite in the background: records stay in the journal until shutdown. */
  readonly holdApply?: boolean;
}

/** workerData of the writer thread. */
export interface WriterThreadData {
  /** The trail directory. */
  readonly dir: string;
  /** The stream this process appends to. */
  readonly stream: number;
  readonly busyTimeoutMs: number;
  /** Where digests are delivered as they are written (primary only). */
  readonly digestCopyDir?: string;
  /** Requests to the thread (ToWriterThread), which takes them synchronously (receiveMessageOnPort). */
  readonly inbox: MessagePort;
  /** One Int32 the sender bumps (and notifies) after each request it posts to `inbox`. */
  readonly signal: SharedArrayBuffer;
  /** Where the thread acknowledges commits (CommitAck) once their frame is fdatasync'd. */
  readonly acks: MessagePort;
  /** Tests only (see AuditTestHooks). */
  readonly testHooks?: AuditTestHooks;
}

/**
 * Index of the BigInt64 the writer thread shares with its apply thread (audit-apply-thread.ts):
 * the number of the last journal frame made durable; nothing past it is applied to SQLite.
 */
export const SYNCED = 0;

/** A record on the wire. */
export type WireAppend = readonly (string | number | boolean | null)[];

/** Flattens a record for postMessage. */
export function encodeAppend(e: AuditAppend): WireAppend {
  const out: (string | number | boolean | null)[] = [
    e.body, e.time, e.eventId, e.account, e.eventName, e.eventSource, e.readOnly, e.username, e.accessKeyId, e.requestId,
    e.completes ?? null,
  ];
  for (const r of e.resources) out.push(r.type, r.name);
  return out;
}

/** The inverse of encodeAppend. */
export function decodeAppend(w: WireAppend): AuditAppend {
  const resources: { type: string; name: string }[] = [];
  for (let i = 11; i + 1 < w.length; i += 2) resources.push({ type: w[i] as string, name: w[i + 1] as string });
  const e: AuditAppend = {
    body: w[0] as string,
    time: w[1] as number,
    eventId: w[2] as string,
    account: w[3] as string,
    eventName: w[4] as string,
    eventSource: w[5] as string,
    readOnly: w[6] as boolean,
    username: w[7] as string | null,
    accessKeyId: w[8] as string | null,
    requestId: w[9] as string | null,
    resources,
  };
  return w[10] === null ? e : { ...e, completes: w[10] as string };
}

/** Requests to the thread; each is answered once with its id (a commit on `acks`, the rest on the parent port). */
export type ToWriterThread =
  | {
      readonly t: 'commit';
      readonly id: number;
      readonly events: readonly WireAppend[];
      readonly intents: readonly AuditIntent[];
      /** Intents whose request's own record failed: append their outcome-unknown records now. */
      readonly recover: readonly string[];
    }
  | { readonly t: 'key'; readonly id: number; readonly privateKey: KeyObject; readonly fingerprint: string }
  | { readonly t: 'digest'; readonly id: number; readonly reason: DigestReason; readonly now: number }
  | { readonly t: 'prune'; readonly id: number; readonly now: number; readonly retentionMs: number }
  /** In every stream: appends the outcome-unknown records of intents whose owner is gone or that are older than staleMs. */
  | { readonly t: 'recover'; readonly id: number; readonly now: number; readonly staleMs: number; readonly deadOwners: readonly number[]; readonly allOthers: boolean }
  /** A write that changes nothing: tells a failing writer whether the database works again. */
  | { readonly t: 'probe'; readonly id: number }
  | { readonly t: 'close'; readonly id: number };

/** What a digest request wrote. */
export interface DigestSummary {
  readonly digestSeq: number;
  /** Records covered per stream: [stream, firstSeq, lastSeq]. */
  readonly streams: readonly (readonly [number, number, number])[];
  /** Why the digest (or an earlier one) could not be delivered to the copy directory. */
  readonly copyError?: string;
}

/** Answers from the thread. */
export type FromWriterThread =
  | { readonly t: 'ok'; readonly id: number; readonly value?: unknown }
  | { readonly t: 'fail'; readonly id: number; readonly message: string };

/** Commit acknowledgements from the writer thread, on `acks`. */
export type CommitAck =
  | { readonly t: 'synced'; readonly ids: readonly number[] }
  | { readonly t: 'sync-failed'; readonly ids: readonly number[]; readonly message: string };
