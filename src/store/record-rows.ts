/**
 * Rows to the Store's KMS records (keys, key versions, import tokens, aliases, grants, tags) and
 * records to insert parameters, once for both adapters, as identity-rows.ts does for identity
 * records. The two adapters' tables have the same columns; what differs is how each driver
 * hands values back (the `RowCoercion`), how a boolean is written (SQLite 0/1, PostgreSQL
 * BOOLEAN) and how a statement numbers its parameters (`?` against `$1`).
 */
import type { Row, RowCoercion } from './identity-rows';
import type { AliasRecord, GrantRecord, ImportTokenRecord, KeyRecord, KeyState, KeyVersionRecord, TagRecord } from './records';

/** The KMS record mappers over one driver's values. */
export interface RecordRowMappers {
  key(r: Row): KeyRecord;
  version(r: Row): KeyVersionRecord;
  token(r: Row): ImportTokenRecord;
  alias(r: Row): AliasRecord;
  grant(r: Row): GrantRecord;
  tag(r: Row): TagRecord;
}

export function recordRowMappers(c: RowCoercion): RecordRowMappers {
  return {
    key: (r) => ({
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
      multiRegion: c.bool(r.multi_region),
      creationDate: c.num(r.creation_date),
      deletionDate: c.numOrNull(r.deletion_date),
      pendingWindowInDays: c.numOrNull(r.pending_window_days),
      currentVersion: c.num(r.current_version),
      rotationEnabled: c.bool(r.rotation_enabled),
      rotationPeriodInDays: c.numOrNull(r.rotation_period_days),
      nextRotationDate: c.numOrNull(r.next_rotation_date),
      onDemandRotationStartDate: c.numOrNull(r.on_demand_rotation_start),
      expirationModel: c.textOrNull(r.expiration_model),
      validTo: c.numOrNull(r.valid_to),
      multiRegionKeyType: (r.multi_region_key_type as KeyRecord['multiRegionKeyType']) ?? null,
      primaryRegion: c.textOrNull(r.primary_region),
    }),
    version: (r) => ({
      keyArn: r.key_arn as string,
      version: c.num(r.version),
      materialId: r.material_id as string,
      wrappedMaterial: (r.wrapped_material as Buffer | null) ?? null,
      createdAt: c.num(r.created_at),
      origin: r.origin as KeyVersionRecord['origin'],
    }),
    token: (r) => ({
      tokenId: r.token_id as string,
      keyArn: r.key_arn as string,
      wrappingKeySpec: r.wrapping_key_spec as string,
      wrappingAlgorithm: r.wrapping_algorithm as string,
      wrappedPrivateKey: r.wrapped_private_key as Buffer,
      expiresAt: c.num(r.expires_at),
    }),
    alias: (r) => ({
      accountId: r.account_id as string,
      region: r.region as string,
      aliasName: r.alias_name as string,
      targetKeyId: r.target_key_id as string,
      targetKeyArn: r.target_key_arn as string,
      creationDate: c.num(r.creation_date),
      lastUpdatedDate: c.num(r.last_updated_date),
    }),
    // operations and constraints are JSON text in both adapters' grants tables.
    grant: (r) => ({
      grantId: r.grant_id as string,
      keyArn: r.key_arn as string,
      region: r.region as string,
      issuingAccount: r.issuing_account as string,
      name: c.textOrNull(r.name),
      idempotencyKey: c.textOrNull(r.idempotency_key),
      granteePrincipal: c.textOrNull(r.grantee_principal),
      granteeServicePrincipal: c.textOrNull(r.grantee_service_principal),
      granteePrincipalId: c.textOrNull(r.grantee_principal_id),
      retiringPrincipal: c.textOrNull(r.retiring_principal),
      retiringServicePrincipal: c.textOrNull(r.retiring_service_principal),
      operations: JSON.parse(r.operations as string) as string[],
      constraints: r.constraints === null ? null : (JSON.parse(r.constraints as string) as GrantRecord['constraints']),
      creationDate: c.num(r.creation_date),
    }),
    tag: (r) => ({ TagKey: r.tag_key as string, TagValue: r.tag_value as string }),
  };
}

/** The keys table's columns, in the order of `keyParams`. */
const KEY_COLUMNS = [
  'arn', 'key_id', 'account_id', 'region', 'key_spec', 'key_usage', 'origin', 'key_manager', 'state', 'description',
  'policy', 'multi_region', 'creation_date', 'deletion_date', 'pending_window_days', 'current_version', 'rotation_enabled',
  'rotation_period_days', 'next_rotation_date', 'on_demand_rotation_start', 'expiration_model', 'valid_to', 'multi_region_key_type',
  'primary_region',
] as const;

/** The grants table's columns, in the order of `grantParams`. */
const GRANT_COLUMNS = [
  'grant_id', 'key_arn', 'region', 'issuing_account', 'name', 'idempotency_key', 'grantee_principal',
  'grantee_service_principal', 'grantee_principal_id', 'retiring_principal', 'retiring_service_principal', 'operations', 'constraints', 'creation_date',
] as const;

/** How one driver writes: a boolean's value and the n-th (1-based) parameter's placeholder. */
export interface ParamStyle {
  bool(b: boolean): unknown;
  placeholder(n: number): string;
}

function insertSql(table: string, columns: readonly string[], style: ParamStyle): string {
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((_, i) => style.placeholder(i + 1)).join(', ')})`;
}

/** An INSERT of a whole key record, with `keyParams`. */
export function keyInsertSql(style: ParamStyle): string {
  return insertSql('keys', KEY_COLUMNS, style);
}

/** An INSERT of a whole grant record, with `grantParams`. */
export function grantInsertSql(style: ParamStyle): string {
  return insertSql('grants', GRANT_COLUMNS, style);
}

export function keyParams(k: KeyRecord, style: ParamStyle): unknown[] {
  return [
    k.arn, k.keyId, k.accountId, k.region, k.keySpec, k.keyUsage, k.origin, k.keyManager, k.state, k.description, k.policy,
    style.bool(k.multiRegion), k.creationDate, k.deletionDate, k.pendingWindowInDays, k.currentVersion, style.bool(k.rotationEnabled),
    k.rotationPeriodInDays, k.nextRotationDate, k.onDemandRotationStartDate, k.expirationModel, k.validTo,
    k.multiRegionKeyType, k.primaryRegion,
  ];
}

export function grantParams(g: GrantRecord): unknown[] {
  return [
    g.grantId, g.keyArn, g.region, g.issuingAccount, g.name, g.idempotencyKey, g.granteePrincipal, g.granteeServicePrincipal,
    g.granteePrincipalId ?? null, g.retiringPrincipal, g.retiringServicePrincipal, JSON.stringify(g.operations),
    g.constraints === null ? null : JSON.stringify(g.constraints), g.creationDate,
  ];
}
