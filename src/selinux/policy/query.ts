import type { Policy } from './model.js';

/** Small questions the decision core asks of a loaded policy. */

/** A type (or type alias) of that name exists; attributes are not types. */
export function typeExists(policy: Policy, name: string): boolean {
  const t = policy.types.byName.get(name);
  return t !== undefined && !t.isAttribute;
}

/** The class's permission names (common ones included), or undefined when the class does not exist. */
export function classPerms(policy: Policy, className: string): string[] | undefined {
  const cls = policy.classes.byName.get(className);
  if (!cls) return undefined;
  return [...(cls.common ? cls.common.perms.keys() : []), ...cls.perms.keys()];
}

/** The boolean values stored in the policy file. */
export function booleanDefaults(policy: Policy): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const b of policy.bools.byValue) if (b) out.set(b.name, b.defaultState);
  return out;
}

export function isMls(policy: Policy): boolean {
  return policy.mls;
}

/** Number of category values (c0..c(N-1) in the usual naming). */
export function categoryCount(policy: Policy): number {
  return policy.categories.count;
}
