/**
 * The oracle backed by a loaded binary policy: questions are answered by the access computation under
 * the given base boolean values (the policy's defaults, or the live kernel's), each request adding its
 * own overrides on top.
 */
import { computeAccess, type AccessRequest } from './access.js';
import type { SelinuxOracle } from './oracle.js';
import type { Policy } from './policy/model.js';
import { booleanDefaults, typeExists } from './policy/query.js';

export function policyOracle(policy: Policy, base: Readonly<Record<string, boolean>> = {}): SelinuxOracle {
  const values = new Map(booleanDefaults(policy));
  for (const [k, v] of Object.entries(base)) if (values.has(k)) values.set(k, v);
  const baseObj = Object.fromEntries(values);
  return {
    compute: (req: AccessRequest) => computeAccess(policy, { ...req, booleans: { ...baseObj, ...(req.booleans ?? {}) } }),
    typeExists: (name) => typeExists(policy, name),
    booleans: () => values,
  };
}
