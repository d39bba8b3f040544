/**
 * A lifecycle job that runs only on the node holding its lease (issue 14): with several nodes on
 * one database, deletion, rotation and import expiry must run on one node at a time. A pass
 * checks the lease before it starts; the lease's holder stops acting once its expiry passes by
 * its own clock (src/store/lease.ts), so a node cut off from the database stops within one expiry.
 */
import type { Lease } from '../store/lease';
import type { LifecycleJob } from './scheduler';

/** `job`, run only while `lease` is held (a pass on another node's turn handles nothing). */
export function leasedJob(job: LifecycleJob, lease: Pick<Lease, 'held'>): LifecycleJob {
  return {
    name: job.name,
    runOnce: async (now) => (lease.held() ? job.runOnce(now) : 0),
  };
}
