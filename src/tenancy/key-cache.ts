import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import type { KeyStore } from './key-store.js';
import type { KeyRecord } from './types.js';

export interface KeyCacheOptions {
  store: Pick<KeyStore, 'findByHash' | 'changesSince' | 'currentVersion'>;
  /** How often to ask the database for key changes (revocations reach this replica within about this long). */
  refreshIntervalMs: number;
  /** Keys held in memory; the least recently used are dropped past it (and read again when next used). */
  maxEntries: number;
  clock: Clock;
  log: Logger;
  /** How long an unknown hash is remembered as unknown. Default 60 s (a new key clears it at the next refresh anyway). */
  negativeTtlMs?: number;
}

/** A cached key and which of its secrets the presented hash matched. */
export interface KeyMatch {
  readonly record: KeyRecord;
  readonly secret: 'current' | 'previous';
}

/**
 * The authentication cache: virtual keys by hash, so the hot path does no SQL. A miss reads the
 * key once (concurrent misses for one hash share the read); an unknown hash is remembered for a
 * while (negative cache) so a stream of bad keys costs one query each, not one per request.
 *
 * Every `refreshIntervalMs` the cache asks for keys changed since the last version it saw — one
 * indexed query, usually returning nothing — and replaces them: that is how a revocation, expiry
 * or rotation made on another replica (or by the CLI) reaches this one.
 *
 * limitation: while the database is unreachable, cached keys keep working as they were last
 * seen (availability over freshness); the failure is logged, and unknown keys get 503.
 *
 * @example
 * const cache = new KeyCache({ store, refreshIntervalMs: 250, maxEntries: 100_000, clock, log });
 * await cache.start();
 * const match = cache.peek(hash) ?? (await cache.load(hash));
 */
export class KeyCache {
  readonly #options: KeyCacheOptions;
  readonly #records: LRUCache<string, KeyRecord>;
  readonly #idByHash: LRUCache<string, string>;
  readonly #unknown: LRUCache<string, number>;
  readonly #loading = new Map<string, Promise<KeyMatch | null>>();
  readonly #negativeTtlMs: number;
  readonly #stop = new AbortController();
  #version = 0;
  #refreshing: Promise<void> | null = null;
  #again = false;
  #failing = false;
  #loop: Promise<void> | null = null;
  #listeners: ((changed: readonly KeyRecord[]) => void)[] = [];

  constructor(options: KeyCacheOptions) {
    this.#options = options;
    this.#records = new LRUCache({ max: options.maxEntries });
    this.#idByHash = new LRUCache({ max: options.maxEntries * 2 });
    this.#unknown = new LRUCache({ max: Math.min(options.maxEntries, 10_000) });
    this.#negativeTtlMs = options.negativeTtlMs ?? 60_000;
  }

  /** The last change version applied (0 = no key was ever written). */
  get version(): number {
    return this.#version;
  }

  /** Reads the current change version and starts polling. Keys load lazily, on first use. */
  async start(): Promise<void> {
    this.#version = await this.#options.store.currentVersion();
    this.#loop ??= this.#poll();
  }

  /** Called with the keys each refresh changed (after the cache holds them). */
  onChange(listener: (changed: readonly KeyRecord[]) => void): void {
    this.#listeners.push(listener);
  }

  /** The cached key for `hash`: a match, `null` when known to be unknown, `undefined` when not cached. */
  peek(hash: string): KeyMatch | null | undefined {
    const id = this.#idByHash.get(hash);
    const record = id === undefined ? undefined : this.#records.get(id);
    if (record !== undefined) {
      if (record.hash === hash) return { record, secret: 'current' };
      if (record.previousHash === hash) return { record, secret: 'previous' };
      this.#idByHash.delete(hash); // the key was rotated since: this hash is no longer one of its secrets
    }
    const until = this.#unknown.get(hash);
    if (until !== undefined) {
      if (until > this.#options.clock.now()) return null;
      this.#unknown.delete(hash);
    }
    return undefined;
  }

  /** Reads `hash` from the database (once for concurrent callers) and caches the answer. Rejects if it cannot. */
  load(hash: string): Promise<KeyMatch | null> {
    let pending = this.#loading.get(hash);
    if (!pending) {
      pending = this.#read(hash).finally(() => this.#loading.delete(hash));
      this.#loading.set(hash, pending);
    }
    return pending;
  }

  async #read(hash: string): Promise<KeyMatch | null> {
    const record = await this.#options.store.findByHash(hash);
    if (record === null) {
      if (this.peek(hash) === undefined) this.#unknown.set(hash, this.#options.clock.now() + this.#negativeTtlMs);
      return this.peek(hash) ?? null;
    }
    this.#put(record);
    return this.peek(hash) ?? null;
  }

  /** Applies every key change since the last version seen. Concurrent calls share one query, plus one more if asked meanwhile. */
  refresh(): Promise<void> {
    if (this.#refreshing) {
      this.#again = true;
      return this.#refreshing;
    }
    this.#refreshing = (async () => {
      try {
        do {
          this.#again = false;
          await this.#applyChanges();
        } while (this.#again);
      } finally {
        this.#refreshing = null;
      }
    })();
    return this.#refreshing;
  }

  async #applyChanges(): Promise<void> {
    const changes = await this.#options.store.changesSince(this.#version);
    if (changes.length === 0) return;
    for (const record of changes) this.#put(record);
    this.#version = Math.max(this.#version, ...changes.map((r) => r.version));
    for (const listener of this.#listeners) listener(changes);
  }

  #put(record: KeyRecord): void {
    const cached = this.#records.get(record.id);
    if (cached !== undefined && cached.version > record.version) return; // a slower read of an older row
    this.#records.set(record.id, record);
    for (const hash of [record.hash, record.previousHash]) {
      if (hash === null) continue;
      this.#idByHash.set(hash, record.id);
      this.#unknown.delete(hash);
    }
  }

  async #poll(): Promise<void> {
    const { clock, refreshIntervalMs, log } = this.#options;
    for (;;) {
      try {
        await clock.sleep(refreshIntervalMs, this.#stop.signal);
      } catch {
        return; // closed
      }
      try {
        await this.refresh();
        if (this.#failing) log.info('key refresh recovered');
        this.#failing = false;
      } catch (err) {
        if (!this.#failing) log.error({ err }, 'key refresh failed; cached keys stay as last seen until it recovers');
        this.#failing = true;
      }
    }
  }

  /** Stops polling. Idempotent. */
  async close(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
    await this.#refreshing?.catch(() => undefined);
  }
}
