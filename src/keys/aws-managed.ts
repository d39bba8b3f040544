/**
 * AWS managed keys (kms-reference.md §9.5): the `alias/aws/<service>` keys an AWS service creates
 * in the customer's account on first use. Keyhold creates one when a request names the predefined
 * alias (DescribeKey or a cryptographic call, by alias name or alias ARN), as KMS does: "AWS
 * services use DescribeKey to create AWS managed keys from a predefined AWS alias with no key ID"
 * (API reference, DescribeKeyRequest.KeyId).
 *
 * Such a key is symmetric, single-Region, KeyManager AWS, rotated every 365 days, and has a fixed
 * key policy: use only through the owning service by principals of the account
 * (kms:CallerAccount + kms:ViaService), and read-only metadata access for the account. Every call
 * that policy does not allow is refused with AccessDeniedException, as AWS's policy evaluation
 * does (`assertCustomerManaged`).
 */
import { createHash } from 'node:crypto';
import { ServiceError } from '../errors';
import type { Caller } from '../identity/caller';
import type { AliasRecord, KeyRecord, KeyVersionRecord } from '../store/records';
import type { AliasRepository, KeyReader, KeyWriter } from '../store/store';

/** What creating AWS managed keys reads and writes. */
export type AwsManagedKeyStore = Pick<KeyReader, 'getKey'> & Pick<KeyWriter, 'createKey'> & Pick<AliasRepository, 'getAlias' | 'createAlias'>;
import { keyArn } from './arn';
import { newKeyRecord } from './new-key';

/** One service that owns an AWS managed key. */
interface ManagedService {
  /** The service's name in the key policy's statement Sid, e.g. "S3". */
  readonly label: string;
  /** What the key protects, in its description ("Default key that protects my <what> when ..."). */
  readonly protects: string;
  /** The endpoint prefix in kms:ViaService ("<prefix>.<region>.amazonaws.com"). */
  readonly viaService: string;
}

/**
 * The services whose `alias/aws/<service>` aliases are predefined in every account and Region.
 * Descriptions follow the DescribeKey output of real accounts ("Default key that protects my S3
 * objects when no other key is defined"); EBS keys are used through EC2, so their ViaService is
 * ec2 (the EBS example in the KMS developer guide, conditions-kms.md).
 */
export const AWS_MANAGED_SERVICES: Readonly<Record<string, ManagedService>> = Object.freeze({
  backup: { label: 'Backup', protects: 'Backup data', viaService: 'backup' },
  dynamodb: { label: 'DynamoDB', protects: 'DynamoDB data', viaService: 'dynamodb' },
  ebs: { label: 'EBS', protects: 'EBS volumes', viaService: 'ec2' },
  elasticfilesystem: { label: 'EFS', protects: 'EFS filesystems', viaService: 'elasticfilesystem' },
  glue: { label: 'Glue', protects: 'Glue data', viaService: 'glue' },
  kinesis: { label: 'Kinesis', protects: 'Kinesis data', viaService: 'kinesis' },
  lambda: { label: 'Lambda', protects: 'Lambda functions', viaService: 'lambda' },
  logs: { label: 'CloudWatch Logs', protects: 'CloudWatch Logs data', viaService: 'logs' },
  rds: { label: 'RDS', protects: 'RDS database volumes', viaService: 'rds' },
  redshift: { label: 'Redshift', protects: 'Redshift clusters', viaService: 'redshift' },
  s3: { label: 'S3', protects: 'S3 objects', viaService: 's3' },
  secretsmanager: { label: 'Secrets Manager', protects: 'Secrets Manager data', viaService: 'secretsmanager' },
  sns: { label: 'SNS', protects: 'SNS data', viaService: 'sns' },
  sqs: { label: 'SQS', protects: 'SQS messages', viaService: 'sqs' },
  ssm: { label: 'SSM', protects: 'SSM parameters', viaService: 'ssm' },
});

const PREFIX = 'alias/aws/';
const DAY_MS = 86_400_000;
/** AWS managed keys rotate every year since May 2022 (EnableKeyRotation API reference). */
export const AWS_MANAGED_ROTATION_DAYS = 365;

/** The service of a predefined alias name, or undefined when `aliasName` is not one. */
export function awsManagedService(aliasName: string): string | undefined {
  if (!aliasName.startsWith(PREFIX)) return undefined;
  const service = aliasName.slice(PREFIX.length);
  return Object.prototype.hasOwnProperty.call(AWS_MANAGED_SERVICES, service) ? service : undefined;
}

/** The predefined `alias/aws/*` names, sorted as ListAliases orders them. */
export const PREDEFINED_ALIAS_NAMES: readonly string[] = Object.freeze(
  Object.keys(AWS_MANAGED_SERVICES)
    .map((s) => PREFIX + s)
    .sort(),
);

/** An alias as ListAliases shows it: stored, or predefined and not used yet (then without a target). */
export type ListedAlias = Pick<AliasRecord, 'accountId' | 'region' | 'aliasName'> &
  Partial<Pick<AliasRecord, 'targetKeyId' | 'creationDate' | 'lastUpdatedDate'>>;

/**
 * Merges the predefined `alias/aws/*` aliases into one page of stored aliases: ListAliases
 * "includes predefined aliases" with no TargetKeyId until the AWS managed key exists (API
 * reference ListAliases). `stored` is the store's page of at most `limit` aliases after `after`;
 * a predefined name that sorts past a full page belongs to a later page and is left out, so
 * every alias appears exactly once across pages.
 */
