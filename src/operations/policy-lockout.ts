/**
 * The key policy checks of CreateKey, PutKeyPolicy and ReplicateKey that need the caller
 * (kms-reference.md §9.2; KMS Developer Guide, key-policy-default "policy lockout safety
 * check"): every IAM user and role the policy names must exist, and — unless the request sets
 * BypassPolicyLockoutSafetyCheck — the new policy must let the calling principal call
 * PutKeyPolicy on the key afterwards, as decided by the same evaluation every request gets
 * (key policy, identity-based and session policies, SCPs; grants cannot give PutKeyPolicy).
 */
import { ServiceError } from '../errors';
import { compilePolicy, parseKeyPolicy, type PolicyDocument } from '../policy';
import type { KeyRecord, TagRecord } from '../store/records';
import { decideKms, type CandidateKeyPolicy } from './authorize';
import type { RequestContext, Services } from './operation';
import type { IdentityRepository } from '../store/store';
import type { KmsAuthorizationStore } from './authorize';

/** AWS's message when the new policy would lock the caller out. */
export const LOCKOUT_MESSAGE = 'The new key policy will not allow you to update the key policy in the future.';
/** AWS's message when a policy names a principal that does not exist. */
export const INVALID_PRINCIPALS_MESSAGE = 'Policy contains a statement with one or more invalid principals.';

const IAM_ENTITY = /^arn:aws[a-z-]*:iam::(\d{12}):(user|role)(\/(?:.*\/)?)([^/]+)$/;

/** Throws MalformedPolicyDocumentException when the policy names an IAM user or role that does not exist. */
export async function assertPrincipalsExist(svc: Services<IdentityRepository>, doc: PolicyDocument): Promise<void> {
  const seen = new Set<string>();
  for (const s of doc.statements) {
    for (const spec of [s.principal, s.notPrincipal]) {
      if (spec === undefined) continue;
      for (const value of spec.aws) {
        // '*', account ids, account roots and STS session ARNs always name something.
        const m = IAM_ENTITY.exec(value);
        if (m === null || seen.has(value)) continue;
        seen.add(value);
        const entity = await svc.store.identity.getIamEntity(m[1] as string, m[2] as 'user' | 'role', m[4] as string);
        if (entity === undefined || entity.arn.toLowerCase() !== value.toLowerCase()) {
          throw new ServiceError('MalformedPolicyDocumentException', INVALID_PRINCIPALS_MESSAGE);
        }
      }
    }
  }
}

/** What the checks need to know about the key the policy is for. */
export interface NewKeyPolicy {
  readonly text: string;
  /** The key (or the key about to be created) the policy is for. */
  readonly key: KeyRecord;
  readonly bypass: boolean;
  /** For a key not created yet: its tags (aws:ResourceTag in the lockout evaluation). */
  readonly newKeyTags?: readonly TagRecord[];
}

/**
 * Parses and checks a key policy the caller wants to install: the document checks of
 * src/policy/key-policy.ts, principals that exist, and the lockout safety check. Returns the
 * compiled policy, so its first use needs no compile.
 */
export async function checkNewKeyPolicy(ctx: RequestContext, svc: Services<KmsAuthorizationStore>, p: NewKeyPolicy): Promise<CandidateKeyPolicy> {
  const doc = parseKeyPolicy(p.text);
  await assertPrincipalsExist(svc, doc);
  const candidate: CandidateKeyPolicy = { text: p.text, compiled: compilePolicy(doc) };
  if (p.bypass) return candidate;
  const d = await decideKms(
    ctx,
    svc,
    { action: 'kms:PutKeyPolicy', key: p.key, conditions: { 'kms:BypassPolicyLockoutSafetyCheck': false } },
    { keyPolicy: candidate, withGrants: false, ...(p.newKeyTags === undefined ? {} : { newKeyTags: p.newKeyTags }) },
  );
  if (!d.allowed) throw new ServiceError('MalformedPolicyDocumentException', LOCKOUT_MESSAGE);
  return candidate;
}
