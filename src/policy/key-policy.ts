/**
 * Key policy documents: the default policy and the structural checks KMS applies on CreateKey
 * and PutKeyPolicy (kms-reference.md §6 PolicyType, §9.2, §9.4). Enforcement comes with the
 * authorization issue; until then policies are stored and validated only.
 */
import { ServiceError } from '../errors';

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

function malformed(why: string): ServiceError {
  return new ServiceError('MalformedPolicyDocumentException', why);
}

const STATEMENT_KEYS = new Set(['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);

function isStringOrStrings(v: unknown): boolean {
  return typeof v === 'string' || (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string'));
}

/** Checks a key policy document; throws MalformedPolicyDocumentException or LimitExceededException. */
export function validateKeyPolicy(policy: string): void {
  if (Buffer.byteLength(policy, 'utf8') > MAX_KEY_POLICY_BYTES) {
    throw new ServiceError('LimitExceededException', `The key policy exceeds the maximum size of ${MAX_KEY_POLICY_BYTES} bytes.`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(policy);
  } catch {
    throw malformed('The new key policy is not valid JSON.');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw malformed('The new key policy must be a JSON object.');
  const d = doc as Record<string, unknown>;
  if (d.Version !== undefined && d.Version !== '2012-10-17' && d.Version !== '2008-10-17') {
    throw malformed('The policy Version must be "2012-10-17" or "2008-10-17".');
  }
  const statements = Array.isArray(d.Statement) ? d.Statement : d.Statement === undefined ? undefined : [d.Statement];
  if (statements === undefined || statements.length === 0) throw malformed('The new key policy has no Statement.');
  statements.forEach((s: unknown, i: number) => {
    const where = `Statement ${i + 1}`;
    if (typeof s !== 'object' || s === null || Array.isArray(s)) throw malformed(`${where} is not a JSON object.`);
    const st = s as Record<string, unknown>;
    for (const k of Object.keys(st)) if (!STATEMENT_KEYS.has(k)) throw malformed(`${where} has an unknown element ${JSON.stringify(k)}.`);
    if (st.Effect !== 'Allow' && st.Effect !== 'Deny') throw malformed(`${where} must have an Effect of "Allow" or "Deny".`);
    if ((st.Principal === undefined) === (st.NotPrincipal === undefined)) {
      throw malformed(`${where} must have exactly one of Principal or NotPrincipal.`);
    }
    const principal = st.Principal ?? st.NotPrincipal;
    if (principal !== '*') {
      if (typeof principal !== 'object' || principal === null || Array.isArray(principal)) {
        throw malformed(`${where} has an invalid principal.`);
      }
      for (const [k, v] of Object.entries(principal as Record<string, unknown>)) {
        if (!['AWS', 'Service', 'Federated', 'CanonicalUser'].includes(k) || !isStringOrStrings(v)) {
          throw malformed(`${where} has an invalid principal.`);
        }
      }
    }
    if ((st.Action === undefined) === (st.NotAction === undefined)) throw malformed(`${where} must have exactly one of Action or NotAction.`);
    if (!isStringOrStrings(st.Action ?? st.NotAction)) throw malformed(`${where} has an invalid Action.`);
    const resource = st.Resource ?? st.NotResource;
    if (resource !== undefined && !isStringOrStrings(resource)) throw malformed(`${where} has an invalid Resource.`);
    if (st.Condition !== undefined && (typeof st.Condition !== 'object' || st.Condition === null || Array.isArray(st.Condition))) {
      throw malformed(`${where} has an invalid Condition.`);
    }
  });
}
