/**
 * UpdateAlias is a compare-and-swap (issue 12 item 9). A user may re-point aliases away from keys
 * A and C but not from B. While the account root moves an alias A → B, the user moves it to C:
 * the user's call may win only if the alias still pointed at A when it moved; when the root's
 * move lands first the user must be re-authorized against B and refused. Two worker processes
 * serve the calls, so they truly run at the same time; the invariant is checked on every round.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CreateAliasCommand, ListAliasesCommand, UpdateAliasCommand } from '@aws-sdk/client-kms';
import { allow, deniedMessage, World, type Key, type Principal } from './harness';

let world: World;
let user: Principal;
let a: Key;
let b: Key;
let c: Key;

before(async () => {
  world = await World.start({ workers: 2 });
  [a, b, c] = [await world.key(), await world.key(), await world.key()];
  const aliases = world.aliasArn('alias/*');
  user = await world.user('mover', { statements: [allow('kms:UpdateAlias', [aliases, a.arn, c.arn])] });
});
after(async () => {
  await world.stop();
});

test('concurrent UpdateAlias calls: each moves the alias only from the key it was authorized against', async () => {
  const rounds = 30;
  let userWon = 0;
  let userRefused = 0;
  for (let i = 0; i < rounds; i++) {
    const name = `alias/cas-${i}`;
    await world.root.kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: a.id }));
    const [byRoot, byUser] = await Promise.allSettled([
      world.root.kms.send(new UpdateAliasCommand({ AliasName: name, TargetKeyId: b.id })),
      user.kms.send(new UpdateAliasCommand({ AliasName: name, TargetKeyId: c.id })),
    ]);
    assert.equal(byRoot.status, 'fulfilled', `round ${i}: the root's call failed`);
    const listed = await world.root.kms.send(new ListAliasesCommand({ KeyId: b.id, Limit: 100 }));
    // Either the user moved A → C and then the root C → B, or the root moved first and the user was refused: B at the end, always.
    assert.ok(listed.Aliases!.some((x) => x.AliasName === name), `round ${i}: the alias ended away from B (the user moved it from B)`);
    if (byUser.status === 'fulfilled') userWon++;
    else {
      userRefused++;
      const e = byUser.reason as Error;
      assert.equal(e.name, 'AccessDeniedException');
      assert.equal(e.message, deniedMessage(user.arn, 'kms:UpdateAlias', b.arn, 'no-identity'));
    }
  }
  assert.equal(userWon + userRefused, rounds);
});
