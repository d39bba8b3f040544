/**
 * Automatic rotation (kms-reference.md §14.1): rotates every Enabled key whose next rotation date
 * has come. A key that is several periods overdue after downtime rotates once, and its next
 * rotation is a full period after that (AWS rotates an overdue key "immediately and every
 * <period> days thereafter", rotate-keys.md) — never a burst of catch-up versions. Disabled keys
 * and keys pending deletion are skipped by the store query; when such a key is enabled again its
 * overdue date makes it rotate on the next pass (see `scheduleOnReenable` for EnableKey).
 * Multi-Region replicas are skipped: their primary's rotation writes their material.
 */
import type { Logger } from 'pino';
import type { Keyring } from '../keys/keyring';
import { rotateKey, type RotationStore } from '../keys/rotate';
import type { KeyLifecycleQueries, KeyRecord } from '../store/store';
import type { LifecycleJob } from './scheduler';

const BATCH = 100;

/** The automatic rotation job; `onEvent` records each rotation as a service event (the audit trail). */
export function rotationJob(
  store: Pick<KeyLifecycleQueries, 'listKeysDueForRotation'> & RotationStore,
  keyring: Keyring,
  logger: Pick<Logger, 'info' | 'error'>,
  onEvent?: (eventName: string, key: KeyRecord, at: number) => Promise<void>,
): LifecycleJob {
  return {
    name: 'rotate-keys',
    async runOnce(now) {
      let rotated = 0;
      // Every key is tried at most once per pass. Keys still due after their try (replicas, lost
      // races, failures) stay in the query's result, so each round asks for that many more rows.
      const passed = new Set<string>();
      for (;;) {
        const due = await store.listKeysDueForRotation(now, passed.size + BATCH);
        const fresh = due.filter((k) => !passed.has(k.arn));
        if (fresh.length === 0) return rotated;
        for (const key of fresh) {
          passed.add(key.arn);
          if (key.multiRegionKeyType === 'REPLICA') continue;
          try {
            const version = await rotateKey(store, keyring, key, 'AUTOMATIC', now);
            if (version !== undefined) {
              rotated += 1;
              logger.info({ keyArn: key.arn, event: 'RotateKey', keyMaterialId: version.materialId }, 'rotated key material');
              await onEvent?.('RotateKey', key, now);
            } else {
              logger.info({ keyArn: key.arn }, 'automatic rotation skipped: the key changed meanwhile');
            }
          } catch (err) {
            logger.error({ err, keyArn: key.arn }, 'automatic rotation failed');
          }
        }
      }
    },
  };
}
