/**
 * The hook's policy store (issue 21, item 4): `hook install`, run as root, stores the parsed model of the
 * policy the host decides under (the same entry format as the parsed-policy cache, src/selinux/policy/
 * cache-entry.ts: the policy's bytes in full, this build's key, the model loadPolicy made); the hook only
 * reads it (src/commands/hook.ts), and uses the model only for byte-identical policy bytes. Anything else
 * (another policy loaded since, another build, a damaged or foreign entry) is a miss, and the hook reads the
 * policy itself, as it did before: the store can make the hook faster, never change what it answers.
 */
import type { HostView } from '../host/view.js';
import { failure, success, type Result } from '../result.js';
import { cacheEntryName, cacheSupported, decodeCacheEntry } from '../selinux/policy/cache-entry.js';
import { loadPolicyCached, type PolicyCache } from '../selinux/policy/cached-load.js';
import { hostPolicyPath } from './selinux-engine.js';

export interface HookStorePlan {
  /** The policy file the hook will read (the running kernel's, else the configured store's). */
  readonly source: string;
  readonly entry: string;
  readonly bytes: Uint8Array;
  /** An entry the hook can use is there already. */
  readonly present: boolean;
}

/** What storing would do, from what is on disk now; a failure says why there is nothing to store. */
export function planHookPolicyStore(view: HostView, reader: PolicyCache | undefined): Result<HookStorePlan, string> {
  if (!reader || !cacheSupported()) return failure('this build has no build identity (only the bundled build keeps a policy store)');
  const where = hostPolicyPath(view, {});
  if (!where.ok) return where;
  const source = where.value.path;
  const bytes = view.readBinary(source);
  if (bytes.kind !== 'ok') return failure(`${source}: cannot read the SELinux policy${bytes.kind === 'unknown' ? `: ${bytes.why}` : ''}`);
  const entry = cacheEntryName(bytes.value);
  return success({ source, entry, bytes: bytes.value, present: hookCanRead(reader, bytes.value) });
}

/** Parses the policy and stores its model through `writer`; then checks that the hook's reader finds it. */
export function applyHookPolicyStore(plan: HookStorePlan, writer: PolicyCache, reader: PolicyCache): Result<void, string> {
  const loaded = loadPolicyCached(plan.bytes, writer);
  if (!loaded.ok) return failure(`${plan.source}: not a usable kernel policy: ${loaded.error.message} (${loaded.error.section} at byte ${loaded.error.offset})`);
  return hookCanRead(reader, plan.bytes) ? success(undefined) : failure('the entry was not written, or the hook could not use it (owner, mode or space)');
}

function hookCanRead(reader: PolicyCache, bytes: Uint8Array): boolean {
  const entry = reader.store.read(cacheEntryName(bytes));
  return entry !== undefined && decodeCacheEntry(reader.key, bytes, entry) !== undefined;
}
