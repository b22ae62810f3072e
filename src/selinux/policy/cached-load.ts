import { success, type Result } from '../../result.js';
import { cacheEntryName, cacheSupported, decodeCacheEntry, encodeCacheEntry, type EntryLayout } from './cache-entry.js';
import { loadPolicy, type PolicyError } from './load.js';
import type { Policy } from './model.js';

/**
 * Where cache entries live: named byte blobs. The live implementation is a private directory
 * (src/adapters/live/policy-cache-dir.ts); a store that cannot read or write says so by returning undefined/false,
 * never by throwing, because a cache only ever costs or saves time.
 */
export interface EntryStore {
  read(name: string): Uint8Array | undefined;
  /** Stores the concatenation of `parts` under `name`, whole or not at all. */
  write(name: string, parts: readonly Uint8Array[]): boolean;
  /**
   * The payload of entry `name` if its policy part equals the file at `policyPath` byte for byte, read
   * side by side in small chunks (neither is held whole: a 2 MB policy and its copy would cost the hook
   * a thousand page faults); `layout` reads the entry's head. Optional: a store without it is read whole.
   */
  readAgainst?(name: string, policyPath: string, headLength: number, layout: (head: Uint8Array) => EntryLayout | undefined): Uint8Array | undefined;
  /**
   * The payload of entry `name` without reading its policy part: for a caller that knows by other means
   * which policy bytes the entry was made for, and checks that in `layout` (the hook's store binds its
   * projection to the running kernel's instance: app/hook-policy-store.ts). Optional: a store without it is read whole.
   */
  readPayload?(name: string, headLength: number, layout: (head: Uint8Array) => EntryLayout | undefined): Uint8Array | undefined;
}

/** A store plus the key of this build (see cache-entry.ts). */
export interface PolicyCache {
  readonly store: EntryStore;
  readonly key: string;
}

/**
 * loadPolicy, with a cache: a model stored for byte-identical policy bytes by this same build is used as
 * it is; otherwise the policy is read and checked as always, and a usable one is stored. A refused policy
 * is never stored, so it is read (and refused) again on every run, with the same error.
 */
export function loadPolicyCached(bytes: Uint8Array, cache: PolicyCache | undefined): Result<Policy, PolicyError> {
  if (!cache || !cacheSupported()) return loadPolicy(bytes);
  const name = cacheEntryName(bytes);
  const entry = cache.store.read(name);
  const hit = entry && decodeCacheEntry(cache.key, bytes, entry);
  if (hit) return success(hit);
  const loaded = loadPolicy(bytes);
  if (loaded.ok) cache.store.write(name, encodeCacheEntry(cache.key, bytes, loaded.value));
  return loaded;
}
