/**
 * Expiry of imported key material (kms-reference.md §14.4): when a key's ValidTo passes, its
 * material is deleted and the key goes to PendingImport (a key pending deletion keeps its state),
 * as AWS's internal DeleteExpiredKeyMaterial event does. Each pass takes everything due, however
 * late, so expiry catches up after downtime. The same pass prunes import tokens that have been
 * expired for a day: until then ImportKeyMaterial can still answer ExpiredImportTokenException
 * rather than InvalidImportTokenException.
 */
import type { Logger } from 'pino';
import type { ImportTokenRepository, KeyLifecycleQueries, KeyRecord } from '../store/store';
import type { LifecycleJob } from './scheduler';

const BATCH = 100;
/** How long an expired import token is kept so its expiry can be reported as such. */
export const EXPIRED_TOKEN_RETENTION_MS = 86_400_000;

/** The import-expiry job; `onEvent` records each expiry as a service event (the audit trail). */
export function importExpiryJob(
  store: KeyLifecycleQueries & Pick<ImportTokenRepository, 'pruneImportTokens'>,
  logger: Pick<Logger, 'info'>,
  onEvent?: (eventName: string, key: KeyRecord, at: number) => Promise<void>,
): LifecycleJob {
  return {
    name: 'expire-imported-material',
    async runOnce(now) {
      let handled = 0;
      for (;;) {
        const due = await store.listKeysWithExpiringMaterial(now, BATCH);
        let expired = 0;
        for (const key of due) {
          if (await store.expireImportedMaterialIfDue(key.arn, now)) {
            expired += 1;
            logger.info({ keyArn: key.arn, validTo: key.validTo, event: 'DeleteExpiredKeyMaterial' }, 'imported key material expired');
            await onEvent?.('DeleteExpiredKeyMaterial', key, now);
          }
        }
        handled += expired;
        // A batch that changed nothing (every key re-imported meanwhile) must not spin.
        if (due.length < BATCH || expired === 0) break;
      }
      const pruned = await store.pruneImportTokens(now - EXPIRED_TOKEN_RETENTION_MS);
      return handled + pruned;
    },
  };
}
