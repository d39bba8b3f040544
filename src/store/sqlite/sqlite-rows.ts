/** Row mappers and column tables of the SQLite Store: records to parameters and back. */
import type { AliasRecord, GrantRecord, ImportTokenRecord, KeyRecord, KeyState, KeyVersionRecord } from '../records';
import { nullableNumber, nullableText, type Row } from './connection';

export const KEY_INSERT = `INSERT INTO keys (arn, key_id, account_id, region, key_spec, key_usage, origin, key_manager, state, description,
  policy, multi_region, creation_date, deletion_date, pending_window_days, current_version, rotation_enabled,
  rotation_period_days, next_rotation_date, on_demand_rotation_start, expiration_model, valid_to, multi_region_key_type,
  primary_region) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

export function keyParams(k: KeyRecord): unknown[] {
  return [
    k.arn, k.keyId, k.accountId, k.region, k.keySpec, k.keyUsage, k.origin, k.keyManager, k.state, k.description, k.policy,
    k.multiRegion ? 1 : 0, k.creationDate, k.deletionDate, k.pendingWindowInDays, k.currentVersion, k.rotationEnabled ? 1 : 0,
    k.rotationPeriodInDays, k.nextRotationDate, k.onDemandRotationStartDate, k.expirationModel, k.validTo,
    k.multiRegionKeyType, k.primaryRegion,
  ];
}

/** SQLite stores booleans as 0/1. */
export function columnValue(v: unknown): unknown {
  return typeof v === 'boolean' ? (v ? 1 : 0) : (v ?? null);
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
    multiRegion: r.multi_region === 1,
    creationDate: r.creation_date as number,
    deletionDate: nullableNumber(r.deletion_date),
    pendingWindowInDays: nullableNumber(r.pending_window_days),
    currentVersion: r.current_version as number,
    rotationEnabled: r.rotation_enabled === 1,
    rotationPeriodInDays: nullableNumber(r.rotation_period_days),
    nextRotationDate: nullableNumber(r.next_rotation_date),
    onDemandRotationStartDate: nullableNumber(r.on_demand_rotation_start),
    expirationModel: nullableText(r.expiration_model),
    validTo: nullableNumber(r.valid_to),
    multiRegionKeyType: (r.multi_region_key_type as KeyRecord['multiRegionKeyType']) ?? null,
    primaryRegion: nullableText(r.primary_region),
  };
}

export function versionFromRow(r: Row): KeyVersionRecord {
  return {
    keyArn: r.key_arn as string,
    version: r.version as number,
    materialId: r.material_id as string,
    wrappedMaterial: (r.wrapped_material as Buffer | null) ?? null,
    createdAt: r.created_at as number,
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
    expiresAt: r.expires_at as number,
  };
}

export function aliasFromRow(r: Row): AliasRecord {
  return {
    accountId: r.account_id as string,
    region: r.region as string,
    aliasName: r.alias_name as string,
    targetKeyId: r.target_key_id as string,
    targetKeyArn: r.target_key_arn as string,
    creationDate: r.creation_date as number,
    lastUpdatedDate: r.last_updated_date as number,
  };
}

export function grantFromRow(r: Row): GrantRecord {
  return {
    grantId: r.grant_id as string,
    keyArn: r.key_arn as string,
    region: r.region as string,
    issuingAccount: r.issuing_account as string,
    name: nullableText(r.name),
    idempotencyKey: nullableText(r.idempotency_key),
    granteePrincipal: nullableText(r.grantee_principal),
    granteeServicePrincipal: nullableText(r.grantee_service_principal),
    granteePrincipalId: nullableText(r.grantee_principal_id),
    retiringPrincipal: nullableText(r.retiring_principal),
    retiringServicePrincipal: nullableText(r.retiring_service_principal),
    operations: JSON.parse(r.operations as string) as string[],
    constraints: r.constraints === null ? null : (JSON.parse(r.constraints as string) as GrantRecord['constraints']),
    creationDate: r.creation_date as number,
  };
}
