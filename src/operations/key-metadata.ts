/**
 * KeyMetadata as DescribeKey, CreateKey and ReplicateKey return it (kms-reference.md §3.2).
 */
import { algorithmsFor } from '../keys/key-specs';
import { KMS_OUTPUTS, type KeyMetadata } from '../model/kms-outputs';
import type { StructureShape } from '../model/shape-types';
import type { KeyRecord } from '../store/records';

/** KeyUsage -> the KeyMetadata (and GetPublicKey) member listing its algorithms. */
export const ALGORITHM_MEMBERS: Readonly<Record<string, string>> = Object.freeze({
  ENCRYPT_DECRYPT: 'EncryptionAlgorithms',
  SIGN_VERIFY: 'SigningAlgorithms',
  GENERATE_VERIFY_MAC: 'MacAlgorithms',
  KEY_AGREEMENT: 'KeyAgreementAlgorithms',
  ENCAPSULATE_DECAPSULATE: 'EncapsulationAlgorithms',
});

/**
 * Key specs the deprecated CustomerMasterKeySpec member can name: its enum in AWS's model stops at
 * SM2, so ML-DSA, ML-KEM and ECC_NIST_EDWARDS25519 keys carry only KeySpec (docs/compatibility.md).
 */
const CUSTOMER_MASTER_KEY_SPECS: ReadonlySet<string> = new Set(
  ((KMS_OUTPUTS.DescribeKey.members.KeyMetadata as StructureShape).members.CustomerMasterKeySpec as { enum?: readonly string[] }).enum ?? [],
);

/**
 * The wire KeyMetadata of a key. `related` are the rows of a multi-Region key in every Region
 * (including this one), for MultiRegionConfiguration.
 */
export function keyMetadata(k: KeyRecord, currentMaterialId?: string, related?: readonly KeyRecord[]): KeyMetadata {
  const m: { -readonly [K in keyof KeyMetadata]: KeyMetadata[K] } = {
    AWSAccountId: k.accountId,
    KeyId: k.keyId,
    Arn: k.arn,
    CreationDate: k.creationDate,
    Enabled: k.state === 'Enabled',
    Description: k.description,
    KeyUsage: k.keyUsage,
    KeyState: k.state,
    Origin: k.origin,
    KeyManager: k.keyManager,
    CustomerMasterKeySpec: CUSTOMER_MASTER_KEY_SPECS.has(k.keySpec) ? k.keySpec : undefined,
    KeySpec: k.keySpec,
    MultiRegion: k.multiRegion,
  };
  const member = ALGORITHM_MEMBERS[k.keyUsage];
  const algs = algorithmsFor(k.keySpec, k.keyUsage);
  if (member !== undefined && algs.length > 0) (m as Record<string, unknown>)[member] = algs;
  if (k.deletionDate !== null && (k.state === 'PendingDeletion' || k.state === 'PendingReplicaDeletion')) {
    m.DeletionDate = k.deletionDate;
    if (k.pendingWindowInDays !== null) m.PendingDeletionWindowInDays = k.pendingWindowInDays;
  }
  // A primary waiting for its replicas has a window but no date yet (KeyMetadata API reference).
  if (k.state === 'PendingReplicaDeletion' && k.pendingWindowInDays !== null) m.PendingDeletionWindowInDays = k.pendingWindowInDays;
  if (k.origin === 'EXTERNAL') {
    if (k.expirationModel !== null) m.ExpirationModel = k.expirationModel;
    if (k.validTo !== null) m.ValidTo = k.validTo;
  }
  if (k.multiRegion && related !== undefined) {
    const primary = related.find((r) => r.multiRegionKeyType === 'PRIMARY');
    m.MultiRegionConfiguration = {
      MultiRegionKeyType: k.multiRegionKeyType ?? undefined,
      PrimaryKey: primary === undefined ? undefined : { Arn: primary.arn, Region: primary.region },
      ReplicaKeys: related.filter((r) => r.multiRegionKeyType === 'REPLICA').map((r) => ({ Arn: r.arn, Region: r.region })),
    };
  }
  if (currentMaterialId !== undefined) m.CurrentKeyMaterialId = currentMaterialId;
  return m;
}
