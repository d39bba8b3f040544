/**
 * The narrow slice of better-sqlite3 the SQLite stores and the audit trail use (STYLE habit 6),
 * and what the Store and the IdentityStore share on one connection: a statement cache, IMMEDIATE transactions, a
 * rollback that reports false, and row readers (including the access_keys table both read).
 */
import type { AccessKeyRecord } from '../records';
import { identityRowMappers, type IdentityRowMappers, type RowCoercion } from '../identity-rows';

/** A prepared statement, as the stores use it. */
export interface Statement {
  run(...params: unknown[]): { changes: number };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  iterate(...params: unknown[]): IterableIterator<unknown>;
  pluck(toggle?: boolean): Statement;
}

/** A connection, as the stores use it. */
export interface Connection {
  prepare(sql: string): Statement;
  exec(sql: string): void;
  pragma(sql: string, options?: { simple?: boolean }): unknown;
  transaction<T extends (...args: never[]) => unknown>(fn: T): T & { immediate: T };
  /** Whether a transaction is open on the connection. */
  readonly inTransaction: boolean;
  close(): void;
}

/** A result row: column name to value. */
export type Row = Record<string, unknown>;

/** A function preparing each distinct SQL text once on `db` and returning that statement ever after. */
export function statementCache(db: Pick<Connection, 'prepare'>): (sql: string) => Statement {
  const stmts = new Map<string, Statement>();
  return (sql) => {
    let s = stmts.get(sql);
    if (s === undefined) {
      s = db.prepare(sql);
      stmts.set(sql, s);
    }
    return s;
  };
}

/** Runs `fn` in an IMMEDIATE transaction: the write lock is taken first, so concurrent workers serialise. */
export function immediate<T>(db: Pick<Connection, 'transaction'>, fn: () => T): T {
  return db.transaction(fn).immediate();
}

/**
 * Runs `fn`, which runs a transaction; true, or false when `fn` called `rollback` (whose throw
 * undoes the transaction). Any other error propagates.
 */
export function unlessRolledBack(fn: (rollback: () => never) => void): boolean {
  const abort = new Error('rolled back');
  try {
    fn(() => {
      throw abort;
    });
    return true;
  } catch (e) {
    if (e === abort) return false;
    throw e;
  }
}

/** A nullable TEXT column. */
export function nullableText(v: unknown): string | null {
  return (v as string | null) ?? null;
}

/** A nullable INTEGER or REAL column. */
export function nullableNumber(v: unknown): number | null {
  return (v as number | null) ?? null;
}

/** How better-sqlite3's values become records: INTEGERs are numbers, booleans 0/1, lists JSON text. */
export const SQLITE_COERCION: RowCoercion = {
  num: (v) => v as number,
  numOrNull: nullableNumber,
  textOrNull: nullableText,
  list: (v) => JSON.parse(v as string) as unknown[],
  bool: (v) => v === 1,
};

/** The identity record mappers over better-sqlite3's values. */
export const SQLITE_ROWS: IdentityRowMappers = identityRowMappers(SQLITE_COERCION);

/** A row of the access_keys table (the Store's root credentials and the IdentityStore's IAM keys). */
export const accessKeyFromRow: (r: Row) => AccessKeyRecord = SQLITE_ROWS.accessKey;
