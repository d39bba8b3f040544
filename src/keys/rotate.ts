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
import type { KeyPatch, KeyReader, KeyRecord, KeyVersionRecord, KeyVersionRepository, KeyWrite, KeyWriter, TransactionRunner } from '../store/store';

/** What rotating a key reads and writes. */
export type RotationStore = Pick<KeyReader, 'listRelatedKeys'> & Pick<KeyWriter, 'applyKeyWrites'> & TransactionRunner;
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
 * of every replica of a multi-Region primary, all in one transaction guarded so that a concurrent
 * rotation (or a state change away from Enabled) makes this one change nothing. An AUTOMATIC
 * rotation schedules the next one a period after `now` — once, however late it ran: AWS rotates
 * an overdue key "immediately and every <period> days thereafter" (rotate-keys.md, disabled keys).
 * An ON_DEMAND rotation leaves the automatic schedule alone, as AWS does.
 * Returns the new version of `key`, or undefined when the guard failed.
 */
export async function rotateKey(
  store: RotationStore,
  keyring: Keyring,
  key: KeyRecord,
  type: RotationType,
  now: number,
): Promise<KeyVersionRecord | undefined> {
  const rows = await relatedRows(store, key);
  const next = key.currentVersion + 1;
  const material = randomBytes(32);
  const materialId = randomBytes(32).toString('hex');
  let versions: KeyVersionRecord[];
  try {
    versions = await Promise.all(
      rows.map(async (r) => ({ ...(await keyring.versionFor(r.arn, next, type, material, materialId)), createdAt: now })),
    );
  } finally {
    material.fill(0);
  }
  const patch: KeyPatch =
    type === 'AUTOMATIC' && key.rotationEnabled
      ? { currentVersion: next, nextRotationDate: now + (key.rotationPeriodInDays ?? DEFAULT_ROTATION_PERIOD_DAYS) * DAY_MS }
      : { currentVersion: next };
  const writes: KeyWrite[] = [];
  for (const r of rows) {
    // Every row must be at the same version as the key, or the shared numbering would split.
    writes.push(
      r.arn === key.arn
        ? { kind: 'update-key', arn: r.arn, patch, ifStates: ['Enabled'], ifCurrentVersion: key.currentVersion }
        : { kind: 'update-key', arn: r.arn, patch, ifCurrentVersion: key.currentVersion },
    );
  }
  for (const v of versions) writes.push({ kind: 'put-version', version: v });
  const ok = await store.applyKeyWrites(writes);
  if (!ok) return undefined;
  if (key.multiRegion) await backfillReplicas(store, keyring, key, rows, next, materialId, type, now);
  return versions[0];
}

/**
 * A replica committed by ReplicateKey between listing the related rows and the rotation's commit
 * copied the versions up to the old one only; give it the new version too, so ciphertexts made
 * under the new version decrypt in its Region.
 */
async function backfillReplicas(
  store: RotationStore,
  keyring: Keyring,
  key: KeyRecord,
  rotated: readonly KeyRecord[],
  next: number,
  materialId: string,
  type: RotationType,
  now: number,
): Promise<void> {
  const seen = new Set(rotated.map((r) => r.arn));
  const late = (await store.listRelatedKeys(key.accountId, key.keyId)).filter((r) => !seen.has(r.arn) && r.currentVersion < next);
  if (late.length === 0) return;
  const material = await keyring.material({ ...key, currentVersion: next }, next);
  if (material === undefined) return;
  for (const r of late) {
    const v = { ...(await keyring.versionFor(r.arn, next, type, material, materialId)), createdAt: now };
    await store.applyKeyWrites([
      { kind: 'update-key', arn: r.arn, patch: { currentVersion: next }, ifCurrentVersion: next - 1 },
      { kind: 'put-version', version: v },
    ]);
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
