/**
 * KeyMetadata as DescribeKey, CreateKey and ReplicateKey return it (kms-reference.md §3.2).
 */
import type { KeyRecord } from '../store/records';
import { epochSeconds } from './operation';

const ENCRYPTION_ALGORITHMS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  SYMMETRIC_DEFAULT: Object.freeze(['SYMMETRIC_DEFAULT']),
});

/**
 * The wire KeyMetadata of a key. `related` are the rows of a multi-Region key in every Region
 * (including this one), for MultiRegionConfiguration.
 */
export function keyMetadata(k: KeyRecord, currentMaterialId?: string, related?: readonly KeyRecord[]): Record<string, unknown> {
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
  // A primary waiting for its replicas has a window but no date yet (KeyMetadata API reference).
  if (k.state === 'PendingReplicaDeletion' && k.pendingWindowInDays !== null) m.PendingDeletionWindowInDays = k.pendingWindowInDays;
  if (k.origin === 'EXTERNAL') {
    if (k.expirationModel !== null) m.ExpirationModel = k.expirationModel;
    if (k.validTo !== null) m.ValidTo = epochSeconds(k.validTo);
  }
  if (k.multiRegion && related !== undefined) {
    const primary = related.find((r) => r.multiRegionKeyType === 'PRIMARY');
    m.MultiRegionConfiguration = {
      MultiRegionKeyType: k.multiRegionKeyType,
      PrimaryKey: primary === undefined ? undefined : { Arn: primary.arn, Region: primary.region },
      ReplicaKeys: related.filter((r) => r.multiRegionKeyType === 'REPLICA').map((r) => ({ Arn: r.arn, Region: r.region })),
    };
  }
  if (currentMaterialId !== undefined) m.CurrentKeyMaterialId = currentMaterialId;
  return m;
}
