/**
 * Assertions shared by the conformance tests: an AWS error asserted by name and message (STYLE
 * habit 8), and AWS's validation message for one member.
 */
import assert from 'node:assert/strict';

/**
 * Asserts that `p` rejects with an error named `name` whose message equals `message` (a string)
 * or matches it (a RegExp); without `message`, only the name is checked.
 */
export async function rejects(p: Promise<unknown>, name: string, message?: string | RegExp): Promise<void> {
  await assert.rejects(p, (err: Error) => {
    assert.equal(err.name, name, `expected ${name}, got ${err.name}: ${err.message}`);
    if (typeof message === 'string') assert.equal(err.message, message);
    else if (message instanceof RegExp) assert.match(err.message, message);
    return true;
  });
}

/**
 * A ValidationException message in AWS's form, for one `member` failing `constraint`: the value
 * quoted (`Value 'x' at ...`), `null` for a missing member (`Value null at ...`), or left out for a
 * sensitive member (`value` omitted: `Value at ...`).
 */
export function validation(member: string, constraint: string, value?: string | number | null): string {
  const v = value === undefined ? '' : value === null ? 'null ' : `'${value}' `;
  return `1 validation error detected: Value ${v}at '${member}' failed to satisfy constraint: Member must ${constraint}`;
}
