/**
 * Access keys: provisioning (secrets wrapped by the root of trust, never stored in plaintext)
 * and the per-process cache the SigV4 verifier reads synchronously. The cache resolves account
 * root keys, IAM users' keys (AKIA…) and STS session credentials (ASIA… with a session token,
 * see ./sessions.ts); an expired session is ExpiredTokenException.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock';
import { ServiceError } from '../errors';
import { CacheLayer, type EntityCache } from '../store/cache';
import type { AccessKeyRecord, AccessKeyRepository, AccountRepository, ChangeSource, IdentityRepository } from '../store/store';
import type { RootOfTrust } from '../trust/root-of-trust';
import type { Caller } from './caller';
import { sessionCaller, unwrapSessionCredentials } from './sessions';

/** A credential as the SigV4 verifier sees it, carrying the caller it authenticates. */
export interface ResolvedCredential {
  readonly accessKeyId: string;
  readonly secret: string;
  readonly caller: Caller;
  /** Temporary credentials: the token the request must carry as X-Amz-Security-Token. */
  readonly sessionToken?: string;
  /** Temporary credentials: epoch ms after which the token is expired. */
  readonly expiresAt?: number;
  readonly [extra: string]: unknown;
}

/** AWS's message for an expired session token (the KMS and IAM/STS wire spell the same text). */
export const EXPIRED_TOKEN_MESSAGE = 'The security token included in the request is expired';

/**
 * The test-only clock offset: with KEYHOLD_TEST_CLOCK_OFFSET_MS=N set, temporary credentials are
 * judged as if the time were N ms later, so tests can see a session expire without waiting
 * 15 minutes. Nothing else (SigV4 skew, issuance, key lifecycles) moves. Unset, the clock is the
 * one given.
 */
export function credentialExpiryClock(clock: Clock, env: NodeJS.ProcessEnv): { clock: Clock; offsetMs: number } {
  const raw = env.KEYHOLD_TEST_CLOCK_OFFSET_MS;
  if (raw === undefined || raw === '') return { clock, offsetMs: 0 };
  const offsetMs = Number(raw);
  if (!Number.isSafeInteger(offsetMs)) throw new Error('KEYHOLD_TEST_CLOCK_OFFSET_MS must be an integer number of milliseconds');
  return { clock: Object.freeze({ now: () => clock.now() + offsetMs }), offsetMs };
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

/** Wraps an access key's secret under the root of trust (AAD binds it to the key id). */
export async function wrapAccessKeySecret(trust: RootOfTrust, accessKeyId: string, secret: string): Promise<Buffer> {
  const plain = Buffer.from(secret, 'utf8');
  try {
    return await trust.wrap(plain, secretAad(accessKeyId));
  } finally {
    plain.fill(0);
  }
}

/** A new 40-character secret access key. */
export function newSecretAccessKey(): string {
  return randomBytes(30).toString('base64').replace(/\+/g, 'A').replace(/\//g, 'B');
}

/** Stores an administrator (account root) access key, creating the account if needed. */
export async function provisionRootAccessKey(
  store: Pick<AccountRepository, 'ensureAccount'> & Pick<AccessKeyRepository, 'putAccessKey'>,
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
  readonly #store: Pick<AccessKeyRepository, 'getAccessKey'> & IdentityRepository;
  readonly #trust: RootOfTrust;
  readonly #clock: Clock;
  /** Both dropped whole on any identity change the change feed reports (src/store/cache.ts). */
  readonly #known: EntityCache<ResolvedCredential>;
  readonly #unknownUntil: EntityCache<number>;

  /** `caches`: the process's cache layer, which the store's change feed refreshes (one is made when absent). */
  constructor(store: Pick<AccessKeyRepository, 'getAccessKey'> & IdentityRepository & ChangeSource, trust: RootOfTrust, clock: Clock, caches: CacheLayer = new CacheLayer(store.changes)) {
    this.#store = store;
    this.#trust = trust;
    this.#clock = clock;
    this.#known = caches.cache<ResolvedCredential>({ entity: 'identity', clearOn: ['identity'], maxEntries: 100_000 });
    this.#unknownUntil = caches.cache<number>({ entity: 'identity', clearOn: ['identity'], maxEntries: 10_000 });
  }

  /** Synchronous lookup for the verifier (expired sessions too: see `current`). */
  resolve(accessKeyId: string): ResolvedCredential | undefined {
    return this.#known.get(accessKeyId);
  }

  /**
   * Passes a verified request through unless its temporary credentials have expired
   * (ExpiredTokenException). Checked after the signature, so only a holder of the secret learns
   * that a session expired.
   */
  current<V extends { readonly credential: ResolvedCredential }>(verified: V): V {
    const expiresAt = verified.credential.expiresAt;
    if (expiresAt !== undefined && this.#clock.now() >= expiresAt) {
      throw new ServiceError('ExpiredTokenException', EXPIRED_TOKEN_MESSAGE);
    }
    return verified;
  }

  /** Loads a key from the store into the cache; returns whether it exists and is active. */
  async load(accessKeyId: string): Promise<boolean> {
    const until = this.#unknownUntil.get(accessKeyId);
    if (until !== undefined && until > this.#clock.now()) return false;
    if (accessKeyId.startsWith('ASIA')) return this.#loadSession(accessKeyId);
    const rec = await this.#store.getAccessKey(accessKeyId);
    if (rec === undefined || rec.status !== 'Active') {
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
        ...(rec.principalType === 'IAMUser' ? { uniqueId: rec.principalId } : {}),
      },
    });
    return true;
  }

  /** Loads STS session credentials; an expired session is loaded too, so resolve() can say so. */
  async #loadSession(accessKeyId: string): Promise<boolean> {
    const rec = await this.#store.identity.getStsSession(accessKeyId);
    if (rec === undefined) {
      this.#unknownUntil.set(accessKeyId, this.#clock.now() + NEGATIVE_TTL_MS);
      return false;
    }
    const { secret, token } = await unwrapSessionCredentials(this.#trust, accessKeyId, rec.wrappedCredentials);
    this.#known.set(accessKeyId, { accessKeyId, secret, sessionToken: token, expiresAt: rec.expiresAt, caller: sessionCaller(rec) });
    return true;
  }

  /** Drops everything (after another process changed the store). */
  clear(): void {
    this.#known.clear();
    this.#unknownUntil.clear();
  }
}
