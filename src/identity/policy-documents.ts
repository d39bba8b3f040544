/**
 * Validation of the policy documents IAM, STS and Organizations accept: the policy language
 * checks of src/policy/document.ts plus each API's own rules and size quotas (IAM User Guide,
 * reference_iam-quotas: managed policy 6,144 characters; inline policies per user 2,048, per
 * group 5,120, per role 10,240; role trust policy 2,048; SCP 5,120 — all counted without
 * whitespace).
 */
import { ServiceError } from '../errors';
import { compilePolicy, parsePolicy, parsePolicyObject, type CompiledPolicy, type PolicyDocument, type PolicyKind } from '../policy';

/** IAM's quotas in characters (whitespace not counted). */
export const POLICY_QUOTAS = Object.freeze({
  managed: 6_144,
  userInline: 2_048,
  groupInline: 5_120,
  roleInline: 10_240,
  trust: 2_048,
  scp: 5_120,
});

/** The size IAM charges a policy: its characters without whitespace. */
export function policySize(document: string): number {
  let n = 0;
  for (const ch of document) if (!/\s/.test(ch)) n++;
  return n;
}

/** Parses an identity-based (or session, or SCP) policy; throws MalformedPolicyDocumentException. */
export function validateIdentityPolicy(document: string, kind: Exclude<PolicyKind, 'resource'> = 'identity'): PolicyDocument {
  return parsePolicy(document, { kind });
}

/**
 * Validates a role trust policy (AssumeRolePolicyDocument): a resource-based policy with a
 * principal in every statement, STS actions only and no Resource element, as IAM requires.
 */
export function validateTrustPolicy(document: string): PolicyDocument {
  if (policySize(document) > POLICY_QUOTAS.trust) {
    throw new ServiceError('LimitExceededException', `Cannot exceed quota for ACLSizePerRole: ${POLICY_QUOTAS.trust}`);
  }
  const doc = parsePolicy(document, { kind: 'resource' });
  for (const s of doc.statements) {
    if (s.resource !== undefined || s.notResource !== undefined) {
      throw new ServiceError('MalformedPolicyDocumentException', 'Has prohibited field Resource');
    }
    for (const a of s.action ?? s.notAction ?? []) {
      if (!a.toLowerCase().startsWith('sts:')) {
        throw new ServiceError('MalformedPolicyDocumentException', 'AssumeRole policy may only specify STS AssumeRole actions.');
      }
    }
  }
  return doc;
}

const trustCache = new Map<string, CompiledPolicy>();

/**
 * Compiles a role's trust policy for evaluation. A trust policy has no Resource element (the
 * role is its resource) while src/policy treats a resource-based statement without Resource as
 * matching nothing (the KMS key-policy rule), so each statement gets `"Resource": "*"` here.
 */
export function compileTrustPolicy(document: string): CompiledPolicy {
  let c = trustCache.get(document);
  if (c === undefined) {
    const doc = JSON.parse(document) as { Statement: unknown };
    const statements = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
    for (const s of statements as Record<string, unknown>[]) if (s.Resource === undefined && s.NotResource === undefined) s.Resource = '*';
    if (trustCache.size >= 10_000) trustCache.clear();
    c = compilePolicy(parsePolicyObject(doc, { kind: 'resource' }));
    trustCache.set(document, c);
  }
  return c;
}
