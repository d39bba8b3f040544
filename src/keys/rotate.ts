/**
 * Key rotation (kms-reference.md §14.1): a rotation adds a version with fresh material and makes
 * it current; old versions stay until the key is deleted, so every ciphertext they made still
 * decrypts. A multi-Region primary's rotation reaches every replica in the same transaction
 * (same material, same version number, so a ciphertext decrypts in any Region). The automatic
 * rotation settings are shared properties of a multi-Region key, so they are written to every
 * Region's row.
 *
 * Which keys rotate: symmetric encryption keys with AWS_KMS material, customer managed (AWS
 * managed keys rotate yearly and cannot be configured), not replicas (rotation is managed on the
 * primary). See https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html
 */
import { KEY_SPECS } from './key-specs';
import { randomBytes } from 'node:crypto';
import { ServiceError } from '../errors';
import type { KeyPatch, KeyReader, KeyRecord, KeyVersionRecord, KeyVersionRepository, TransactionRunner } from '../store/store';
import { StalePreparation, transactionAfter } from '../store/transaction';

/** What rotating a key reads and writes. */
export type RotationStore = Pick<KeyReader, 'listRelatedKeys'> & TransactionRunner;
import type { Keyring } from './keyring';

/** AWS RotationType. */
export type RotationType = 'AUTOMATIC' | 'ON_DEMAND';

export const DAY_MS = 86_400_000;
/** RotationPeriodInDays default (EnableKeyRotation). */
export const DEFAULT_ROTATION_PERIOD_DAYS = 365;
/** RotateKeyOnDemand may run at most this many times per key (API reference; older docs said 10). */
export const MAX_ON_DEMAND_ROTATIONS = 25;
/** RotateKeyOnDemand is refused while an automatic rotation is this close (ConflictException). */
export const AUTOMATIC_ROTATION_GUARD_MS = 20 * 60_000;

function unsupported(message: string): ServiceError {
  return new ServiceError('UnsupportedOperationException', message);
}

/**
 * Throws UnsupportedOperationException unless `key`'s material can rotate at all: symmetric
 * encryption keys only (asymmetric, HMAC keys and keys in custom key stores never rotate), and,
 * unless `allowExternal`, only with AWS_KMS material (kms-reference.md §8 footnotes [6], [7]).
 */
export function assertRotatableKind(key: KeyRecord, allowExternal = false): void {
  if (KEY_SPECS[key.keySpec]?.rotatable !== true) {
    throw unsupported(`${key.arn} key spec is ${key.keySpec} which is not valid for this operation.`);
  }
  if (key.origin === 'EXTERNAL' && allowExternal) return;
  if (key.origin !== 'AWS_KMS') {
    throw unsupported(`${key.arn} origin is ${key.origin} which is not valid for this operation.`);
  }
}

/**
 * Throws UnsupportedOperationException for the keys whose rotation a caller cannot manage: AWS
 * managed keys, and multi-Region replicas (set rotation on the primary key).
 */
export function assertRotationManageable(key: KeyRecord): void {
  if (key.keyManager === 'AWS') {
    throw unsupported(`${key.arn} is an AWS managed key, whose rotation cannot be changed.`);
  }
  if (key.multiRegionKeyType === 'REPLICA') {
    throw unsupported(`${key.arn} is a multi-Region replica key; manage its rotation on the primary key in ${key.primaryRegion ?? 'its primary Region'}.`);
  }
}

/** Every Region's row of a key (just the key unless it is multi-Region), with `key` itself first. */
export async function relatedRows(store: Pick<KeyReader, 'listRelatedKeys'>, key: KeyRecord): Promise<KeyRecord[]> {
  if (!key.multiRegion) return [key];
  const rows = await store.listRelatedKeys(key.accountId, key.keyId);
  return [key, ...rows.filter((r) => r.arn !== key.arn)];
}

/**
 * Changes automatic-rotation settings in one transaction: `decide` sees the locked, current key
 * and returns the patch (undefined: nothing to do) or throws; the patch goes to every Region's
 * row of the key. Returns false when the key no longer exists.
 */
