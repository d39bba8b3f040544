/**
 * The audit-signing key: an Ed25519 key pair (RFC 8032) made when the trail is created. The
 * private key is stored only wrapped by the root of trust (AAD binds it to the trail), so
 * digests can be forged only by someone who can unwrap with the root of trust. The public key is
 * stored in the trail and beside it (`audit-signing-key.pem` in the data directory) so digests
 * verify offline; keep a copy elsewhere, since whoever can rewrite the data directory can
 * replace both.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { RootOfTrust } from '../trust/root-of-trust';
import { publicKeyFingerprint } from './chain';

/** File name of the public key beside the trail. */
export const PUBLIC_KEY_FILE = 'audit-signing-key.pem';

const WRAPPED = 'signing_key_wrapped';
const PUBLIC = 'signing_public_key';

function aad(trailId: string): Buffer {
  return Buffer.from(`keyhold/audit-signing-key/v1\0${trailId}`);
}

function writeDurably(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o644 });
  const fd = openSync(tmp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** The unwrapped signing key of a trail. */
export interface SigningKey {
  readonly privateKey: KeyObject;
  readonly publicKeyPem: string;
  readonly fingerprint: string;
}

/**
 * Where the wrapped key and its public half are kept: the trail's settings, synchronous on SQLite
 * (audit-log.ts `AuditStore`) or asynchronous on PostgreSQL (store/postgres/audit-log-postgres.ts).
 */
export interface SigningKeySettings {
  trailId(): string | Promise<string>;
  getSetting(name: string): string | undefined | Promise<string | undefined>;
  setSettingIfAbsent(name: string, value: string): string | Promise<string>;
}

/**
 * Opens the trail's signing key, creating it on first use, and makes sure `publicKeyPath`
 * (when given) holds its public key. Throws when that file holds a different key.
 */
export async function openSigningKey(log: SigningKeySettings, trust: RootOfTrust, publicKeyPath: string | undefined): Promise<SigningKey> {
  const trailId = await log.trailId();
  if ((await log.getSetting(WRAPPED)) === undefined) {
    const pair = generateKeyPairSync('ed25519');
    const der = pair.privateKey.export({ format: 'der', type: 'pkcs8' });
    try {
      // The wrapped private key first, the public half derived from whichever wrapped key was
      // stored: two nodes creating the key at once on one database (issue 14) then agree on
      // the pair, and a crash between the two writes leaves nothing that cannot be completed.
      await log.setSettingIfAbsent(WRAPPED, (await trust.wrap(der, aad(trailId))).toString('base64'));
    } finally {
      der.fill(0);
    }
  }
  const der = await trust.unwrap(Buffer.from((await log.getSetting(WRAPPED)) as string, 'base64'), aad(trailId));
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } finally {
    der.fill(0);
  }
  const publicKeyPem = createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }) as string;
  // Written only when missing: readers (audit export) open the trail read-only.
  const storedPublic = (await log.getSetting(PUBLIC)) ?? (await log.setSettingIfAbsent(PUBLIC, publicKeyPem));
  if (storedPublic !== publicKeyPem) throw new Error('the audit trail\'s public signing key does not match its private key');
  if (publicKeyPath === undefined) {
    // no copy beside the trail to keep (a PostgreSQL trail read by a machine without a data directory)
  } else if (!existsSync(publicKeyPath)) {
    writeDurably(publicKeyPath, publicKeyPem);
  } else if (readFileSync(publicKeyPath, 'utf8') !== publicKeyPem) {
    throw new Error(`${publicKeyPath} holds another public key than this audit trail's signing key`);
  }
  return { privateKey, publicKeyPem, fingerprint: publicKeyFingerprint(publicKeyPem) };
}
