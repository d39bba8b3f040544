/**
 * The trail's signing key when several nodes open a new trail at once (issue 14: nodes starting
 * together on one database): whatever the interleaving of their reads and writes of the trail's
 * settings, they all end with the same key pair, and the stored public key is its public half.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openSigningKey, type SigningKeySettings } from '../../src/audit/signing-key';
import { openLocalRootOfTrust } from '../../src/trust/local';

const dir = mkdtempSync(join(tmpdir(), 'keyhold-signing-key-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Settings in memory (as one database holds them) with the interleaving that splits a pair: the
 * first reads of the wrapped key wait until `racers` have read it (so each finds none); of the
 * racers' writes, the public keys land in the order they arrive and the wrapped keys in the
 * reverse order (a later racer's first).
 */
function racingSettings(racers: number): SigningKeySettings & { values: Map<string, string> } {
  const values = new Map<string, string>();
  let readers = 0;
  let release: () => void = () => undefined;
  const allRead = new Promise<void>((r) => (release = r));
  const arrivals = new Map<string, number>();
  return {
    values,
    trailId: async () => 'trail-1',
    getSetting: async (name) => {
      if (name === 'signing_key_wrapped' && readers < racers) {
        const seen = values.get(name);
        readers += 1;
        if (readers === racers) release();
        await allRead;
        return seen;
      }
      return values.get(name);
    },
    setSettingIfAbsent: async (name, value) => {
      const k = arrivals.get(name) ?? 0;
      arrivals.set(name, k + 1);
      await new Promise((r) => setTimeout(r, 10 * (name === 'signing_key_wrapped' ? racers - k : k)));
      if (!values.has(name)) values.set(name, value);
      return values.get(name) as string;
    },
  };
}

test('nodes creating the signing key at once agree on one key pair, whatever the interleaving', async () => {
  const trust = openLocalRootOfTrust({ dataDir: dir, passphrase: 'signing key race' });
  try {
    for (const racers of [2, 3]) {
      const settings = racingSettings(racers);
      const keys = await Promise.all(Array.from({ length: racers }, () => openSigningKey(settings, trust, undefined)));
      const fingerprints = new Set(keys.map((k) => k.fingerprint));
      assert.equal(fingerprints.size, 1, `${racers} racers: ${[...fingerprints].join(', ')}`);
      assert.equal(settings.values.get('signing_public_key'), keys[0]?.publicKeyPem);
    }
  } finally {
    await trust.close();
  }
});

test('a stored public key that is not the private key\'s half is refused', async () => {
  const trust = openLocalRootOfTrust({ dataDir: dir, passphrase: 'signing key race' });
  try {
    const settings = racingSettings(1);
    await openSigningKey(settings, trust, undefined);
    const other = racingSettings(1);
    await openSigningKey(other, trust, undefined);
    settings.values.set('signing_public_key', other.values.get('signing_public_key') as string);
    await assert.rejects(openSigningKey(settings, trust, undefined), { message: 'the audit trail\'s public signing key does not match its private key' });
  } finally {
    await trust.close();
  }
});
