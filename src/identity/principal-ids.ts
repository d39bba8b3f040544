/**
 * The unique id behind a principal ARN (IAM User Guide, reference_identifiers "Unique
 * identifiers"): AWS binds grants and sessions to the principal that exists when they are made,
 * so a user or role deleted and created again under the same name (a new AIDA…/AROA… id) does
 * not inherit them (issue 12 item 8).
 */
import type { IdentityRepository } from '../store/store';

const IAM_ENTITY = /^arn:aws[a-z-]*:iam::(\d{12}):(user|role)(\/(?:.*\/)?)([^/]+)$/;
const SESSION = /^arn:aws[a-z-]*:sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/;

/**
 * The unique id of the IAM user or role an ARN names (the role of an assumed-role session ARN),
 * when this deployment holds it with exactly that ARN (path included); null otherwise (an account
 * root, a service, an unknown principal).
 */
export async function principalUniqueId(store: IdentityRepository, arn: string): Promise<string | null> {
  const m = IAM_ENTITY.exec(arn);
  if (m !== null) {
    const e = await store.identity.getIamEntity(m[1] as string, m[2] as 'user' | 'role', m[4] as string);
    return e !== undefined && e.arn === arn ? e.id : null;
  }
  const s = SESSION.exec(arn);
  if (s !== null) {
    const e = await store.identity.getIamEntity(s[1] as string, 'role', s[2] as string);
    return e !== undefined && e.name === s[2] ? e.id : null;
  }
  return null;
}
