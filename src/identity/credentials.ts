/**
 * Access keys: provisioning (secrets wrapped by the root of trust, never stored in plaintext)
 * and the per-process cache the SigV4 verifier reads synchronously.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock';
import type { AccessKeyRecord, Store } from '../store/store';
import type { RootOfTrust } from '../trust/root-of-trust';
import type { Caller } from './caller';

/** A credential as the SigV4 verifier sees it, carrying the caller it authenticates. */
export interface ResolvedCredential {
  readonly accessKeyId: string;
  readonly secret: string;
  readonly caller: Caller;
  readonly [extra: string]: unknown;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const NEGATIVE_TTL_MS = 1000;

function secretAad(accessKeyId: string): Buffer {
  return Buffer.from(`keyhold/access-key/v1\0${accessKeyId}`);
}

/** A new AWS-style access key id: AKIA + 16 base32 characters. */
export function newAccessKeyId(): string {
  const bytes = randomBytes(16);
  let s = 'AKIA';
  for (const b of bytes) s += BASE32[b & 31];
  return s;
}

/** A new 40-character secret access key. */
export function newSecretAccessKey(): string {
  return randomBytes(30).toString('base64').replace(/\+/g, 'A').replace(/\//g, 'B');
}

/** Stores an administrator (account root) access key, creating the account if needed. */
export async function provisionRootAccessKey(
  store: Store,
  trust: RootOfTrust,
  clock: Clock,
  accountId: string,
  accessKeyId: string,
  secret: string,
): Promise<void> {
  await store.ensureAccount(accountId, clock.now());
  const plain = Buffer.from(secret, 'utf8');
  try {
    const wrappedSecret = await trust.wrap(plain, secretAad(accessKeyId));
    const record: AccessKeyRecord = {
      accessKeyId,
      accountId,
      principalArn: `arn:aws:iam::${accountId}:root`,
      principalId: accountId,
      principalType: 'Root',
      userName: null,
      wrappedSecret,
      status: 'Active',
      createdAt: clock.now(),
    };
    await store.putAccessKey(record);
  } finally {
    plain.fill(0);
  }
}

/** Per-process cache of unwrapped access keys. */
export class CredentialCache {
  readonly #store: Store;
  readonly #trust: RootOfTrust;
  readonly #clock: Clock;
  readonly #known = new Map<string, ResolvedCredential>();
  readonly #unknownUntil = new Map<string, number>();

  constructor(store: Store, trust: RootOfTrust, clock: Clock) {
    this.#store = store;
    this.#trust = trust;
    this.#clock = clock;
  }

  /** Synchronous lookup for the verifier. */
  resolve(accessKeyId: string): ResolvedCredential | undefined {
    return this.#known.get(accessKeyId);
  }

  /** Loads a key from the store into the cache; returns whether it exists and is active. */
  async load(accessKeyId: string): Promise<boolean> {
    const until = this.#unknownUntil.get(accessKeyId);
    if (until !== undefined && until > this.#clock.now()) return false;
    const rec = await this.#store.getAccessKey(accessKeyId);
    if (rec === undefined || rec.status !== 'Active') {
      if (this.#unknownUntil.size > 10_000) this.#unknownUntil.clear();
      this.#unknownUntil.set(accessKeyId, this.#clock.now() + NEGATIVE_TTL_MS);
      return false;
    }
    const plain = await this.#trust.unwrap(rec.wrappedSecret, secretAad(accessKeyId));
    const secret = plain.toString('utf8');
    plain.fill(0);
    this.#known.set(accessKeyId, {
      accessKeyId,
      secret,
      caller: {
        accountId: rec.accountId,
        principalArn: rec.principalArn,
        principalId: rec.principalId,
        principalType: rec.principalType,
        userName: rec.userName,
        accessKeyId,
      },
    });
    return true;
  }

  /** Drops everything (after another process changed the store). */
  clear(): void {
    this.#known.clear();
    this.#unknownUntil.clear();
  }
}
