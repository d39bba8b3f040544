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
  /** GetParametersForImport (§8 footnotes [8], [14], [15]); the EXTERNAL-origin check is the operation's. */
  | 'import-parameters'
  /** ImportKeyMaterial: as GetParametersForImport, but allowed while Updating. */
  | 'import-material'
  /** DeleteImportedKeyMaterial: allowed pending deletion (the state then stays). */
  | 'delete-material'
  /** EnableKeyRotation, DisableKeyRotation (§8 footnotes [1], [3], [7]). */
  | 'configure-rotation'
  /** RotateKeyOnDemand: Enabled keys only (§8 footnotes [1], [3], [5], [14], [15]). */
  | 'rotate'
  /** ReplicateKey, and the replica UpdatePrimaryRegion promotes: Enabled only (§8 [1], [3], [5], [14], [15]). */
  | 'replicate'
  /** CreateGrant: as 'use', but allowed while Unavailable (§8 CreateGrant row). */
  | 'create-grant'
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
    case 'create-grant':
      if (s === 'Enabled' || s === 'Updating' || (s === 'Unavailable' && rule === 'create-grant')) return;
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
    case 'replicate':
      if (s === 'Enabled') return;
      if (s === 'Disabled') throw new ServiceError('DisabledException', `${key.arn} is disabled.`);
      throw invalid(key, PHRASE[s]);
    case 'import-parameters':
    case 'import-material':
      if (s === 'Enabled' || s === 'Disabled' || s === 'PendingImport') return;
      if (s === 'Updating' && rule === 'import-material') return;
      throw invalid(key, PHRASE[s]);
    case 'delete-material':
      if (s === 'Creating' || s === 'Updating' || s === 'Unavailable') throw invalid(key, PHRASE[s]);
      return;
    case 'configure-rotation':
    case 'rotate':
      if (s === 'Enabled' || (s === 'Updating' && rule === 'configure-rotation')) return;
      if (s === 'Disabled') throw new ServiceError('DisabledException', `${key.arn} is disabled.`);
      throw invalid(key, PHRASE[s]);
  }
}
