/**
 * The parsed-policy cache the environment asks for (src/adapters/live/policy-cache-dir.ts), keyed by this build.
 * Only the shipped bundle has a build identity (scripts/bundle.mjs defines VIRT_SECLABEL_BUILD_ID from the
 * sources): a tsc build run from a working tree, whose reader may differ from any earlier run's, gets none.
 */
import { openCacheDir, cacheDirFrom } from '../adapters/live/policy-cache-dir.js';
import type { PolicyCache } from '../selinux/policy/cached-load.js';
import { packageVersion } from './version.js';

declare const VIRT_SECLABEL_BUILD_ID: string | undefined;

export function policyCacheFromEnv(env: Readonly<Record<string, string | undefined>>): PolicyCache | undefined {
  if (typeof VIRT_SECLABEL_BUILD_ID !== 'string') return undefined;
  const dir = cacheDirFrom(env);
  if (!dir) return undefined;
  return { store: openCacheDir(dir), key: `virt-seclabel ${packageVersion()} build ${VIRT_SECLABEL_BUILD_ID} v8 ${process.versions.v8}` };
}
