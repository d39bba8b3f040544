/**
 * Test-only stand-in for ReplicateKey: writes a multi-Region replica row (with copies of every
 * version of the primary's material, wrapped for the replica's ARN) straight into a running
 * server's database, so rotation tests can check that a primary's rotation reaches its replicas.
 */
import { materialAad } from '../../src/keys/keyring';
import type { KeyVersionRecord } from '../../src/store/store';
import { openServerStore, openServerTrust } from './server-store';

/** Adds a replica of `primaryArn` in `region`; returns the replica's ARN. */
export async function addFakeReplica(dataDir: string, primaryArn: string, region: string): Promise<string> {
  const store = openServerStore(dataDir);
  const trust = await openServerTrust(dataDir, store).catch(async (e: unknown) => {
    await store.close();
    throw e;
  });
  try {
    const primary = await store.getKey(primaryArn);
    if (primary === undefined) throw new Error(`no key ${primaryArn}`);
    const arn = primaryArn.replace(`:${primary.region}:`, `:${region}:`);
    const copies: KeyVersionRecord[] = [];
    for (const v of await store.listKeyVersions(primaryArn)) {
      const m = await trust.unwrap(v.wrappedMaterial as Buffer, materialAad(primaryArn, v.version));
      copies.push({ ...v, keyArn: arn, wrappedMaterial: await trust.wrap(m, materialAad(arn, v.version)) });
      m.fill(0);
    }
    await store.createKey({ ...primary, arn, region, multiRegionKeyType: 'REPLICA', state: 'Enabled' }, copies[0] ?? null, []);
    if (copies.length > 1) await store.applyKeyWrites(copies.slice(1).map((version) => ({ kind: 'put-version' as const, version })));
    return arn;
  } finally {
    await store.close();
    await trust.close();
  }
}
