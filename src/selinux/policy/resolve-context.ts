import { failure, success, type Result } from '../../result.js';
import { contextInvalidity } from './context-valid.js';
import { ebitmapFrom } from './ebitmap.js';
import type { ContextStruct, MlsLevel, Policy } from './model.js';

/**
 * Turns a context string into policy values exactly as libsepol's sepol_context_to_sid does
 * (sepol_context_from_string, context_from_record, mls_context_to_sid, context_is_valid), quirks included,
 * so that a context libsepol refuses is refused here and one it accepts means the same thing:
 * aliases resolve to their primary; an attribute is not a type; the MLS field is required exactly when
 * the policy is MLS; a missing high level copies the low one; `cA.cB` needs A's value below B's.
 */
export function resolveContext(policy: Policy, text: string): Result<ContextStruct, string> {
  const first = text.indexOf(':');
  const second = first < 0 ? -1 : text.indexOf(':', first + 1);
  if (first < 0 || second < 0) return failure(`malformed context "${text}"`);
  const userName = text.slice(0, first);
  const roleName = text.slice(first + 1, second);
  const third = text.indexOf(':', second + 1);
  const typeName = third < 0 ? text.slice(second + 1) : text.slice(second + 1, third);
  const mlsText = third < 0 ? undefined : text.slice(third + 1);

  const user = policy.users.byName.get(userName);
  if (!user) return failure(`user ${userName} is not defined`);
  const role = policy.roles.byName.get(roleName);
  if (!role) return failure(`role ${roleName} is not defined`);
  const type = policy.types.byName.get(typeName);
  if (!type || type.isAttribute) return failure(`type ${typeName} is not defined`);

  if (mlsText !== undefined && !policy.mls) return failure(`MLS is disabled, but MLS context "${mlsText}" found`);
  if (mlsText === undefined && policy.mls) return failure('MLS is enabled, but no MLS context found');
  let range = { low: NO_LEVEL, high: NO_LEVEL };
  if (mlsText !== undefined) {
    const parsed = parseMls(policy, mlsText);
    if (!parsed.ok) return parsed;
    range = parsed.value;
  }
  const ctx: ContextStruct = { user: user.value, role: role.value, type: type.value, range };
  const why = contextInvalidity(policy, policy.mls, ctx);
  if (why !== undefined) return failure(`invalid security context "${text}": ${why}`);
  return success(ctx);
}

const NO_LEVEL: MlsLevel = { sens: 0, cats: new Uint32Array(0) };

/** libsepol's mls_context_to_sid tokenizer, step for step (see the comments for its quirks). */
function parseMls(policy: Policy, s: string): Result<{ low: MlsLevel; high: MlsLevel }, string> {
  const bad = (why: string) => failure(`invalid MLS context "${s}": ${why}`);
  let p = 0;
  const scan = (stops: string): { token: string; delim: string } => {
    const start = p;
    while (p < s.length && !stops.includes(s[p]!)) p++;
    const token = s.slice(start, p);
    const delim = p < s.length ? s[p++]! : '';
    return { token, delim };
  };
  const levels: { sens: number; cats: Set<number> }[] = [];
  let { token, delim } = scan(':-');
  let l = 0;
  for (; l < 2; l++) {
    const sens = policy.sensitivities.byName.get(token);
    if (!sens) return bad(`unknown sensitivity "${token}"`);
    const level = { sens: sens.level.sens, cats: new Set<number>() };
    levels[l] = level;
    if (delim === ':') {
      for (;;) {
        const item = scan(',-');
        delim = item.delim;
        const dot = item.token.indexOf('.');
        const firstName = dot < 0 ? item.token : item.token.slice(0, dot);
        const cat = policy.categories.byName.get(firstName);
        if (!cat) return bad(`unknown category "${firstName}"`);
        level.cats.add(cat.value - 1);
        if (dot >= 0) {
          const lastName = item.token.slice(dot + 1);
          const last = policy.categories.byName.get(lastName);
          if (!last) return bad(`unknown category "${lastName}"`);
          if (cat.value >= last.value) return bad(`category range ${item.token} is empty or reversed`);
          for (let v = cat.value; v < last.value; v++) level.cats.add(v);
        }
        if (delim !== ',') break;
      }
    }
    if (delim !== '-') break;
    // The high sensitivity runs to the next ':' (libsepol ignores anything after a second '-' level).
    ({ token, delim } = scan(':'));
  }
  const low = toLevel(levels[0]!);
  const high = l === 0 || levels[1] === undefined ? low : toLevel(levels[1]);
  return success({ low, high });
}

function toLevel(l: { sens: number; cats: Set<number> }): MlsLevel {
  return { sens: l.sens, cats: ebitmapFrom(l.cats) };
}
