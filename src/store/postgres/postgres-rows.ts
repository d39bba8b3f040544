/**
 * Row mappers of the PostgreSQL Store (issue 14): records to parameters and rows back to records.
 * `pg` returns BIGINT columns as strings (they may exceed 2^53); Keyhold's BIGINTs are epoch
 * milliseconds, well inside, so they become numbers here. BOOLEAN and BYTEA arrive as boolean and
 * Buffer.
 */
import { identityRowMappers, type IdentityRowMappers } from '../identity-rows';
import type { AccessKeyRecord, AliasRecord, GrantRecord, ImportTokenRecord, KeyRecord, KeyState, KeyVersionRecord, TagRecord } from '../records';

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

export const KEY_INSERT = `INSERT INTO keys (arn, key_id, account_id, region, key_spec, key_usage, origin, key_manager, state, description,
  policy, multi_region, creation_date, deletion_date, pending_window_days, current_version, rotation_enabled,
  rotation_period_days, next_rotation_date, on_demand_rotation_start, expiration_model, valid_to, multi_region_key_type,
  primary_region) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)`;

export function keyParams(k: KeyRecord): unknown[] {
  return [
    k.arn, k.keyId, k.accountId, k.region, k.keySpec, k.keyUsage, k.origin, k.keyManager, k.state, k.description, k.policy,
    k.multiRegion, k.creationDate, k.deletionDate, k.pendingWindowInDays, k.currentVersion, k.rotationEnabled,
    k.rotationPeriodInDays, k.nextRotationDate, k.onDemandRotationStartDate, k.expirationModel, k.validTo,
    k.multiRegionKeyType, k.primaryRegion,
  ];
}

export function keyFromRow(r: Row): KeyRecord {
  return {
    keyId: r.key_id as string,
    arn: r.arn as string,
    accountId: r.account_id as string,
    region: r.region as string,
    keySpec: r.key_spec as string,
    keyUsage: r.key_usage as string,
    origin: r.origin as string,
    keyManager: r.key_manager as 'AWS' | 'CUSTOMER',
    state: r.state as KeyState,
    description: r.description as string,
    policy: r.policy as string,
    multiRegion: r.multi_region === true,
    creationDate: num(r.creation_date),
    deletionDate: numOrNull(r.deletion_date),
    pendingWindowInDays: numOrNull(r.pending_window_days),
    currentVersion: num(r.current_version),
    rotationEnabled: r.rotation_enabled === true,
    rotationPeriodInDays: numOrNull(r.rotation_period_days),
    nextRotationDate: numOrNull(r.next_rotation_date),
    onDemandRotationStartDate: numOrNull(r.on_demand_rotation_start),
    expirationModel: textOrNull(r.expiration_model),
    validTo: numOrNull(r.valid_to),
    multiRegionKeyType: (r.multi_region_key_type as KeyRecord['multiRegionKeyType']) ?? null,
    primaryRegion: textOrNull(r.primary_region),
  };
}

export function versionFromRow(r: Row): KeyVersionRecord {
  return {
    keyArn: r.key_arn as string,
    version: num(r.version),
    materialId: r.material_id as string,
    wrappedMaterial: (r.wrapped_material as Buffer | null) ?? null,
    createdAt: num(r.created_at),
    origin: r.origin as KeyVersionRecord['origin'],
  };
}

export function tokenFromRow(r: Row): ImportTokenRecord {
  return {
    tokenId: r.token_id as string,
    keyArn: r.key_arn as string,
    wrappingKeySpec: r.wrapping_key_spec as string,
    wrappingAlgorithm: r.wrapping_algorithm as string,
    wrappedPrivateKey: r.wrapped_private_key as Buffer,
    expiresAt: num(r.expires_at),
  };
}

export function aliasFromRow(r: Row): AliasRecord {
  return {
    accountId: r.account_id as string,
    region: r.region as string,
    aliasName: r.alias_name as string,
    targetKeyId: r.target_key_id as string,
    targetKeyArn: r.target_key_arn as string,
    creationDate: num(r.creation_date),
    lastUpdatedDate: num(r.last_updated_date),
  };
}

export function tagFromRow(r: Row): TagRecord {
  return { TagKey: r.tag_key as string, TagValue: r.tag_value as string };
}

export function grantFromRow(r: Row): GrantRecord {
  return {
    grantId: r.grant_id as string,
    keyArn: r.key_arn as string,
    region: r.region as string,
    issuingAccount: r.issuing_account as string,
    name: textOrNull(r.name),
    idempotencyKey: textOrNull(r.idempotency_key),
    granteePrincipal: textOrNull(r.grantee_principal),
    granteeServicePrincipal: textOrNull(r.grantee_service_principal),
    granteePrincipalId: textOrNull(r.grantee_principal_id),
    retiringPrincipal: textOrNull(r.retiring_principal),
    retiringServicePrincipal: textOrNull(r.retiring_service_principal),
    operations: JSON.parse(r.operations as string) as string[],
    constraints: r.constraints === null ? null : (JSON.parse(r.constraints as string) as GrantRecord['constraints']),
    creationDate: num(r.creation_date),
  };
}

export function grantParams(g: GrantRecord): unknown[] {
  return [
    g.grantId, g.keyArn, g.region, g.issuingAccount, g.name, g.idempotencyKey, g.granteePrincipal, g.granteeServicePrincipal,
    g.granteePrincipalId ?? null, g.retiringPrincipal, g.retiringServicePrincipal, JSON.stringify(g.operations),
    g.constraints === null ? null : JSON.stringify(g.constraints), g.creationDate,
  ];
}

export const GRANT_INSERT = `INSERT INTO grants (grant_id, key_arn, region, issuing_account, name, idempotency_key, grantee_principal,
  grantee_service_principal, grantee_principal_id, retiring_principal, retiring_service_principal, operations, constraints, creation_date)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`;

/** How `pg`'s values become identity records: BIGINTs arrive as strings, booleans as booleans, arrays and JSONB parsed. */
export const POSTGRES_ROWS: IdentityRowMappers = identityRowMappers({ num, numOrNull, textOrNull, list: (v) => v as unknown[], bool: (v) => v === true });

export const accessKeyFromRow: (r: Row) => AccessKeyRecord = POSTGRES_ROWS.accessKey;