export function changeRotationSettings(store: TransactionRunner, key: KeyRecord, decide: (current: KeyRecord) => KeyPatch | undefined): Promise<boolean> {
  return store.transaction(async (tx) => {
    const rows = key.multiRegion ? await tx.keys.lockRelated(key.accountId, key.keyId) : [await tx.keys.lock(key.arn)];
    const current = rows.find((r) => r?.arn === key.arn);
    if (current === undefined) return false;
    const patch = decide(current);
    if (patch === undefined) return true;
    for (const r of rows) if (r !== undefined) await tx.keys.update(r.arn, patch);
    return true;
  });
}

/**
 * Rotates `key` at `now`: fresh random material becomes version currentVersion+1 of the key and
 * of every replica of a multi-Region primary, in one transaction that locks every Region's row
 * and decides on them: when another rotation won meanwhile (the current version moved) or the
 * key left Enabled, this one changes nothing. The new version is wrapped for each row before the
 * transaction; a replica created or deleted in between makes that preparation stale and it runs
 * again (`transactionAfter`), so every replica gets the version — ReplicateKey, in turn, copies
 * versions only while the primary still has the ones it read (src/operations/replicate-key.ts).
 * An AUTOMATIC rotation schedules the next one a period after `now` — once, however late it ran:
 * AWS rotates an overdue key "immediately and every <period> days thereafter" (rotate-keys.md,
 * disabled keys). An ON_DEMAND rotation leaves the automatic schedule alone, as AWS does.
 * Returns the new version of `key`, or undefined when the key changed meanwhile.
 */
export async function rotateKey(
  store: RotationStore,
  keyring: Keyring,
  key: KeyRecord,
  type: RotationType,
  now: number,
): Promise<KeyVersionRecord | undefined> {
  const next = key.currentVersion + 1;
  const material = randomBytes(32);
  const materialId = randomBytes(32).toString('hex');
  try {
    return await transactionAfter(
      store,
      // The new version, wrapped for every Region's row as last read (the wrapping binds the ARN).
      async () => {
        const rows = await relatedRows(store, key);
        const versions = await Promise.all(
          rows.map(async (r) => ({ ...(await keyring.versionFor(r.arn, next, type, material, materialId)), createdAt: now })),
        );
        return new Map(versions.map((v) => [v.keyArn, v]));
      },
      async (tx, versions) => {
        const locked = key.multiRegion ? await tx.keys.lockRelated(key.accountId, key.keyId) : [await tx.keys.lock(key.arn)];
        const rows = locked.filter((r): r is KeyRecord => r !== undefined);
        const current = rows.find((r) => r.arn === key.arn);
        if (current === undefined || current.state !== 'Enabled') return undefined;
        // Every row must be at the version the caller saw, or the shared numbering would split.
        if (rows.some((r) => r.currentVersion !== key.currentVersion)) return undefined;
        if (rows.length !== versions.size || rows.some((r) => !versions.has(r.arn))) throw new StalePreparation(`the Regions of ${key.arn} changed`);
        const patch: KeyPatch =
          type === 'AUTOMATIC' && current.rotationEnabled
            ? { currentVersion: next, nextRotationDate: now + (current.rotationPeriodInDays ?? DEFAULT_ROTATION_PERIOD_DAYS) * DAY_MS }
            : { currentVersion: next };
        for (const r of rows) {
          await tx.keys.update(r.arn, patch);
          await tx.keys.putVersion(versions.get(r.arn) as KeyVersionRecord);
        }
        return versions.get(key.arn);
      },
    );
  } finally {
    material.fill(0);
  }
}

/**
 * The schedule change EnableKey makes for a key coming back from Disabled: when its current
 * material is older than the rotation period, it rotates on the scheduler's next pass; otherwise
 * the original schedule resumes (rotate-keys.md: "When the CMK is re-enabled, if the backing key
 * is more than 365 days old, AWS KMS rotates it immediately and every 365 days thereafter").
 */
export async function scheduleOnReenable(store: Pick<KeyVersionRepository, 'getKeyVersion'>, key: KeyRecord, now: number): Promise<KeyPatch> {
  if (!key.rotationEnabled || key.nextRotationDate === null || key.nextRotationDate <= now) return {};
  if (key.multiRegionKeyType === 'REPLICA') return {}; // the primary's schedule drives rotation
  const current = await store.getKeyVersion(key.arn, key.currentVersion);
  const period = (key.rotationPeriodInDays ?? DEFAULT_ROTATION_PERIOD_DAYS) * DAY_MS;
  return current !== undefined && current.createdAt + period <= now ? { nextRotationDate: now } : {};
}
