import { explain, type AccessExplanation, type BooleanEffect, type BooleanHint } from './explanation.js';
import { CondSwitches } from './policy/cond-eval.js';
import { computeAv } from './policy/compute-av.js';
import { ebitmapHas } from './policy/ebitmap.js';
import { COND, type ClassDatum, type ContextStruct, type Policy } from './policy/model.js';
import { resolveContext } from './policy/resolve-context.js';
import { sentence } from './reason.js';

export interface AccessRequest {
  scontext: string;
  tcontext: string;
  tclass: string;
  perms: readonly string[];
  /** Applied on top of the policy's defaults. */
  booleans?: Readonly<Record<string, boolean>>;
}

export type { AccessExplanation, BooleanEffect, BooleanHint, Denial, DenialCause, GrantingRule } from './explanation.js';
export { permNames } from './explanation.js';

export type AccessAnswer =
  | {
      ok: true;
      allowed: boolean;
      granted: string[];
      denied: string[];
      /** Why, as data: which TE rule granted, which constraint/bounds/boolean denied. */
      because: AccessExplanation;
      permissive: boolean;
      /** One human sentence. */
      reason: string;
    }
  | { ok: false; error: string };

/**
 * Can `scontext` do `perms` on a `tclass` object labelled `tcontext`? The answer is libsepol's
 * sepol_compute_av_reason: allowed iff every requested permission is in the computed allowed vector
 * (TE with attributes and conditional rules under the given booleans, constraints and MLS constraints,
 * role transitions, typebounds). handle_unknown is not applied: as in libsepol, naming a class or a
 * permission the policy lacks is an invalid request. A permissive source type is reported, not applied.
 */
export function computeAccess(policy: Policy, req: AccessRequest): AccessAnswer {
  const setting = booleanSetting(policy, req.booleans);
  if (typeof setting === 'string') return { ok: false, error: setting };
  const s = resolveContextCached(policy, req.scontext);
  if (!s.ok) return { ok: false, error: `invalid scontext: ${s.error}` };
  const t = resolveContextCached(policy, req.tcontext);
  if (!t.ok) return { ok: false, error: `invalid tcontext: ${t.error}` };
  const cls = policy.classes.byName.get(req.tclass);
  if (!cls) return { ok: false, error: `unknown class ${req.tclass}` };
  if (req.perms.length === 0) return { ok: false, error: 'no permission requested' };
  let requested = 0;
  const bits: number[] = [];
  for (const perm of req.perms) {
    const bit = permBit(cls, perm);
    if (bit === undefined) return { ok: false, error: `unknown permission ${perm} in class ${cls.name}` };
    bits.push(bit);
    requested |= bit;
  }
  requested >>>= 0;

  const { state, conds } = setting;
  const av = computeAv(policy, s.value, t.value, cls.value, requested, conds, true);
  const granted = req.perms.filter((_, i) => (av.allowed & bits[i]!) !== 0);
  const denied = req.perms.filter((_, i) => (av.allowed & bits[i]!) === 0);
  const explained = explain(policy, cls, s.value, t.value, requested, av, state, conds);
  const effect = denied.length > 0 ? booleanEffect(policy, cls, s.value, t.value, requested, state, explained) : undefined;
  const because = effect ? { ...explained, booleans: effect } : explained;
  return {
    ok: true,
    allowed: denied.length === 0,
    granted,
    denied,
    because,
    permissive: ebitmapHas(policy.permissiveMap, s.value.type),
    reason: sentence(policy, cls, s.value, t.value, denied, because),
  };
}

/**
 * The booleans a person could turn on, checked by computing the whole request again under them: each
 * candidate alone, then all of them together. A boolean is named as the fix only if the answer then is
 * "allowed"; otherwise what still denies is kept, so the sentence can say it.
 */
