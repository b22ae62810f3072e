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
    genfsContext: (fsType) => genfsRoot(policy, fsType),
  };
}

/**
 * genfscon FSTYPE / CONTEXT as the kernel looks it up for a superblock (security_genfs_sid with path
 * "/" and class dir): the longest matching path prefix of that fs type, here "/" itself. Rendered as
 * text; a range with categories or a low/high pair is left unrendered (undefined): no genfscon of the
 * reference policies carries one.
 */
export function genfsRoot(policy: Policy, fsType: string): string | null | undefined {
  const g = policy.genfs.find((x) => x.fstype === fsType);
  if (!g) return null;
  const e = g.entries.find((x) => x.path === '/');
  if (!e) return null;
  const c = e.context;
  const user = policy.users.byValue[c.user - 1]?.name;
  const role = policy.roles.byValue[c.role - 1]?.name;
  const type = policy.types.byValue[c.type - 1]?.name;
  if (user === undefined || role === undefined || type === undefined) return undefined;
  if (!policy.mls) return `${user}:${role}:${type}`;
  const { low, high } = c.range;
  if (low.sens !== high.sens || low.cats.some((w) => w !== 0) || high.cats.some((w) => w !== 0)) return undefined;
  const sens = policy.sensitivities.byValue[low.sens - 1]?.name;
  return sens === undefined ? undefined : `${user}:${role}:${type}:${sens}`;
}
