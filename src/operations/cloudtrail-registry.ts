/**
 * The CloudTrail operations Keyhold serves (awsJson1_1, `X-Amz-Target:
 * com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.<Operation>` or
 * `CloudTrail_20131101.<Operation>`, SigV4 signing name
 * `cloudtrail`). An explicit object literal, like the KMS registry; built per process because
 * LookupEvents reads that process's connection to the trail.
 */
import type { AuditStore } from '../store/audit-log';
import type { AuditReader } from '../store/audit-reader';
import { lookupEvents } from './lookup-events';
import type { Operation } from './operation';

/** The awsJson1_1 target prefix of CloudTrail, as the AWS CLI (botocore) sends it. */
export const CLOUDTRAIL_TARGET_PREFIX = 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101';
/** The short form the AWS SDK for JavaScript v3 sends (`CloudTrail_20131101.LookupEvents`); AWS accepts both. */
export const CLOUDTRAIL_SHORT_TARGET_PREFIX = 'CloudTrail_20131101';

/** CloudTrail operations by their X-Amz-Target suffix, reading `trail` (undefined when the trail is off). */
export function cloudTrailOperations(trail: AuditReader | AuditStore | undefined): Readonly<Record<string, Operation>> {
  return Object.freeze({
    LookupEvents: lookupEvents(trail),
  });
}
