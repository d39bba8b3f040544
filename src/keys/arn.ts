/**
 * KMS resource names: key and alias ARNs, key ids (kms-reference.md §3.1, §3.2).
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MRK = /^mrk-[0-9a-f]{32}$/;
const ARN = /^arn:(aws[a-zA-Z-]*):kms:([a-z0-9-]+):(\d{12}):(key|alias)\/(.+)$/;

/** The ARN of a key. */
export function keyArn(region: string, accountId: string, keyId: string): string {
  return `arn:aws:kms:${region}:${accountId}:key/${keyId}`;
}

/** The ARN of an alias; `aliasName` includes the `alias/` prefix. */
export function aliasArn(region: string, accountId: string, aliasName: string): string {
  return `arn:aws:kms:${region}:${accountId}:${aliasName}`;
}

/** Whether `s` looks like a key id (UUID or multi-Region mrk- id). */
export function isKeyId(s: string): boolean {
  return UUID.test(s) || MRK.test(s);
}

/** A parsed KMS ARN. */
export interface ParsedArn {
  readonly region: string;
  readonly accountId: string;
  readonly resourceType: 'key' | 'alias';
  /** key id, or the alias name with its `alias/` prefix */
  readonly resource: string;
}

/** Parses a KMS key or alias ARN; undefined when it is not one. */
export function parseKmsArn(s: string): ParsedArn | undefined {
  const m = ARN.exec(s);
  if (m === null) return undefined;
  const type = m[4] as 'key' | 'alias';
  return {
    region: m[2] as string,
    accountId: m[3] as string,
    resourceType: type,
    resource: type === 'alias' ? `alias/${m[5] as string}` : (m[5] as string),
  };
}
