/**
 * Which key states each operation accepts and the error each other state produces
 * (kms-reference.md §8, the key state × operation matrix and its footnotes).
 */
import { ServiceError } from '../errors';
import type { KeyRecord, KeyState } from '../store/records';

/** How an operation treats key states; one row class of the matrix. */
export type StateRule =
  /** Cryptographic use (Encrypt, Decrypt, GenerateDataKey*, ReEncrypt, CreateGrant). */
  | 'use'
  /** Changes that a key pending deletion refuses (tags, description, aliases). */
  | 'modify'
  /** EnableKey, DisableKey. */
  | 'toggle'
  | 'schedule-deletion'
  | 'cancel-deletion'
  /** Allowed in every state (DescribeKey, GetKeyPolicy, PutKeyPolicy, List*). */
  | 'any';

function invalid(key: KeyRecord, what: string): ServiceError {
  return new ServiceError('KMSInvalidStateException', `${key.arn} is ${what}.`);
}

const PHRASE: Readonly<Record<KeyState, string>> = Object.freeze({
  Creating: 'creating',
  Enabled: 'enabled',
  Disabled: 'disabled',
  PendingDeletion: 'pending deletion',
  PendingImport: 'pending import',
  PendingReplicaDeletion: 'pending replica deletion',
  Unavailable: 'unavailable',
  Updating: 'updating',
});

/** Throws the AWS error for `key`'s state under `rule`, or returns when the state is allowed. */
export function assertKeyState(key: KeyRecord, rule: StateRule): void {
  const s = key.state;
  switch (rule) {
    case 'any':
      return;
    case 'use':
      if (s === 'Enabled' || s === 'Updating') return;
      if (s === 'Disabled') throw new ServiceError('DisabledException', `${key.arn} is disabled.`);
      throw invalid(key, PHRASE[s]);
    case 'modify':
      if (s === 'PendingDeletion' || s === 'PendingReplicaDeletion') throw invalid(key, PHRASE[s]);
      return;
    case 'toggle':
      if (s === 'Enabled' || s === 'Disabled' || s === 'Unavailable') return;
      throw invalid(key, PHRASE[s]);
    case 'schedule-deletion':
      if (s === 'PendingDeletion' || s === 'PendingReplicaDeletion' || s === 'Updating') throw invalid(key, PHRASE[s]);
      return;
    case 'cancel-deletion':
      if (s === 'PendingDeletion' || s === 'PendingReplicaDeletion') return;
      throw new ServiceError('KMSInvalidStateException', `${key.arn} is not pending deletion.`);
  }
}
