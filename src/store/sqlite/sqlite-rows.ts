/**
 * Row mappers and inserts of the SQLite Store: better-sqlite3's values through the shared
 * record mappers (src/store/record-rows.ts). INTEGERs arrive as numbers, booleans as 0/1.
 */
import { grantInsertSql, keyInsertSql, keyParams as sharedKeyParams, recordRowMappers, type ParamStyle } from '../record-rows';
import type { AliasRecord, GrantRecord, ImportTokenRecord, KeyRecord, KeyVersionRecord } from '../records';
import { SQLITE_COERCION, type Row } from './connection';

/** SQLite writes booleans as 0/1; its parameters are all `?`. */
const SQLITE_PARAMS: ParamStyle = { bool: (b) => (b ? 1 : 0), placeholder: () => '?' };

const ROWS = recordRowMappers(SQLITE_COERCION);

export const KEY_INSERT = keyInsertSql(SQLITE_PARAMS);
export const GRANT_INSERT = grantInsertSql(SQLITE_PARAMS);

export function keyParams(k: KeyRecord): unknown[] {
  return sharedKeyParams(k, SQLITE_PARAMS);
}

export { grantParams } from '../record-rows';

/** SQLite stores booleans as 0/1. */
export function columnValue(v: unknown): unknown {
  return typeof v === 'boolean' ? (v ? 1 : 0) : (v ?? null);
}

export const keyFromRow: (r: Row) => KeyRecord = ROWS.key;
export const versionFromRow: (r: Row) => KeyVersionRecord = ROWS.version;
export const tokenFromRow: (r: Row) => ImportTokenRecord = ROWS.token;
export const aliasFromRow: (r: Row) => AliasRecord = ROWS.alias;
export const grantFromRow: (r: Row) => GrantRecord = ROWS.grant;
