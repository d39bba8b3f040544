/**
 * The one cache layer (docs/architecture.md §5, issue 13). Every per-process cache of stored
 * data — keys, aliases and unwrapped material (src/keys/keyring.ts), grants for authorization
 * (src/keys/grants.ts), compiled key policies and principals (src/operations/authorize.ts),
 * identity policies and credentials (src/identity/) — is an `EntityCache` of one `CacheLayer`,
 * which the ChangeFeed refreshes in one place (`apply`). Operations never invalidate by hand:
 * a commit by this process is delivered before the committing call returns, a commit by
 * another process at the next `refresh` (once per request).
 *
 * A load that raced a change must not put the stale value back: `load` caches its result only
 * if no change reached the layer while it ran (the layer's `epoch`).
 */
import type { Change, ChangeFeed, EntityKind } from './change-feed';

const DEFAULT_MAX_ENTRIES = 10_000;

/** Options of one cache. */
export interface EntityCacheOptions<V> {
  /** Which changes drop this cache's entries: entries are keyed by the changed entity's id. */
  readonly entity: EntityKind;
  /** Every change of these kinds drops the whole cache (e.g. principals on any identity change). */
  readonly clearOn?: readonly EntityKind[];
  readonly maxEntries?: number;
  /** Runs on each dropped value (e.g. to wipe key material). */
  readonly onEvict?: (value: V) => void;
}

/** A bounded cache of values per (entity id, sub-key), dropped when its entity changes. */
export class EntityCache<V> {
  readonly #layer: CacheLayer;
  readonly #options: EntityCacheOptions<V>;
  readonly #entries = new Map<string, Map<string, V>>();
  #size = 0;

  /** Use `CacheLayer.cache`. */
  constructor(layer: CacheLayer, options: EntityCacheOptions<V>) {
    this.#layer = layer;
    this.#options = options;
  }

  get options(): EntityCacheOptions<V> {
    return this.#options;
  }

  get(id: string, sub = ''): V | undefined {
    return this.#entries.get(id)?.get(sub);
  }

  set(id: string, value: V, sub = ''): void {
    if (this.#size >= (this.#options.maxEntries ?? DEFAULT_MAX_ENTRIES)) this.clear();
    let m = this.#entries.get(id);
    if (m === undefined) {
      m = new Map();
      this.#entries.set(id, m);
    }
    const old = m.get(sub);
    if (old !== undefined) this.#options.onEvict?.(old);
    else this.#size++;
    m.set(sub, value);
  }

  /** The cached value, or `loader`'s, cached unless a change arrived while it loaded. */
  async load(id: string, loader: () => Promise<V>, sub = ''): Promise<V> {
    const hit = this.get(id, sub);
    if (hit !== undefined) return hit;
    const epoch = this.#layer.epoch;
    const value = await loader();
    if (this.#layer.epoch === epoch && value !== undefined) this.set(id, value, sub);
    return value;
  }

  /** Drops one entity's entries. */
  drop(id: string): void {
    const m = this.#entries.get(id);
    if (m === undefined) return;
    this.#entries.delete(id);
    this.#size -= m.size;
    const evict = this.#options.onEvict;
    if (evict !== undefined) for (const v of m.values()) evict(v);
  }

  clear(): void {
    const evict = this.#options.onEvict;
    if (evict !== undefined) for (const m of this.#entries.values()) for (const v of m.values()) evict(v);
    this.#entries.clear();
    this.#size = 0;
  }
}

/** The caches of one process over one store, refreshed from its ChangeFeed. */
export class CacheLayer {
  readonly #feed: ChangeFeed;
  readonly #caches: EntityCache<never>[] = [];
  readonly #singletons = new Map<string, unknown>();
  #epoch = 0;

  constructor(feed: ChangeFeed) {
    this.#feed = feed;
    feed.subscribe((changes) => this.apply(changes));
  }

  /** Moves whenever a change reaches the layer. */
  get epoch(): number {
    return this.#epoch;
  }

  /** A new cache in this layer. */
  cache<V>(options: EntityCacheOptions<V>): EntityCache<V> {
    const c = new EntityCache<V>(this, options);
    this.#caches.push(c as unknown as EntityCache<never>);
    return c;
  }

  /**
   * A per-layer object made once by `make` (e.g. the KMS authorizer's compiled-policy caches,
   * built from `cache`s of this layer), so no module keeps caches of its own.
   */
  singleton<T>(name: string, make: (layer: CacheLayer) => T): T {
    let s = this.#singletons.get(name) as T | undefined;
    if (s === undefined) {
      s = make(this);
      this.#singletons.set(name, s);
    }
    return s;
  }

  /** Asks the feed for changes (once per request; cheap when nothing changed). */
  refresh(): void {
    this.#feed.refresh();
  }

  /** The one place changes reach the caches. */
  apply(changes: readonly Change[] | 'everything'): void {
    this.#epoch++;
    for (const c of this.#caches) {
      if (changes === 'everything') {
        c.clear();
        continue;
      }
      const { entity, clearOn } = c.options;
      for (const ch of changes) {
        if (clearOn?.includes(ch.entity) === true) {
          c.clear();
          break;
        }
        if (ch.entity === entity) c.drop(ch.id);
      }
    }
  }
}
