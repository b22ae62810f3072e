import { explain, type AccessExplanation } from './explanation.js';
import { enabledCondEntries } from './policy/cond-eval.js';
import { computeAv } from './policy/compute-av.js';
import { ebitmapHas } from './policy/ebitmap.js';
import type { ClassDatum, Policy } from './policy/model.js';
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

export type { AccessExplanation, BooleanHint, Denial, DenialCause, GrantingRule } from './explanation.js';
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
  const state = booleanState(policy, req.booleans);
  if (typeof state === 'string') return { ok: false, error: state };
  const s = resolveContext(policy, req.scontext);
  if (!s.ok) return { ok: false, error: `invalid scontext: ${s.error}` };
  const t = resolveContext(policy, req.tcontext);
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

  const enabled = condEnabledFor(policy, state);
  const av = computeAv(policy, s.value, t.value, cls.value, requested, enabled, true);
  const granted = req.perms.filter((_, i) => (av.allowed & bits[i]!) !== 0);
  const denied = req.perms.filter((_, i) => (av.allowed & bits[i]!) === 0);
  const because = explain(policy, cls, s.value, t.value, requested, av, state, enabled);
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

function permBit(cls: ClassDatum, perm: string): number | undefined {
  const v = cls.perms.get(perm) ?? cls.common?.perms.get(perm);
  return v === undefined ? undefined : (1 << (v - 1)) >>> 0;
}

function booleanState(policy: Policy, overrides: Readonly<Record<string, boolean>> | undefined): boolean[] | string {
  const state = policy.bools.byValue.map((b) => b?.defaultState ?? false);
  for (const [name, value] of Object.entries(overrides ?? {})) {
    const b = policy.bools.byName.get(name);
    if (!b) return `unknown boolean ${name}`;
    if (typeof value !== 'boolean') return `boolean ${name} must be true or false`;
    state[b.value - 1] = value;
  }
  return state;
}

/** Conditional rules are switched per boolean assignment; callers ask many questions under one. */
const enabledCache = new WeakMap<Policy, { key: string; enabled: Uint8Array }>();

function condEnabledFor(policy: Policy, state: readonly boolean[]): Uint8Array {
  const key = state.map((b) => (b ? '1' : '0')).join('');
  const hit = enabledCache.get(policy);
  if (hit && hit.key === key) return hit.enabled;
  const enabled = enabledCondEntries(policy, state);
  enabledCache.set(policy, { key, enabled });
  return enabled;
}
