/**
 * Which parsed-policy cache this process uses (src/selinux/policy/cached-load.ts). The command line picks
 * it once at start from the environment (src/cli/policy-cache-env.ts); everything that turns policy bytes
 * into a model goes through parsePolicy. Without a choice there is no cache: library users and tests that
 * import modules get exactly loadPolicy.
 */
import type { Result } from '../result.js';
import { loadPolicyCached, type PolicyCache } from '../selinux/policy/cached-load.js';
import type { PolicyError } from '../selinux/policy/load.js';
import type { Policy } from '../selinux/policy/model.js';

let active: PolicyCache | undefined;

export function usePolicyCache(cache: PolicyCache | undefined): void {
  active = cache;
}

export function parsePolicy(bytes: Uint8Array): Result<Policy, PolicyError> {
  return loadPolicyCached(bytes, active);
}
