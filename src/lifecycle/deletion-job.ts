/**
 * Deletes keys whose deletion waiting period has ended (ScheduleKeyDeletion). Deleting the row
 * cascades to its versions, aliases, tags and import tokens; SQLite's secure_delete overwrites
 * the freed pages that held wrapped material.
 *
 * Multi-Region keys (developer guide multi-region-keys-delete; ScheduleKeyDeletion API reference):
 * a primary is never deleted while a replica exists. A primary scheduled with replicas waits in
 * PendingReplicaDeletion; when its last replica is deleted, it moves to PendingDeletion and its
 * own window (PendingWindowInDays) starts then. The primary's window is opened before the
 * replica's row goes, so a crash in between leaves a primary that the next pass handles, never
 * one stuck waiting for a replica that no longer exists.
 */
import type { Logger } from 'pino';
import type { KeyLifecycleQueries, KeyReader, KeyRecord, KeyWriter } from '../store/store';

/** What the deletion job reads and writes. */
export type DeletionJobStore = KeyLifecycleQueries & Pick<KeyReader, 'listRelatedKeys'> & Pick<KeyWriter, 'updateKey'>;
import type { LifecycleJob } from './scheduler';

const BATCH = 100;
const DAY_MS = 86_400_000;
const DEFAULT_WINDOW_DAYS = 30;

/** Deletes one due key, applying the multi-Region rules; returns whether it was deleted. */
async function deleteDueKey(store: DeletionJobStore, key: KeyRecord, now: number, logger: Pick<Logger, 'info'>): Promise<boolean> {
  if (!key.multiRegion) return store.deleteKeyIfDue(key.arn, now);
  const others = (await store.listRelatedKeys(key.accountId, key.keyId)).filter((r) => r.arn !== key.arn);
  if (key.multiRegionKeyType === 'PRIMARY' && others.length > 0) {
    // A replica appeared after the primary was scheduled (a ReplicateKey raced the schedule, or
    // the replica's deletion below lost to a CancelKeyDeletion): the primary waits for it.
    await store.updateKey(key.arn, { state: 'PendingReplicaDeletion', deletionDate: null }, ['PendingDeletion']);
    logger.info({ keyArn: key.arn }, 'primary key still has replicas: waiting for them (PendingReplicaDeletion)');
    return false;
  }
  const primary = others.find((r) => r.multiRegionKeyType === 'PRIMARY');
  if (key.multiRegionKeyType !== 'REPLICA' || primary?.state !== 'PendingReplicaDeletion' || others.length !== 1) {
    return store.deleteKeyIfDue(key.arn, now);
  }
  // The last replica of a primary pending replica deletion: open the primary's window, then delete.
  const deletionDate = now + (primary.pendingWindowInDays ?? DEFAULT_WINDOW_DAYS) * DAY_MS;
  const opened = await store.updateKey(primary.arn, { state: 'PendingDeletion', deletionDate }, ['PendingReplicaDeletion']);
  if (await store.deleteKeyIfDue(key.arn, now)) {
    if (opened) logger.info({ keyArn: primary.arn, deletionDate }, 'last replica deleted: the primary key\'s waiting period starts');
    return true;
  }
  if (opened) await store.updateKey(primary.arn, { state: 'PendingReplicaDeletion', deletionDate: null }, ['PendingDeletion']);
  return false;
}

/** The deletion job; `onEvent` records each deletion as a service event (the audit trail). */
export function deletionJob(
  store: DeletionJobStore,
  logger: Pick<Logger, 'info'>,
  onEvent?: (eventName: string, key: KeyRecord, at: number) => Promise<void>,
): LifecycleJob {
  return {
    name: 'delete-keys',
    async runOnce(now) {
      let deleted = 0;
      for (;;) {
        const due = await store.listKeysDueForDeletion(now, BATCH);
        for (const key of due) {
          if (await deleteDueKey(store, key, now, logger)) {
            deleted += 1;
            logger.info({ keyArn: key.arn, event: 'DeleteKey' }, 'deleted key at the end of its waiting period');
            await onEvent?.('DeleteKey', key, now);
          }
        }
        if (due.length < BATCH) return deleted;
      }
    },
  };
}
