/**
 * Local root of trust: a random 256-bit domain key kept in the data directory, sealed with
 * AES-256-GCM under a key derived by scrypt from an operator secret (a passphrase or the bytes
 * of a key file). Wrapping uses AES-256-GCM with a random 96-bit IV per blob (NIST SP 800-38D
 * §8.2.2; at well under 2^32 wraps per domain key).
 */
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import type { RootOfTrust } from './root-of-trust';

const SEALED_FILE = 'domain-key.sealed';
/** The key file generated in the data directory when no passphrase or key file is given. */
export const MASTER_KEY_FILE = 'master.key';
const WRAP_FORMAT = 0x01;
const IV_LEN = 12;
const TAG_LEN = 16;
// scrypt cost (RFC 7914 §2): N=2^15, r=8, p=1 ≈ 32 MiB and ~100 ms, paid once per process start.
const SCRYPT = Object.freeze({ N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });

/** Where the operator secret comes from. */
export interface LocalTrustOptions {
  readonly dataDir: string;
  /** KEYHOLD_MASTER_PASSPHRASE */
  readonly passphrase?: string;
  /** KEYHOLD_MASTER_KEY_FILE; defaults to DIR/master.key, generated when neither is set. */
  readonly keyFile?: string;
  /** Told when a key file is generated, so the operator knows to back it up. */
  readonly onGenerated?: (path: string) => void;
}

interface SealedFile {
  v: 1;
  kdf: 'scrypt';
  N: number;
  r: number;
  p: number;
  salt: string;
  iv: string;
  tag: string;
  ct: string;
  /** How the sealing key is obtained, so a later start with the other kind fails clearly. */
  secret: 'passphrase' | 'keyfile';
}

function writeFileDurably(path: string, data: string | Buffer, mode: number): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data, { mode });
  const fd = openSync(tmp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  chmodSync(path, mode);
}

function operatorSecret(opts: LocalTrustOptions): { secret: Buffer; kind: SealedFile['secret'] } {
  if (opts.passphrase !== undefined && opts.passphrase !== '') {
    return { secret: Buffer.from(opts.passphrase, 'utf8'), kind: 'passphrase' };
  }
  const path = opts.keyFile ?? join(opts.dataDir, MASTER_KEY_FILE);
  if (!existsSync(path)) {
    if (opts.keyFile !== undefined) throw new Error(`master key file ${path} does not exist`);
    writeFileDurably(path, randomBytes(32).toString('base64') + '\n', 0o600);
    opts.onGenerated?.(path);
  }
  return { secret: readFileSync(path), kind: 'keyfile' };
}

/** Seals a new random domain key under `secret`: the domain key and its sealed (JSON) form. */
function sealNewDomainKey(secret: Buffer, kind: SealedFile['secret']): { domainKey: Buffer; sealed: string } {
  const domainKey = randomBytes(32);
  const salt = randomBytes(32);
  const kek = scryptSync(secret, salt, 32, SCRYPT);
  const iv = randomBytes(IV_LEN);
  const c = createCipheriv('aes-256-gcm', kek, iv);
  c.setAAD(Buffer.from('keyhold domain key v1'));
  const ct = Buffer.concat([c.update(domainKey), c.final()]);
  kek.fill(0);
  const sealed: SealedFile = {
    v: 1, kdf: 'scrypt', N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p,
    salt: salt.toString('base64'), iv: iv.toString('base64'), tag: c.getAuthTag().toString('base64'),
    ct: ct.toString('base64'), secret: kind,
  };
  return { domainKey, sealed: JSON.stringify(sealed, null, 2) + '\n' };
}

/** Unseals a sealed domain key; `where` names its place in the error when the secret does not match. */
function unsealDomainKey(text: string, secret: Buffer, where: string): Buffer {
  const sealed = JSON.parse(text) as SealedFile;
  const kek = scryptSync(secret, Buffer.from(sealed.salt, 'base64'), 32, {
    N: sealed.N, r: sealed.r, p: sealed.p, maxmem: SCRYPT.maxmem,
  });
  try {
    const d = createDecipheriv('aes-256-gcm', kek, Buffer.from(sealed.iv, 'base64'));
    d.setAAD(Buffer.from('keyhold domain key v1'));
    d.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    return Buffer.concat([d.update(Buffer.from(sealed.ct, 'base64')), d.final()]);
  } catch {
    throw new Error(
      `cannot unseal the domain key in ${where}: the ${sealed.secret === 'passphrase' ? 'master passphrase (KEYHOLD_MASTER_PASSPHRASE)' : 'master key file'} does not match`,
    );
  } finally {
    kek.fill(0);
  }
}

