/**
 * Deletes keys whose deletion waiting period has ended (ScheduleKeyDeletion). Deleting the row
 * cascades to its versions, aliases, tags and import tokens; SQLite's secure_delete overwrites
 * the freed pages that held wrapped material.
 */
import type { Logger } from 'pino';
import type { Store } from '../store/store';
import type { LifecycleJob } from './scheduler';

const BATCH = 100;

/** The deletion job. */
export function deletionJob(store: Store, logger: Pick<Logger, 'info'>): LifecycleJob {
  return {
    name: 'delete-keys',
    async runOnce(now) {
      let deleted = 0;
      for (;;) {
        const due = await store.listKeysDueForDeletion(now, BATCH);
        for (const key of due) {
          if (await store.deleteKeyIfDue(key.arn, now)) {
            deleted += 1;
            logger.info({ keyArn: key.arn, event: 'DeleteKey' }, 'deleted key at the end of its waiting period');
          }
        }
        if (due.length < BATCH) return deleted;
      }
    },
  };
}
