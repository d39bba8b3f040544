/**
 * Key policy documents: the default policy and the checks KMS applies on CreateKey and
 * PutKeyPolicy (kms-reference.md §6 PolicyType, §9.1, §9.2, §9.4): the 32 KiB size quota, the
 * policy language (document.ts, as a resource-based policy), and KMS's rejection of
 * `ForAllValues` on single-valued keys. The lockout safety check needs the caller and lives
 * with the operations.
 */
import { ServiceError } from '../errors';
import { parsePolicy, type PolicyDocument } from './document';
import { CompiledPolicy } from './evaluate';

/** KMS's key policy size quota: 32 KiB (kms-reference.md §6). */
export const MAX_KEY_POLICY_BYTES = 32_768;

/** The policy CreateKey installs when the request has none, in GetKeyPolicy's formatting. */
export function defaultKeyPolicy(accountId: string): string {
  return `{
  "Version" : "2012-10-17",
  "Id" : "key-default-1",
  "Statement" : [ {
    "Sid" : "Enable IAM User Permissions",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:aws:iam::${accountId}:root"
    },
    "Action" : "kms:*",
    "Resource" : "*"
  } ]
}`;
}

/**
 * KMS rejects ForAllValues with these single-valued keys: it would match requests without the
 * context or tag at all (kms-reference.md §9.1, kms:EncryptionContext:* and aws:RequestTag/*).
 */
const OVERLY_PERMISSIVE: readonly { readonly prefix: string; readonly message: string }[] = [
  {
    prefix: 'kms:encryptioncontext:',
    message:
      'OverlyPermissiveCondition:EncryptionContext: Using the ForAllValues set operator with a single-valued condition key matches requests without the specified encryption context or with an unspecified encryption context. To fix, remove ForAllValues.',
  },
  {
    prefix: 'aws:requesttag/',
    message:
      'OverlyPermissiveCondition:RequestTag: Using the ForAllValues set operator with a single-valued condition key matches requests without the specified tag or with an unspecified tag. To fix, remove ForAllValues.',
  },
];

/** Parses and checks a key policy; throws MalformedPolicyDocumentException or LimitExceededException. */
export function parseKeyPolicy(policy: string): PolicyDocument {
  if (Buffer.byteLength(policy, 'utf8') > MAX_KEY_POLICY_BYTES) {
    throw new ServiceError('LimitExceededException', `The key policy exceeds the maximum size of ${MAX_KEY_POLICY_BYTES} bytes.`);
  }
  const doc = parsePolicy(policy, { kind: 'resource', documentName: 'new key policy' });
  for (const s of doc.statements) {
    for (const c of s.conditions) {
      if (c.qualifier !== 'ForAllValues') continue;
      const key = c.key.toLowerCase();
      const rule = OVERLY_PERMISSIVE.find((r) => key.startsWith(r.prefix));
      if (rule !== undefined) throw new ServiceError('MalformedPolicyDocumentException', rule.message);
    }
  }
  return doc;
}

/** Checks a key policy document; throws MalformedPolicyDocumentException or LimitExceededException. */
export function validateKeyPolicy(policy: string): void {
  parseKeyPolicy(policy);
}

/** Parses, checks and compiles a key policy for evaluation. */
export function compileKeyPolicy(policy: string): CompiledPolicy {
  return new CompiledPolicy(parseKeyPolicy(policy));
}
