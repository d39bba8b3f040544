/**
 * The transaction port (docs/architecture.md §5, issue 13): `Store.transaction(async (tx) => …)`
 * runs its callback in one database transaction, committed when the callback returns and rolled
 * back when it throws. Invariants (limits, idempotency, state transitions, compare-and-swap) are
 * checked by TypeScript inside the callback (src/keys/guarded-writes.ts), never as
 * COUNT-then-INSERT across calls and never in SQL.
 *
 * Locking: `lock` reads a row and holds it until the transaction ends (SELECT … FOR UPDATE on
 * PostgreSQL; on SQLite every transaction is BEGIN IMMEDIATE, which already serialises writers).
 * An invariant over a key's children (its aliases, tags, grants) locks the key row first, so
 * concurrent transactions on one key run one after another on every adapter.
 *
 * The runner, not the caller, retries serialization failures and lock timeouts (SQLITE_BUSY,
 * PostgreSQL 40001/40P01): the callback may run more than once, so it must touch nothing but
 * `tx` and must not await anything else (no I/O, no other store call — that would deadlock the
 * in-process serialisation of the SQLite adapter). Compute wrapped material, authorization and
 * other slow work before calling `transaction`.
 */
import type { KeyPatch } from './store';
import type { AliasRecord, GrantRecord, KeyRecord, KeyVersionRecord, TagRecord } from './records';

/** Keys and their versions inside a transaction. */
export interface KeyTx {
  /** Reads a key and locks its row until the transaction ends. */
  lock(arn: string): Promise<KeyRecord | undefined>;
  /** Locks every Region's row of a multi-Region key id, ordered by Region. */
  lockRelated(accountId: string, keyId: string): Promise<KeyRecord[]>;
  insert(key: KeyRecord, version: KeyVersionRecord | null, tags: readonly TagRecord[]): Promise<void>;
  update(arn: string, patch: KeyPatch): Promise<void>;
  listVersions(arn: string): Promise<KeyVersionRecord[]>;
  putVersion(version: KeyVersionRecord): Promise<void>;
  /** Sets (or, with null, deletes) the wrapped material of one or every version of a key. */
  setMaterial(arn: string, version: number | 'all', wrappedMaterial: Buffer | null): Promise<void>;
}

/** Aliases inside a transaction. */
export interface AliasTx {
  lock(accountId: string, region: string, aliasName: string): Promise<AliasRecord | undefined>;
  /** How many aliases name `keyArn`. */
  countForKey(keyArn: string): Promise<number>;
  insert(alias: AliasRecord): Promise<void>;
  retarget(accountId: string, region: string, aliasName: string, targetKeyId: string, targetKeyArn: string, at: number): Promise<void>;
}

/** Tags inside a transaction. */
export interface TagTx {
  list(arn: string): Promise<TagRecord[]>;
  put(arn: string, tags: readonly TagRecord[]): Promise<void>;
}

/** Grants inside a transaction. */
export interface GrantTx {
  /** The earliest grant of `keyArn` with this idempotency key (a CreateGrant retry's original). */
  findByIdempotencyKey(keyArn: string, idempotencyKey: string): Promise<GrantRecord | undefined>;
  countForKey(keyArn: string): Promise<number>;
  insert(grant: GrantRecord): Promise<void>;
}

/** What a transaction callback may touch. */
export interface StoreTx {
  readonly keys: KeyTx;
  readonly aliases: AliasTx;
  readonly tags: TagTx;
  readonly grants: GrantTx;
}

/** The port: runs `fn` in one transaction, retrying it on serialization failures. */
export interface TransactionRunner {
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
}

/**
 * Thrown inside a `transactionAfter` callback when what was prepared outside the transaction no
 * longer fits the rows it locked (a key rotated, a replica appeared): the transaction rolls back
 * and `transactionAfter` prepares again.
 */
export class StalePreparation extends Error {
  constructor(what: string) {
    super(`stale preparation: ${what}`);
    this.name = 'StalePreparation';
  }
}

/** How often `transactionAfter` prepares before a stale preparation propagates (as an internal error). */
export const MAX_PREPARATIONS = 5;

/**
 * A transaction that needs slow preparation the callback may not await — material wrapped by the
 * root of trust for each row it will write: `prepare` runs outside, then `fn` runs in one
 * transaction with its result, locks the rows, checks every invariant on them and writes. When
 * `fn` finds the preparation stale it throws `StalePreparation`, and the two run again; this is
 * the only retry besides the runner's own (serialization failures), so operations hold no
 * re-check loops (issue 13). Any other error, and a decision `fn` returns, end it.
 */
export async function transactionAfter<P, T>(
  runner: TransactionRunner,
  prepare: () => Promise<P>,
  fn: (tx: StoreTx, prepared: P) => Promise<T>,
): Promise<T> {
  for (let round = 1; ; round++) {
    const prepared = await prepare();
    try {
      return await runner.transaction((tx) => fn(tx, prepared));
    } catch (e) {
      if (!(e instanceof StalePreparation) || round >= MAX_PREPARATIONS) throw e;
    }
  }
}