/** Opens (or on first start creates) the sealed domain key. */
export function openLocalRootOfTrust(opts: LocalTrustOptions): LocalRootOfTrust {
  const sealedPath = join(opts.dataDir, SEALED_FILE);
  const { secret, kind } = operatorSecret(opts);
  try {
    if (!existsSync(sealedPath)) {
      const { domainKey, sealed } = sealNewDomainKey(secret, kind);
      writeFileDurably(sealedPath, sealed, 0o600);
      return new LocalRootOfTrust(domainKey);
    }
    return new LocalRootOfTrust(unsealDomainKey(readFileSync(sealedPath, 'utf8'), secret, sealedPath));
  } finally {
    secret.fill(0);
  }
}

/**
 * Where a deployment of several nodes keeps its one sealed domain key (issue 14, DESIGN §6: in
 * the database). Implemented by src/store/postgres/domain-key.ts.
 */
export interface SealedDomainKeyStorage {
  /** A name for errors, e.g. "the database". */
  readonly where: string;
  read(): Promise<string | undefined>;
  /** Stores `sealed` unless a sealed key exists; resolves to the one stored (the first writer's). */
  createIfAbsent(sealed: string): Promise<string>;
}

/**
 * Opens the domain key several nodes share, sealed in `storage` (issue 14): the first node to
 * start creates it, every node unseals it with the same operator secret. The secret must be
 * given (a passphrase, or a key file every node has): a key file generated in one node's data
 * directory would leave the others unable to unseal.
 */
export async function openSharedRootOfTrust(
  opts: Pick<LocalTrustOptions, 'passphrase' | 'keyFile'>,
  storage: SealedDomainKeyStorage,
): Promise<LocalRootOfTrust> {
  if ((opts.passphrase === undefined || opts.passphrase === '') && opts.keyFile === undefined) {
    throw new Error(
      'nodes that share a database share one domain key: give every node the same KEYHOLD_MASTER_PASSPHRASE or --master-key-file',
    );
  }
  const { secret, kind } = operatorSecret({ ...opts, dataDir: '' });
  try {
    let text = await storage.read();
    if (text === undefined) {
      const fresh = sealNewDomainKey(secret, kind);
      text = await storage.createIfAbsent(fresh.sealed);
      if (text === fresh.sealed) return new LocalRootOfTrust(fresh.domainKey);
      fresh.domainKey.fill(0); // another node created it first: use theirs
    }
    return new LocalRootOfTrust(unsealDomainKey(text, secret, storage.where));
  } finally {
    secret.fill(0);
  }
}

/** The domain key in process memory; wiped on close. */
export class LocalRootOfTrust implements RootOfTrust {
  readonly kind = 'local';
  readonly #domainKey: Buffer;

  constructor(domainKey: Buffer) {
    this.#domainKey = domainKey;
  }

  async wrap(plaintext: Buffer, aad: Buffer): Promise<Buffer> {
    const iv = randomBytes(IV_LEN);
    const c = createCipheriv('aes-256-gcm', this.#domainKey, iv);
    c.setAAD(aad);
    const ct = c.update(plaintext);
    c.final();
    return Buffer.concat([Buffer.of(WRAP_FORMAT), iv, c.getAuthTag(), ct]);
  }

  async unwrap(wrapped: Buffer, aad: Buffer): Promise<Buffer> {
    if (wrapped.length < 1 + IV_LEN + TAG_LEN || wrapped[0] !== WRAP_FORMAT) throw new Error('wrapped blob is malformed');
    const d = createDecipheriv('aes-256-gcm', this.#domainKey, wrapped.subarray(1, 1 + IV_LEN));
    d.setAAD(aad);
    d.setAuthTag(wrapped.subarray(1 + IV_LEN, 1 + IV_LEN + TAG_LEN));
    const out = d.update(wrapped.subarray(1 + IV_LEN + TAG_LEN));
    d.final();
    return out;
  }

  async close(): Promise<void> {
    this.#domainKey.fill(0);
  }
}
