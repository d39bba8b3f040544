/**
 * Messages between a process's AuditWriter (event loop thread) and its writer thread, which owns
 * the audit database connection and does every fsync. Commits sent while one is running are
 * gathered into the next transaction (group commit).
 */
import type { KeyObject } from 'node:crypto';
import type { AuditAppend, AuditIntent } from '../store/audit-log';
import type { DigestReason } from './chain';

/** workerData of the writer thread. */
export interface WriterThreadData {
  readonly dbPath: string;
  readonly busyTimeoutMs: number;
}

/** Requests to the thread; each is answered once with its id. */
export type ToWriterThread =
  | { readonly t: 'commit'; readonly id: number; readonly events: readonly AuditAppend[]; readonly intents: readonly AuditIntent[] }
  | { readonly t: 'key'; readonly id: number; readonly privateKey: KeyObject; readonly fingerprint: string }
  | { readonly t: 'digest'; readonly id: number; readonly reason: DigestReason; readonly now: number }
  | { readonly t: 'prune'; readonly id: number; readonly now: number; readonly retentionMs: number }
  /** Appends the outcome-unknown events of intents whose owner process is gone or that are older than staleMs. */
  | { readonly t: 'recover'; readonly id: number; readonly now: number; readonly staleMs: number; readonly deadOwners: readonly number[] }
  /** A write that changes nothing: tells a failing writer whether the database works again. */
  | { readonly t: 'probe'; readonly id: number }
  | { readonly t: 'close'; readonly id: number };

/** What a digest request wrote. */
export interface DigestSummary {
  readonly digestSeq: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
}

/** Answers from the thread. */
export type FromWriterThread =
  | { readonly t: 'ok'; readonly id: number; readonly value?: unknown }
  | { readonly t: 'fail'; readonly id: number; readonly message: string };