export function withPredefinedAliases(
  stored: readonly AliasRecord[],
  accountId: string,
  region: string,
  after: string | undefined,
  limit: number,
): ListedAlias[] {
  const used = new Set(stored.map((a) => a.aliasName));
  const predefined = PREDEFINED_ALIAS_NAMES.filter((n) => (after === undefined || n > after) && !used.has(n)).map(
    (aliasName): ListedAlias => ({ accountId, region, aliasName }),
  );
  return [...stored, ...predefined].sort((a, b) => (a.aliasName < b.aliasName ? -1 : a.aliasName > b.aliasName ? 1 : 0)).slice(0, limit);
}

function serviceOf(service: string): ManagedService {
  const s = AWS_MANAGED_SERVICES[service];
  if (s === undefined) throw new Error(`no AWS managed key for service ${service}`);
  return s;
}

/** The description AWS gives the managed key of `service`. */
export function awsManagedDescription(service: string): string {
  return `Default key that protects my ${serviceOf(service).protects} when no other key is defined`;
}

/** The fixed key policy of an AWS managed key, in GetKeyPolicy's formatting (kms-reference.md §9.5). */
export function awsManagedKeyPolicy(accountId: string, region: string, service: string): string {
  const s = serviceOf(service);
  return `{
  "Version" : "2012-10-17",
  "Id" : "auto-${service}-1",
  "Statement" : [ {
    "Sid" : "Allow access through ${s.label} for all principals in the account that are authorized to use ${s.label}",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "*"
    },
    "Action" : [ "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey" ],
    "Resource" : "*",
    "Condition" : {
      "StringEquals" : {
        "kms:CallerAccount" : "${accountId}",
        "kms:ViaService" : "${s.viaService}.${region}.amazonaws.com"
      }
    }
  }, {
    "Sid" : "Allow direct access to key metadata to the account",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:aws:iam::${accountId}:root"
    },
    "Action" : [ "kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant" ],
    "Resource" : "*"
  } ]
}`;
}

/**
 * Refuses `action` (e.g. "kms:DisableKey") on an AWS managed key. The key's fixed policy lets the
 * account only describe, read and list it and revoke grants, and nobody can change that policy, so
 * AWS answers every other management call with the policy evaluator's AccessDeniedException.
 */
export function assertCustomerManaged(key: KeyRecord, action: string, caller: Caller): void {
  if (key.keyManager !== 'AWS') return;
  throw new ServiceError(
    'AccessDeniedException',
    `User: ${caller.principalArn} is not authorized to perform: ${action} on resource: ${key.arn} because no resource-based policy allows the ${action} action`,
  );
}

/**
 * The key id of the AWS managed key of `service` in one account and Region: a name-based UUID
 * (RFC 9562 version 8) of the three. Deriving it makes creation on first use race-free across
 * processes without a new store primitive: every concurrent creator inserts the same key ARN, the
 * store's primary key admits exactly one, and the others re-read it.
 */
export function awsManagedKeyId(accountId: string, region: string, service: string): string {
  const h = createHash('sha256').update(`keyhold/aws-managed-key/v1\0${accountId}\0${region}\0${service}`).digest();
  h[6] = ((h[6] as number) & 0x0f) | 0x80; // version 8
  h[8] = ((h[8] as number) & 0x3f) | 0x80; // RFC 9562 variant
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** What creating a managed key needs from the keyring. */
export interface AwsManagedKeyDeps {
  readonly store: AwsManagedKeyStore;
  readonly now: () => number;
  /** Fresh material for version 1 of `arn`, wrapped by the root of trust. */
  readonly newVersion: (arn: string) => Promise<KeyVersionRecord>;
}

/**
 * Returns the alias of the AWS managed key `aliasName` names, creating key and alias on first use.
 * Idempotent and safe under concurrency: the key ARN is derived (awsManagedKeyId), a lost insert
 * race is answered by re-reading, and the alias insert is ON CONFLICT DO NOTHING followed by a
 * re-read. A crash between the two inserts is repaired by the next use.
 */
export async function ensureAwsManagedKey(deps: AwsManagedKeyDeps, accountId: string, region: string, aliasName: string): Promise<AliasRecord | undefined> {
  const service = awsManagedService(aliasName);
  if (service === undefined) return undefined;
  const existing = await deps.store.getAlias(accountId, region, aliasName);
  if (existing !== undefined) return existing;

  const keyId = awsManagedKeyId(accountId, region, service);
  const arn = keyArn(region, accountId, keyId);
  let key = await deps.store.getKey(arn);
  if (key === undefined) {
    const now = deps.now();
    const version = await deps.newVersion(arn);
    const record = newKeyRecord(
      {
        keyId,
        arn,
        accountId,
        region,
        keySpec: 'SYMMETRIC_DEFAULT',
        keyUsage: 'ENCRYPT_DECRYPT',
        origin: 'AWS_KMS',
        keyManager: 'AWS',
        state: 'Enabled',
        description: awsManagedDescription(service),
        policy: awsManagedKeyPolicy(accountId, region, service),
        creationDate: now,
        currentVersion: 1,
      },
      { rotationEnabled: true, rotationPeriodInDays: AWS_MANAGED_ROTATION_DAYS, nextRotationDate: now + AWS_MANAGED_ROTATION_DAYS * DAY_MS },
    );
    try {
      await deps.store.createKey(record, version, []);
      key = record;
    } catch (e) {
      key = await deps.store.getKey(arn); // another request created it first
      if (key === undefined) throw e;
    }
  }
  await deps.store.createAlias({
    accountId,
    region,
    aliasName,
    targetKeyId: keyId,
    targetKeyArn: arn,
    creationDate: key.creationDate,
    lastUpdatedDate: key.creationDate,
  });
  return deps.store.getAlias(accountId, region, aliasName);
}
