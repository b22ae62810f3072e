/**
 * The parsed-policy cache the environment asks for (src/adapters/live/policy-cache-dir.ts), keyed by this build.
 * Only the shipped bundle has a build identity (scripts/bundle.mjs defines VIRT_SECLABEL_BUILD_ID from the
 * sources): a tsc build run from a working tree, whose reader may differ from any earlier run's, gets none.
 */
import { openCacheDir, openReadOnlyStore, cacheDirFrom } from '../adapters/live/policy-cache-dir.js';
import type { PolicyCache } from '../selinux/policy/cached-load.js';
import { packageVersion } from './version.js';

declare const VIRT_SECLABEL_BUILD_ID: string | undefined;

const buildKey = (): string | undefined =>
  typeof VIRT_SECLABEL_BUILD_ID === 'string' ? `virt-seclabel ${packageVersion()} build ${VIRT_SECLABEL_BUILD_ID} v8 ${process.versions.v8}` : undefined;

/**
 * The hook's store as the hook sees it: read only (a miss, e.g. from another build, means a full read);
 * root's, unless the build's warm-up names its own uid (src/commands/hook-check.ts, HookWarmUp).
 */
export function hookPolicyStoreForReading(dir: string, owner = 0): PolicyCache | undefined {
  const key = buildKey();
  return key === undefined ? undefined : { store: openReadOnlyStore(dir, owner), key };
}

/** The hook's store as `hook install` (root) fills it: this build's key, so the hook of this build finds it. */
export function hookPolicyStoreForWriting(dir: string): PolicyCache | undefined {
  const key = buildKey();
  return key === undefined ? undefined : { store: openCacheDir(dir), key };
}

export function policyCacheFromEnv(env: Readonly<Record<string, string | undefined>>): PolicyCache | undefined {
  const key = buildKey();
  if (key === undefined) return undefined;
  const dir = cacheDirFrom(env);
  if (!dir) return undefined;
  return { store: openCacheDir(dir), key };
}
