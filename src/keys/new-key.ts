/**
 * A new key's record with AWS's defaults for everything a creator does not set.
 */
import type { KeyRecord } from '../store/records';

/** What a creator must decide. */
export type KeyBasics = Pick<
  KeyRecord,
  'keyId' | 'arn' | 'accountId' | 'region' | 'keySpec' | 'keyUsage' | 'origin' | 'keyManager' | 'state' | 'description' | 'policy' | 'creationDate' | 'currentVersion'
>;

/** Fills the optional fields of a key record. */
export function newKeyRecord(basics: KeyBasics, extra: Partial<KeyRecord> = {}): KeyRecord {
  return {
    multiRegion: false,
    deletionDate: null,
    pendingWindowInDays: null,
    rotationEnabled: false,
    rotationPeriodInDays: null,
    nextRotationDate: null,
    onDemandRotationStartDate: null,
    expirationModel: null,
    validTo: null,
    multiRegionKeyType: null,
    primaryRegion: null,
    ...basics,
    ...extra,
  };
}