function booleanEffect(
  policy: Policy, cls: ClassDatum, s: ContextStruct, t: ContextStruct, requested: number,
  state: readonly boolean[], because: AccessExplanation,
): BooleanEffect | undefined {
  const candidates = new Map<string, BooleanHint>();
  for (const d of because.denials) for (const w of d.wouldGrant ?? []) if (w.flip) candidates.set(w.flip.name, w.flip);
  if (candidates.size === 0) return undefined;
  const under = (flips: readonly BooleanHint[]) => {
    const trial = state.slice();
    for (const f of flips) trial[policy.bools.byName.get(f.name)!.value - 1] = f.value;
    const conds = new CondSwitches(policy, trial);
    const av = computeAv(policy, s, t, cls.value, requested, conds, true);
    return { av, trial, conds };
  };
  const allowedUnder = (flips: readonly BooleanHint[]) => (under(flips).av.allowed & requested) >>> 0 === requested;
  const single = [...candidates.values()].filter((f) => allowedUnder([f])).map((f) => [f]);
  if (single.length > 0) return { fixes: single };
  const all = [...candidates.values()];
  if (all.length > 1 && allowedUnder(all)) return { fixes: [all] };
  const r = under(all);
  return { fixes: [], insufficient: { flips: all, denials: explain(policy, cls, s, t, requested, r.av, r.trial, r.conds).denials } };
}

function permBit(cls: ClassDatum, perm: string): number | undefined {
  const v = cls.perms.get(perm) ?? cls.common?.perms.get(perm);
  return v === undefined ? undefined : (1 << (v - 1)) >>> 0;
}

interface BooleanSetting {
  readonly state: readonly boolean[];
  readonly conds: CondSwitches;
}

/**
 * Boolean values and their conditional switches, cached per policy for the last few override sets:
 * callers ask many questions under one setting, and each setting remembers the conditionals it evaluated.
 */
const settingsCache = new WeakMap<Policy, Map<string, BooleanSetting>>();
const SETTINGS_KEPT = 16;
const defaultStates = new WeakMap<Policy, boolean[]>();

function booleanSetting(policy: Policy, overrides: Readonly<Record<string, boolean>> | undefined): BooleanSetting | string {
  const entries = Object.entries(overrides ?? {});
  const key = entries.map(([name, value]) => `${name}=${String(value)}`).join(',');
  let cache = settingsCache.get(policy);
  if (!cache) settingsCache.set(policy, (cache = new Map()));
  const hit = cache.get(key);
  if (hit) return hit;
  let defaults = defaultStates.get(policy);
  if (!defaults) defaultStates.set(policy, (defaults = conditionDefaults(policy)));
  const state = defaults.slice();
  for (const [name, value] of entries) {
    const b = policy.bools.byName.get(name);
    if (!b) return `unknown boolean ${name}`;
    if (typeof value !== 'boolean') return `boolean ${name} must be true or false`;
    state[b.value - 1] = value;
  }
  const setting = { state, conds: new CondSwitches(policy, state) };
  if (cache.size >= SETTINGS_KEPT) cache.delete(cache.keys().next().value!);
  cache.set(key, setting);
  return setting;
}

/**
 * The policy's stored value of each boolean a conditional reads; false for the others. A state is only ever
 * read at a conditional's boolean term (cond-eval.ts, explanation.ts), so the others are never looked at, and
 * a packed symbol table (the hook's projection) then makes a datum for each of the few a conditional names,
 * not for every boolean of the policy.
 */
function conditionDefaults(policy: Policy): boolean[] {
  const defaults = new Array<boolean>(policy.bools.count).fill(false);
  for (const node of policy.condNodes) {
    for (const term of node.expr) {
      if (term.kind === COND.BOOL && term.bool >= 1 && term.bool <= defaults.length) defaults[term.bool - 1] = policy.bools.byValue[term.bool - 1]?.defaultState ?? false;
    }
  }
  return defaults;
}

/** Context strings resolve the same way every time; the decision core repeats the QEMU process's. */
const contextCache = new WeakMap<Policy, Map<string, ReturnType<typeof resolveContext>>>();
const CONTEXTS_KEPT = 4096;

function resolveContextCached(policy: Policy, text: string): ReturnType<typeof resolveContext> {
  let cache = contextCache.get(policy);
  if (!cache) contextCache.set(policy, (cache = new Map()));
  const hit = cache.get(text);
  if (hit) return hit;
  const resolved = resolveContext(policy, text);
  if (cache.size >= CONTEXTS_KEPT) cache.delete(cache.keys().next().value!);
  cache.set(text, resolved);
  return resolved;
}
