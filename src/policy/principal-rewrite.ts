/**
 * Replacing a principal in a policy document. AWS stores a user or role named in a resource-based
 * policy as its unique principal id and shows the ARN again on reading; once the user or role is
 * deleted the id no longer maps back, so the policy shows the id (AIDA…/AROA…) and a user or role
 * created again under the same name is not named by it (IAM User Guide,
 * reference_policies_elements_principal and id_roles_create_policy-examples). Keyhold gets the
 * same result by rewriting the ARN to the id when the user or role is deleted. Pure; issue 12 item 8.
 */

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function replaceIn(value: Json, from: string, to: string): { value: Json; changed: boolean } {
  if (typeof value === 'string') return value.toLowerCase() === from ? { value: to, changed: true } : { value, changed: false };
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((v) => {
      const r = replaceIn(v, from, to);
      changed ||= r.changed;
      return r.value;
    });
    return { value: out, changed };
  }
  return { value, changed: false };
}

/**
 * The document with every `AWS` principal value equal to `arn` (compared case-insensitively, as
 * IAM names are) in Principal and NotPrincipal replaced by `uniqueId`; undefined when the
 * document does not name it (or is not JSON).
 */
export function replacePrincipal(document: string, arn: string, uniqueId: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(document);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const doc = parsed as Record<string, Json>;
  const statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement !== undefined ? [doc.Statement] : [];
  const from = arn.toLowerCase();
  let changed = false;
  for (const s of statements) {
    if (s === null || typeof s !== 'object' || Array.isArray(s)) continue;
    for (const element of ['Principal', 'NotPrincipal']) {
      const p = s[element];
      if (p === null || typeof p !== 'object' || Array.isArray(p) || p.AWS === undefined) continue;
      const r = replaceIn(p.AWS, from, uniqueId);
      if (r.changed) {
        p.AWS = r.value;
        changed = true;
      }
    }
  }
  return changed ? JSON.stringify(doc) : undefined;
}
