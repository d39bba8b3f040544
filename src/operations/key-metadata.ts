/**
 * KeyMetadata as DescribeKey, CreateKey and ReplicateKey return it (kms-reference.md §3.2).
 */
import type { KeyRecord } from '../store/records';
import { epochSeconds } from './operation';

const ENCRYPTION_ALGORITHMS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  SYMMETRIC_DEFAULT: Object.freeze(['SYMMETRIC_DEFAULT']),
});

/** The wire KeyMetadata of a key. */
export function keyMetadata(k: KeyRecord, currentMaterialId?: string): Record<string, unknown> {
  const m: Record<string, unknown> = {
    AWSAccountId: k.accountId,
    KeyId: k.keyId,
    Arn: k.arn,
    CreationDate: epochSeconds(k.creationDate),
    Enabled: k.state === 'Enabled',
    Description: k.description,
    KeyUsage: k.keyUsage,
    KeyState: k.state,
    Origin: k.origin,
    KeyManager: k.keyManager,
    CustomerMasterKeySpec: k.keySpec,
    KeySpec: k.keySpec,
    MultiRegion: k.multiRegion,
  };
  const algs = ENCRYPTION_ALGORITHMS[k.keySpec];
  if (algs !== undefined && k.keyUsage === 'ENCRYPT_DECRYPT') m.EncryptionAlgorithms = algs;
  if (k.deletionDate !== null && (k.state === 'PendingDeletion' || k.state === 'PendingReplicaDeletion')) {
    m.DeletionDate = epochSeconds(k.deletionDate);
    if (k.pendingWindowInDays !== null) m.PendingDeletionWindowInDays = k.pendingWindowInDays;
  }
  if (currentMaterialId !== undefined) m.CurrentKeyMaterialId = currentMaterialId;
  return m;
}
