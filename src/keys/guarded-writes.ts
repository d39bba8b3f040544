/**
 * The invariants of Keyhold's key data, each checked and written in one store transaction
 * (`Store.transaction`, docs/architecture.md §5, issue 13): per-key limits on aliases, tags and
 * grants, idempotent grant creation, key-state transitions and UpdateAlias's compare-and-swap.
 * Every function locks the key row first, so concurrent requests on one key — in one process,
 * in several worker processes, or on several nodes of one database — decide one after another.
 * Checks are TypeScript over what the transaction read, never COUNT-then-INSERT across calls.
 * `check` callbacks run on the locked, current key (e.g. `assertKeyState`) and may throw.
 */
import type { AliasRecord, GrantRecord, KeyPatch, KeyRecord, TagRecord, TransactionRunner } from '../store/store';

/** Runs on the locked key inside the transaction; throws to refuse (and roll back). */
export type KeyCheck = (key: KeyRecord) => void;

/** What `addAlias` did. */
export type AddAliasOutcome = 'created' | 'exists' | 'limit-exceeded' | 'no-key';

/** Creates `alias` unless its name is taken or its key already has `maxPerKey` aliases. */
export function addAlias(store: TransactionRunner, alias: AliasRecord, maxPerKey: number, check: KeyCheck): Promise<AddAliasOutcome> {
  return store.transaction(async (tx): Promise<AddAliasOutcome> => {
    const key = await tx.keys.lock(alias.targetKeyArn);
    if (key === undefined) return 'no-key';
    check(key);
    if ((await tx.aliases.lock(alias.accountId, alias.region, alias.aliasName)) !== undefined) return 'exists';
    if ((await tx.aliases.countForKey(key.arn)) >= maxPerKey) return 'limit-exceeded';
    await tx.aliases.insert(alias);
    return 'created';
  });
}

/** What `retargetAlias` did; 'moved' carries the alias as another request left it. */
export type RetargetOutcome =
  | { readonly kind: 'updated' }
  | { readonly kind: 'missing' }
  | { readonly kind: 'no-key' }
  | { readonly kind: 'moved'; readonly alias: AliasRecord };

/**
 * UpdateAlias as a compare-and-swap: re-points the alias to `target` only while it still names
 * `expectedTargetKeyArn` (the key the caller was authorized on); `check` runs on the locked new target.
 */
export function retargetAlias(
  store: TransactionRunner,
  alias: Pick<AliasRecord, 'accountId' | 'region' | 'aliasName'>,
  expectedTargetKeyArn: string,
  target: KeyRecord,
  at: number,
  check: KeyCheck,
): Promise<RetargetOutcome> {
  return store.transaction(async (tx): Promise<RetargetOutcome> => {
    // Lock order everywhere: keys (by ARN) before aliases.
    const key = await tx.keys.lock(target.arn);
    if (key === undefined) return { kind: 'no-key' };
    check(key);
    const current = await tx.aliases.lock(alias.accountId, alias.region, alias.aliasName);
    if (current === undefined) return { kind: 'missing' };
    if (current.targetKeyArn !== expectedTargetKeyArn) return { kind: 'moved', alias: current };
    await tx.aliases.retarget(alias.accountId, alias.region, alias.aliasName, key.keyId, key.arn, at);
    return { kind: 'updated' };
  });
}

/** What `addTags` did. */
export type AddTagsOutcome = 'tagged' | 'limit-exceeded' | 'no-key';

/** Adds or overwrites `tags` on a key unless it would then carry more than `maxPerKey` tags. */
export function addTags(store: TransactionRunner, keyArn: string, tags: readonly TagRecord[], maxPerKey: number, check: KeyCheck): Promise<AddTagsOutcome> {
  return store.transaction(async (tx): Promise<AddTagsOutcome> => {
    const key = await tx.keys.lock(keyArn);
    if (key === undefined) return 'no-key';
    check(key);
    const keys = new Set((await tx.tags.list(keyArn)).map((t) => t.TagKey));
    for (const t of tags) keys.add(t.TagKey);
    if (keys.size > maxPerKey) return 'limit-exceeded';
    await tx.tags.put(keyArn, tags);
    return 'tagged';
  });
}

/**
 * Adds `grant` unless its key already has a grant with the same non-null idempotency key (a
 * CreateGrant retry: that earlier grant is returned) or already has `maxPerKey` grants.
 */
export function addGrant(store: TransactionRunner, grant: GrantRecord, maxPerKey: number, check: KeyCheck): Promise<GrantRecord | 'limit-exceeded' | 'no-key'> {
  return store.transaction(async (tx): Promise<GrantRecord | 'limit-exceeded' | 'no-key'> => {
    const key = await tx.keys.lock(grant.keyArn);
    if (key === undefined) return 'no-key';
    check(key);
    if (grant.idempotencyKey !== null) {
      const original = await tx.grants.findByIdempotencyKey(grant.keyArn, grant.idempotencyKey);
      if (original !== undefined) return original;
    }
    if ((await tx.grants.countForKey(grant.keyArn)) >= maxPerKey) return 'limit-exceeded';
    await tx.grants.insert(grant);
    return grant;
  });
}

/**
 * A key-state transition or settings change: `decide` sees the locked, current key and returns
 * the patch to write (undefined: nothing to do) or throws. Returns the key as written, or
 * undefined when the key no longer exists.
 */
export function changeKeyRecord(store: TransactionRunner, arn: string, decide: (key: KeyRecord) => KeyPatch | undefined): Promise<KeyRecord | undefined> {
  return store.transaction(async (tx) => {
    const key = await tx.keys.lock(arn);
    if (key === undefined) return undefined;
    const patch = decide(key);
    if (patch === undefined) return key;
    await tx.keys.update(arn, patch);
    return { ...key, ...patch };
  });
}
