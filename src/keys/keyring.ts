/**
 * Resolves KeyId arguments to keys and holds the per-process caches of key metadata, aliases and
 * unwrapped key material (docs/architecture.md §5), as caches of the process's one cache layer
 * (src/store/cache.ts): the store's change feed drops exactly the keys and aliases any process
 * changed, so a change made through any worker is seen by the next request on every worker.
 */
import { createPrivateKey, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import type { Clock } from '../clock';
import { ServiceError } from '../errors';
import type { Caller } from '../identity/caller';
import { CacheLayer, type EntityCache } from '../store/cache';
import { aliasEntityId } from '../store/change-feed';
import type { AliasRepository, ChangeSource, KeyReader, KeyRecord, KeyVersionRecord, KeyVersionRepository, KeyWriter } from '../store/store';

/**
 * What the keyring reads: keys, their versions and aliases, and the change feed its caches
 * follow; it writes only AWS managed keys and their aliases, on first use.
 */
export type KeyringStore = Pick<KeyReader, 'getKey'> & Pick<KeyVersionRepository, 'getKeyVersion'> & AwsManagedKeyStore & ChangeSource;
import type { RootOfTrust } from '../trust/root-of-trust';
import { aliasArn, isKeyId, keyArn, parseKmsArn } from './arn';
import { ensureAwsManagedKey, type AwsManagedKeyStore } from './aws-managed';

/** Which KeyId forms an operation accepts (kms-reference.md §3.1). */
export type KeyIdForms = 'key' | 'key-or-alias';

/** The key a request names, and the alias it used, if any (kms:RequestAlias). */
export interface ResolvedKey {
  readonly key: KeyRecord;
  readonly requestAlias: string | undefined;
}

interface CachedKey {
  record: KeyRecord;
  readonly materials: Map<number, Buffer>;
  /** Parsed key objects per version (asymmetric and HMAC keys); the DER they came from is wiped. */
  readonly objects: Map<number, KeyObject>;
}

const MAX_ENTRIES = 10_000;

/** Wipes a dropped key's unwrapped material. */
function wipe(k: CachedKey): void {
  for (const m of k.materials.values()) m.fill(0);
}

/** AAD that binds wrapped material to its key and version. */
export function materialAad(arn: string, version: number): Buffer {
  return Buffer.from(`keyhold/key-material/v1\0${arn}\0${version}`);
}

/** Key resolution and caches for one process. */
export class Keyring {
  readonly #store: KeyringStore;
  readonly #trust: RootOfTrust;
  readonly #clock: Clock;
  /** This process's cache layer (src/store/cache.ts), which the store's change feed refreshes. */
  readonly caches: CacheLayer;
  readonly #keys: EntityCache<CachedKey>;
  /** Alias (entity id) to target key id. */
  readonly #aliases: EntityCache<string>;

  /** `caches`: the process's cache layer, shared with the credential and identity caches (one is made when absent). */
  constructor(store: KeyringStore, trust: RootOfTrust, clock: Clock, caches: CacheLayer = new CacheLayer(store.changes)) {
    this.#store = store;
    this.#trust = trust;
    this.#clock = clock;
    this.caches = caches;
    this.#keys = caches.cache<CachedKey>({ entity: 'key', maxEntries: MAX_ENTRIES, onEvict: wipe });
    this.#aliases = caches.cache<string>({ entity: 'alias', maxEntries: MAX_ENTRIES });
  }

  /** Applies what other processes committed since the last look. Call once per request. */
  refresh(): void {
    this.caches.refresh();
  }

  /** Drops all cached keys and aliases, wiping cached material (shutdown). */
  clear(): void {
    this.#keys.clear();
    this.#aliases.clear();
  }

  async #loadKey(arn: string): Promise<CachedKey | undefined> {
    const hit = this.#keys.get(arn);
    if (hit !== undefined) return hit;
    const epoch = this.caches.epoch;
    const record = await this.#store.getKey(arn);
    if (record === undefined) return undefined;
    const entry: CachedKey = { record, materials: new Map(), objects: new Map() };
    // A change that arrived while the row was read may have made it stale: use it, do not keep it.
    if (this.caches.epoch === epoch) this.#keys.set(arn, entry);
    return entry;
  }

  /** Finds a key by ARN (cached). */
  async getKey(arn: string): Promise<KeyRecord | undefined> {
    return (await this.#loadKey(arn))?.record;
  }

  /**
   * Resolves a KeyId argument for `caller` in `region`. A key of another account is reachable
   * only by key or alias ARN; whether the caller may use it is for the operation's
   * authorization (src/operations/authorize.ts), which every operation runs right after this.
   * `_action` is the permission the operation will ask for (kept for its callers' readability).
   */
  async resolve(keyIdArg: string, forms: KeyIdForms, caller: Caller, region: string, _action: string): Promise<ResolvedKey> {
    let accountId = caller.accountId;
    let keyId: string;
    let requestAlias: string | undefined;
    let viaArn = false;
    if (keyIdArg.startsWith('arn:')) {
      const arn = parseKmsArn(keyIdArg);
      if (arn === undefined) throw new ServiceError('NotFoundException', `Invalid arn ${keyIdArg}`);
      if (arn.resourceType === 'alias' && forms === 'key') throw new ServiceError('NotFoundException', `Invalid keyId ${keyIdArg}`);
      if (arn.region !== region) {
        throw new ServiceError('NotFoundException', `Invalid arn ${keyIdArg}: the key is not in region ${region}`);
      }
      accountId = arn.accountId;
      viaArn = true;
      if (arn.resourceType === 'alias') {
        requestAlias = arn.resource;
        keyId = await this.#aliasTarget(accountId, region, arn.resource, keyIdArg, accountId === caller.accountId);
      } else {
        keyId = arn.resource;
      }
    } else if (keyIdArg.startsWith('alias/')) {
      if (forms === 'key') throw new ServiceError('NotFoundException', `Invalid keyId ${keyIdArg}`);
      requestAlias = keyIdArg;
      keyId = await this.#aliasTarget(accountId, region, keyIdArg, aliasArn(region, accountId, keyIdArg), true);
    } else {
      keyId = keyIdArg;
    }
    const arn = keyArn(region, accountId, keyId);
    const missing = (): ServiceError => new ServiceError('NotFoundException', `Key '${arn}' does not exist`);
    if (!isKeyId(keyId)) throw viaArn ? missing() : new ServiceError('NotFoundException', `Invalid keyId ${keyIdArg}`);
    // A cache hit costs no call of the async loader (issue 11, hot path).
    const entry = this.#keys.get(arn) ?? (await this.#loadKey(arn));
    if (entry === undefined) throw missing();
    return { key: entry.record, requestAlias };
  }

  /** `mayCreate`: a predefined `alias/aws/<service>` of the caller's own account creates its AWS managed key. */
  async #aliasTarget(accountId: string, region: string, aliasName: string, shownArn: string, mayCreate: boolean): Promise<string> {
    const cacheKey = aliasEntityId(accountId, region, aliasName);
    const hit = this.#aliases.get(cacheKey);
    const epoch = this.caches.epoch;
    if (hit !== undefined) return hit;
    let alias = await this.#store.getAlias(accountId, region, aliasName);
    if (alias === undefined && mayCreate) {
      const deps = { store: this.#store, now: () => this.#clock.now(), newVersion: (arn: string) => this.newVersion(arn, 1, 'CREATE') };
      alias = await ensureAwsManagedKey(deps, accountId, region, aliasName);
    }
    if (alias === undefined) throw new ServiceError('NotFoundException', `Alias ${shownArn} is not found.`);
    if (this.caches.epoch === epoch) this.#aliases.set(cacheKey, alias.targetKeyId);
    return alias.targetKeyId;
  }

  /** The unwrapped material of one version of a key (cached; callers must not wipe it). */
  async material(key: KeyRecord, version: number): Promise<Buffer | undefined> {
    const entry = this.#keys.get(key.arn) ?? (await this.#loadKey(key.arn));
    if (entry === undefined) return undefined;
    const hit = entry.materials.get(version);
    if (hit !== undefined) return hit;
    const v = await this.#store.getKeyVersion(key.arn, version);
    if (v === undefined || v.wrappedMaterial === null) return undefined;
    const material = await this.#trust.unwrap(v.wrappedMaterial, materialAad(key.arn, version));
    entry.materials.set(version, material);
    return material;
  }

  /**
   * One version's material parsed once into a `KeyObject` and cached (docs/architecture.md §4): a PKCS#8 DER
   * private key (`private`) or an HMAC secret (`secret`). The unwrapped bytes are wiped at once;
   * the cache drops with the key's other entries.
   */
  async keyObject(key: KeyRecord, version: number, kind: 'private' | 'secret'): Promise<KeyObject | undefined> {
    const entry = await this.#loadKey(key.arn);
    if (entry === undefined) return undefined;
    const hit = entry.objects.get(version);
    if (hit !== undefined) return hit;
    const v = await this.#store.getKeyVersion(key.arn, version);
    if (v === undefined || v.wrappedMaterial === null) return undefined;
    const material = await this.#trust.unwrap(v.wrappedMaterial, materialAad(key.arn, version));
    try {
      const object = kind === 'private' ? createPrivateKey({ key: material, format: 'der', type: 'pkcs8' }) : createSecretKey(material);
      entry.objects.set(version, object);
      return object;
    } finally {
      material.fill(0);
    }
  }

  /** Makes a new version record for `arn` with fresh random material. */
  async newVersion(arn: string, version: number, origin: KeyVersionRecord['origin']): Promise<KeyVersionRecord> {
    const material = randomBytes(32);
    try {
      return await this.versionFor(arn, version, origin, material, randomBytes(32).toString('hex'));
    } finally {
      material.fill(0);
    }
  }

  /** Wraps given material as version `version` of `arn` (replicas, imports). */
  async versionFor(
    arn: string,
    version: number,
    origin: KeyVersionRecord['origin'],
    material: Buffer,
    materialId: string,
  ): Promise<KeyVersionRecord> {
    const wrapped = await this.#trust.wrap(material, materialAad(arn, version));
    return { keyArn: arn, version, materialId, wrappedMaterial: wrapped, createdAt: this.#clock.now(), origin };
  }
}
