import { ebitmapContains, ebitmapHas } from './ebitmap.js';
import type { ContextStruct, MlsLevel, MlsRange } from './model.js';
import type { SymbolTables } from './symtabs.js';

export const OBJECT_R_VALUE = 1;

/** libsepol's mls_level_dom: same-or-higher sensitivity and a superset of categories. */
export function levelDominates(l1: MlsLevel, l2: MlsLevel): boolean {
  return l1.sens >= l2.sens && ebitmapContains(l1.cats, l2.cats);
}

/** mls_range_contains(outer, inner): inner lies within outer. */
export function rangeContains(outer: MlsRange, inner: MlsRange): boolean {
  return levelDominates(inner.low, outer.low) && levelDominates(outer.high, inner.high);
}

export type ContextTables = Pick<SymbolTables, 'roles' | 'types' | 'users' | 'sensitivities' | 'categories'>;

/**
 * Why a context is not valid in this policy, or undefined when it is: libsepol's context_is_valid and
 * mls_context_isvalid, in their order. The role must be authorised for the type and the user for the role
 * (object_r is exempt, as objects do not have roles), and under MLS the range must be well formed, each
 * level's categories allowed with its sensitivity, and the range within the user's (object_r exempt).
 */
export function contextInvalidity(t: ContextTables, mls: boolean, c: ContextStruct): string | undefined {
  if (c.role === 0 || c.role > t.roles.count) return `role value ${c.role} is not defined`;
  if (c.user === 0 || c.user > t.users.count) return `user value ${c.user} is not defined`;
  if (c.type === 0 || c.type > t.types.count) return `type value ${c.type} is not defined`;
  if (c.role !== OBJECT_R_VALUE) {
    const role = t.roles.byValue[c.role - 1];
    if (!role || !ebitmapHas(role.types, c.type - 1)) return 'the role is not authorised for the type';
    const user = t.users.byValue[c.user - 1];
    if (!user || !ebitmapHas(user.roles, c.role - 1)) return 'the user is not authorised for the role';
  }
  if (!mls) return undefined;
  if (!levelDominates(c.range.high, c.range.low)) return 'the high level does not dominate the low level';
  for (const level of [c.range.low, c.range.high]) {
    if (level.sens === 0 || level.sens > t.sensitivities.count) return `sensitivity value ${level.sens} is not defined`;
    const sens = t.sensitivities.byValue[level.sens - 1];
    if (!sens) return `sensitivity value ${level.sens} is not defined`;
    for (const cat of level.cats) {
      if (cat > t.categories.count) return `category value ${cat + 1} is not defined`;
      if (!ebitmapHas(sens.level.cats, cat)) return `category ${cat + 1} is not allowed with sensitivity ${sens.name}`;
    }
  }
  if (c.role === OBJECT_R_VALUE) return undefined;
  const user = t.users.byValue[c.user - 1];
  if (!user || !rangeContains(user.range, c.range)) return "the range is not within the user's range";
  return undefined;
}
