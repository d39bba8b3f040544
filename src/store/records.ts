/**
 * The records Keyhold keeps about KMS keys, their versions (backing key material), aliases and
 * tags. Plain data: stores persist them, operations read them. Times are epoch milliseconds.
 */

/** AWS KeyState enum (kms-reference.md §5). */
export type KeyState =
  | 'Creating'
  | 'Enabled'
  | 'Disabled'
  | 'PendingDeletion'
  | 'PendingImport'
  | 'PendingReplicaDeletion'
  | 'Unavailable'
  | 'Updating';

/** A KMS key's metadata. The store never holds its material unwrapped. */
export interface KeyRecord {
  readonly keyId: string;
  readonly arn: string;
  readonly accountId: string;
  readonly region: string;
  readonly keySpec: string;
  readonly keyUsage: string;
  readonly origin: string;
  readonly keyManager: 'AWS' | 'CUSTOMER';
  readonly state: KeyState;
  readonly description: string;
  readonly policy: string;
  readonly multiRegion: boolean;
  readonly creationDate: number;
  /** When a key pending deletion is deleted. */
  readonly deletionDate: number | null;
  readonly pendingWindowInDays: number | null;
  /** The version new encryptions use (0 while an EXTERNAL key awaits its first import). */
  readonly currentVersion: number;
  /** Automatic rotation (kms-reference.md §3 EnableKeyRotation). */
  readonly rotationEnabled: boolean;
  readonly rotationPeriodInDays: number | null;
  readonly nextRotationDate: number | null;
  /** Set while an on-demand rotation is in progress. */
  readonly onDemandRotationStartDate: number | null;
  /** EXTERNAL origin: KEY_MATERIAL_EXPIRES or KEY_MATERIAL_DOES_NOT_EXPIRE, and when it expires. */
  readonly expirationModel: string | null;
  readonly validTo: number | null;
  /** Multi-Region keys: PRIMARY or REPLICA, and the primary's Region. */
  readonly multiRegionKeyType: 'PRIMARY' | 'REPLICA' | null;
  readonly primaryRegion: string | null;
}

/** One backing key: the material, wrapped by the root of trust (AAD = key ARN + version). */
export interface KeyVersionRecord {
  readonly keyArn: string;
  readonly version: number;
  /** 64 lowercase hex characters, as AWS's KeyMaterialId. */
  readonly materialId: string;
  /** null once imported material has been deleted or has expired. */
  readonly wrappedMaterial: Buffer | null;
  readonly createdAt: number;
  /** How this version came to be: null for the first, AUTOMATIC or ON_DEMAND rotations, IMPORT. */
  readonly origin: 'CREATE' | 'AUTOMATIC' | 'ON_DEMAND' | 'IMPORT';
}

/** A GetParametersForImport wrapping key pair and token (valid 24 hours). */
export interface ImportTokenRecord {
  readonly tokenId: string;
  readonly keyArn: string;
  readonly wrappingKeySpec: string;
  readonly wrappingAlgorithm: string;
  /** The RSA private key (PKCS#8 DER), wrapped by the root of trust. */
  readonly wrappedPrivateKey: Buffer;
  readonly expiresAt: number;
}

/** An alias in one account and region. */
export interface AliasRecord {
  readonly accountId: string;
  readonly region: string;
  readonly aliasName: string;
  readonly targetKeyId: string;
  readonly targetKeyArn: string;
  readonly creationDate: number;
  readonly lastUpdatedDate: number;
}

/** A tag on a key. */
export interface TagRecord {
  readonly TagKey: string;
  readonly TagValue: string;
}

/** A grant's constraints (kms-reference.md §6 GrantConstraints); absent members are not set. */
export interface GrantConstraintsRecord {
  readonly EncryptionContextEquals?: Readonly<Record<string, string>>;
  readonly EncryptionContextSubset?: Readonly<Record<string, string>>;
  readonly SourceArn?: string;
}

/** A grant on one key (kms-reference.md §3.2 GrantListEntry, §9.3). */
export interface GrantRecord {
  /** 64 lowercase hex characters. */
  readonly grantId: string;
  readonly keyArn: string;
  /** The key's Region (ListRetirableGrants lists one Region across accounts). */
  readonly region: string;
  /** The account the grant was created in (IssuingAccount, and who may retire it as a backup). */
  readonly issuingAccount: string;
  readonly name: string | null;
  /**
   * For named grants: a digest of the name and every parameter, so a CreateGrant retry with the
   * same name and parameters finds the original grant (src/keys/grants.ts `grantIdempotencyKey`).
   */
  readonly idempotencyKey: string | null;
  /** Exactly one of the two grantee fields is set. */
  readonly granteePrincipal: string | null;
  readonly granteeServicePrincipal: string | null;
  /**
   * The unique id (AIDA…/AROA…) of the IAM user or role the grantee principal named when the
   * grant was created (a role for an assumed-role session ARN). A user or role deleted and
   * created again under the same name has a new id, so the grant no longer applies to it
   * (issue 12 item 8). Null (also for grants made before) when the grantee is an account
   * root, a service, or a principal this deployment does not hold.
   */
  readonly granteePrincipalId: string | null;
  readonly retiringPrincipal: string | null;
  readonly retiringServicePrincipal: string | null;
  /** GrantOperation names, without duplicates, in request order. */
  readonly operations: readonly string[];
  readonly constraints: GrantConstraintsRecord | null;
  readonly creationDate: number;
}

/** An access key pair; the secret is stored only wrapped by the root of trust. */
export interface AccessKeyRecord {
  readonly accessKeyId: string;
  readonly accountId: string;
  /** The principal the key belongs to, e.g. arn:aws:iam::111122223333:root */
  readonly principalArn: string;
  readonly principalId: string;
  readonly principalType: 'Root' | 'IAMUser' | 'AssumedRole';
  readonly userName: string | null;
  readonly wrappedSecret: Buffer;
  readonly status: 'Active' | 'Inactive';
  readonly createdAt: number;
}
