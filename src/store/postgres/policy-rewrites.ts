/**
 * Rewriting the principal a deleted IAM user or role was (issue 12 item 8) in the policies that
 * name it: key policies and role trust policies. Statements only, run inside the caller's
 * transaction, so IAM DeleteUser/DeleteRole rewrite in the same transaction as the delete
 * (src/store/identity-store.ts `deleteIamEntity`), and `rewriteTrustPolicies` alone. Rows are
 * locked in a fixed order (by primary key), so two such transactions never deadlock each other.
 */
import type { Row } from './postgres-rows';

/** A statement on the transaction's connection, returning its rows. */
export type RowsQuery = (sql: string, params: readonly unknown[]) => Promise<Row[]>;

/** A JSON document may spell "/" as "\/": both spellings are looked for. */
function spellings(needle: string): [string, string] {
  return [needle, needle.replace(/\//g, '\\/')];
}

/** Every key whose policy contains `needle` (case-insensitively) gets `rewrite`'s policy; returns the ARNs changed. */
export async function rewriteKeyPolicyRows(q: RowsQuery, needle: string, rewrite: (policy: string) => string | undefined): Promise<string[]> {
  // strpos on lower(): a literal substring (no LIKE wildcards), as SQLite's instr.
  const rows = await q(
    'SELECT arn, policy FROM keys WHERE strpos(lower(policy), lower($1)) > 0 OR strpos(lower(policy), lower($2)) > 0 ORDER BY arn FOR UPDATE',
    spellings(needle),
  );
  const changed: string[] = [];
  for (const r of rows) {
    const next = rewrite(r.policy as string);
    if (next === undefined) continue;
    await q('UPDATE keys SET policy = $1 WHERE arn = $2', [next, r.arn]);
    changed.push(r.arn as string);
  }
  return changed;
}

/** Every role whose trust policy contains `needle` (case-insensitively) gets `rewrite`'s policy; returns how many changed. */
export async function rewriteTrustPolicyRows(q: RowsQuery, needle: string, rewrite: (policy: string) => string | undefined): Promise<number> {
  const rows = await q(
    `SELECT id, assume_role_policy FROM iam_entities WHERE kind = 'role' AND assume_role_policy IS NOT NULL
       AND (strpos(lower(assume_role_policy COLLATE "C"), lower($1 COLLATE "C")) > 0
         OR strpos(lower(assume_role_policy COLLATE "C"), lower($2 COLLATE "C")) > 0)
     ORDER BY id FOR UPDATE`,
    spellings(needle),
  );
  let n = 0;
  for (const r of rows) {
    const next = rewrite(r.assume_role_policy as string);
    if (next === undefined) continue;
    await q('UPDATE iam_entities SET assume_role_policy = $1 WHERE id = $2', [next, r.id]);
    n += 1;
  }
  return n;
}
