/**
 * Rewriting the principal a deleted IAM user or role was (issue 12 item 8) in the policies that
 * name it: key policies and role trust policies. Statements only, run inside the caller's
 * transaction, so IAM DeleteUser/DeleteRole rewrite in the same transaction as the delete
 * (src/store/identity-store.ts `deleteIamEntity`), and `rewriteTrustPolicies` alone.
 */
import type { Row, Statement } from './connection';

/** A prepared-statement source on the transaction's connection. */
export type Statements = (sql: string) => Statement;

/** A JSON document may spell "/" as "\/": both spellings are looked for. */
function spellings(needle: string): [string, string] {
  return [needle, needle.replace(/\//g, '\\/')];
}

/** Every key whose policy contains `needle` (case-insensitively) gets `rewrite`'s policy; returns the ARNs changed. */
export function rewriteKeyPolicyRows(stmt: Statements, needle: string, rewrite: (policy: string) => string | undefined): string[] {
  const rows = stmt('SELECT arn, policy FROM keys WHERE instr(lower(policy), lower(?)) > 0 OR instr(lower(policy), lower(?)) > 0').all(
    ...spellings(needle),
  ) as Row[];
  const changed: string[] = [];
  for (const r of rows) {
    const next = rewrite(r.policy as string);
    if (next === undefined) continue;
    stmt('UPDATE keys SET policy = ? WHERE arn = ?').run(next, r.arn);
    changed.push(r.arn as string);
  }
  return changed;
}

/** Every role whose trust policy contains `needle` (case-insensitively) gets `rewrite`'s policy; returns how many changed. */
export function rewriteTrustPolicyRows(stmt: Statements, needle: string, rewrite: (policy: string) => string | undefined): number {
  const rows = stmt(
    `SELECT id, assume_role_policy FROM iam_entities WHERE kind = 'role' AND assume_role_policy IS NOT NULL
       AND (instr(lower(assume_role_policy), lower(?)) > 0 OR instr(lower(assume_role_policy), lower(?)) > 0)`,
  ).all(...spellings(needle)) as Row[];
  let n = 0;
  for (const r of rows) {
    const next = rewrite(r.assume_role_policy as string);
    if (next === undefined) continue;
    stmt('UPDATE iam_entities SET assume_role_policy = ? WHERE id = ?').run(next, r.id);
    n += 1;
  }
  return n;
}
