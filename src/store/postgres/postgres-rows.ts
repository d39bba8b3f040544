/**
 * Row mappers of the PostgreSQL Store (issue 14): `pg`'s values through the shared record mappers
 * (src/store/record-rows.ts) and the identity mappers (src/store/identity-rows.ts).
 * `pg` returns BIGINT columns as strings (they may exceed 2^53); Keyhold's BIGINTs are epoch
 * milliseconds, well inside, so they become numbers here. BOOLEAN and BYTEA arrive as boolean and
 * Buffer.
 */
import { identityRowMappers, type IdentityRowMappers, type RowCoercion } from '../identity-rows';
import { grantInsertSql, keyInsertSql, keyParams as sharedKeyParams, recordRowMappers, type ParamStyle } from '../record-rows';
import type { AccessKeyRecord, AliasRecord, GrantRecord, ImportTokenRecord, KeyRecord, KeyVersionRecord, TagRecord } from '../records';

/** A row as `pg` returns it. */
export type Row = Record<string, unknown>;

/** A BIGINT or INTEGER column. */
export function num(v: unknown): number {
  return typeof v === 'number' ? v : Number(v);
}

export function numOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : num(v);
}

export function textOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : (v as string);
}

/** PostgreSQL writes BOOLEANs and numbers its parameters. */
const POSTGRES_PARAMS: ParamStyle = { bool: (b) => b, placeholder: (n) => `$${n}` };

const COERCION: RowCoercion = { num, numOrNull, textOrNull, list: (v) => v as unknown[], bool: (v) => v === true };
const ROWS = recordRowMappers(COERCION);

export const KEY_INSERT = keyInsertSql(POSTGRES_PARAMS);
export const GRANT_INSERT = grantInsertSql(POSTGRES_PARAMS);

export function keyParams(k: KeyRecord): unknown[] {
  return sharedKeyParams(k, POSTGRES_PARAMS);
}

export { grantParams } from '../record-rows';

export const keyFromRow: (r: Row) => KeyRecord = ROWS.key;
export const versionFromRow: (r: Row) => KeyVersionRecord = ROWS.version;
export const tokenFromRow: (r: Row) => ImportTokenRecord = ROWS.token;
export const aliasFromRow: (r: Row) => AliasRecord = ROWS.alias;
export const tagFromRow: (r: Row) => TagRecord = ROWS.tag;
export const grantFromRow: (r: Row) => GrantRecord = ROWS.grant;

/** How `pg`'s values become identity records: BIGINTs arrive as strings, booleans as booleans, arrays and JSONB parsed. */
export const POSTGRES_ROWS: IdentityRowMappers = identityRowMappers(COERCION);

export const accessKeyFromRow: (r: Row) => AccessKeyRecord = POSTGRES_ROWS.accessKey;
