import { forEachAvEntry } from './policy/avtab.js';
import { condEntryOwners, enabledCondEntries, evaluateCondExpr } from './policy/cond-eval.js';
import { computeAv, type AvComputation, type ReasonFlags } from './policy/compute-av.js';
import { formatConstraint } from './policy/constraint-eval.js';
import { ebitmapHas } from './policy/ebitmap.js';
import { AVTAB, COND, packedSet, type AvTable, type ClassDatum, type CondNode, type ContextStruct, type Policy } from './policy/model.js';
import { resolveContext } from './policy/resolve-context.js';

export interface AccessRequest {
  scontext: string;
  tcontext: string;
  tclass: string;
  perms: readonly string[];
  /** Applied on top of the policy's defaults. */
  booleans?: Readonly<Record<string, boolean>>;
}

/** A rule that granted some of the requested permissions. */
export interface GrantingRule {
  /** Source type or attribute named by the rule. */
  readonly source: string;
  readonly target: string;
  readonly tclass: string;
  /** Every permission of the rule (the whole `{ … }` of the allow statement). */
  readonly perms: readonly string[];
  /** Which of the requested permissions this rule granted. */
  readonly grants: readonly string[];
  /** The rule's conditional expression (policy syntax) when it sits in an `if` block. */
  readonly conditional?: string;
}

/** A boolean setting that, on its own, would switch a granting conditional rule on. */
export interface BooleanHint {
  readonly name: string;
  readonly value: boolean;
}

export type DenialCause = 'te' | 'constraint' | 'mls' | 'rbac' | 'bounds';

export interface Denial {
  readonly perms: readonly string[];
  readonly cause: DenialCause;
  /** cause 'te': conditional rules that would grant these perms under other values. */
  readonly wouldGrant?: readonly { readonly booleans: readonly string[]; readonly condition: string; readonly flip?: BooleanHint }[];
  /** cause 'constraint' | 'mls': the failing constraint as policy text. */
  readonly constraint?: string;
}

export interface AccessExplanation {
  readonly granting: readonly GrantingRule[];
  readonly denials: readonly Denial[];
  /** libsepol's reason flags for this request (SEPOL_COMPUTEAV_TE / CONS / RBAC / BOUNDS). */
  readonly flags: Readonly<ReasonFlags>;
  /** The full allowed vector's permission names for the class (what the kernel would cache). */
  readonly allowedPerms: readonly string[];
}

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

/** Permission names of a vector, in bit order. */
export function permNames(cls: ClassDatum, vector: number): string[] {
  const byBit: string[] = [];
  for (const [name, v] of cls.common?.perms ?? []) byBit[v - 1] = name;
  for (const [name, v] of cls.perms) byBit[v - 1] = name;
  const out: string[] = [];
  for (let b = 0; b < 32; b++) if ((vector >>> b) & 1 && byBit[b] !== undefined) out.push(byBit[b]!);
  return out;
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

function typeName(policy: Policy, value: number): string {
  return policy.types.byValue[value - 1]?.name ?? `type#${value}`;
}

function explain(
  policy: Policy, cls: ClassDatum, s: ContextStruct, t: ContextStruct, requested: number,
  av: AvComputation, state: readonly boolean[], enabled: Uint8Array,
): AccessExplanation {
  const granting: GrantingRule[] = [];
  const owners = av.granting.some((g) => g.table === 'cond') ? condEntryOwners(policy) : undefined;
  let covered = 0;
  for (const g of av.granting) {
    const table: AvTable = g.table === 'te' ? policy.avtab : policy.condAvtab;
    const data = table.data[g.index]!;
    const fresh = (data & requested & ~covered) >>> 0;
    if (fresh === 0) continue; // an earlier rule already explains these perms
    covered |= fresh;
    const nodeIndex = owners && g.table === 'cond' ? owners.node[g.index]! : -1;
    const node = nodeIndex >= 0 ? policy.condNodes[nodeIndex] : undefined;
    granting.push({
      source: typeName(policy, table.source[g.index]!),
      target: typeName(policy, table.target[g.index]!),
      tclass: cls.name,
      perms: permNames(cls, data),
      grants: permNames(cls, (data & requested) >>> 0),
      ...(node ? { conditional: formatCond(policy, node, owners!.onTrue[g.index] === 1) } : {}),
    });
  }

  const denials: Denial[] = [];
  const teDenied = (requested & ~av.teAllowed) >>> 0;
  if (teDenied) {
    const wouldGrant = conditionalGrants(policy, cls, s, t, teDenied, state, enabled);
    denials.push({ perms: permNames(cls, teDenied), cause: 'te', ...(wouldGrant.length ? { wouldGrant } : {}) });
  }
  let remaining = (requested & av.teAllowed) >>> 0;
  for (const f of av.failedConstraints) {
    const hit = (f.removed & remaining) >>> 0;
    if (!hit) continue;
    remaining = (remaining & ~hit) >>> 0;
    denials.push({
      perms: permNames(cls, hit),
      cause: f.constraint.isMls ? 'mls' : 'constraint',
      constraint: formatConstraint(policy, f.constraint),
    });
  }
  const rbacHit = (av.rbacRemoved & remaining) >>> 0;
  if (rbacHit) {
    remaining = (remaining & ~rbacHit) >>> 0;
    denials.push({ perms: permNames(cls, rbacHit), cause: 'rbac' });
  }
  const boundsHit = (av.boundsRemoved & remaining) >>> 0;
  if (boundsHit) denials.push({ perms: permNames(cls, boundsHit), cause: 'bounds' });
  return { granting, denials, flags: av.flags, allowedPerms: permNames(cls, av.allowed) };
}

/**
 * Disabled conditional allow rules on the same (source, target, class) walk that carry some of the
 * denied permissions: the booleans of their condition, and a single boolean flip that would enable them
 * when one exists.
 */
function conditionalGrants(
  policy: Policy, cls: ClassDatum, s: ContextStruct, t: ContextStruct, denied: number,
  state: readonly boolean[], enabled: Uint8Array,
): NonNullable<Denial['wouldGrant']> {
  const ct = policy.condAvtab;
  if (ct.size === 0) return [];
  const owners = condEntryOwners(policy);
  const out: { booleans: string[]; condition: string; flip?: BooleanHint }[] = [];
  const seen = new Set<string>();
  for (const src of packedSet(policy.typeAttrMap, s.type - 1)) {
    for (const tgt of packedSet(policy.typeAttrMap, t.type - 1)) {
      forEachAvEntry(ct, src + 1, tgt + 1, cls.value, (i) => {
        if (enabled[i] || (ct.specified[i]! & AVTAB.ALLOWED) === 0 || (ct.data[i]! & denied) === 0) return;
        const nodeIndex = owners.node[i]!;
        const node = policy.condNodes[nodeIndex];
        if (!node) return;
        const onTrue = owners.onTrue[i] === 1;
        const condition = formatCond(policy, node, onTrue);
        if (seen.has(condition)) return;
        seen.add(condition);
        const names = [...new Set(node.expr.filter((e) => e.kind === COND.BOOL).map((e) => policy.bools.byValue[e.bool - 1]?.name ?? `bool#${e.bool}`))];
        const flip = singleFlip(policy, node, onTrue, state);
        out.push({ booleans: names, condition, ...(flip ? { flip } : {}) });
      });
    }
  }
  return out;
}

function singleFlip(policy: Policy, node: CondNode, onTrue: boolean, state: readonly boolean[]): BooleanHint | undefined {
  for (const term of node.expr) {
    if (term.kind !== COND.BOOL) continue;
    const trial = state.slice();
    trial[term.bool - 1] = !trial[term.bool - 1];
    const result = evaluateCondExpr(node, trial);
    if ((onTrue && result === 1) || (!onTrue && result === 0)) {
      const name = policy.bools.byValue[term.bool - 1]?.name;
      if (name) return { name, value: trial[term.bool - 1]! };
    }
  }
  return undefined;
}

const COND_OP: Record<number, string> = { [COND.OR]: '||', [COND.AND]: '&&', [COND.XOR]: '^', [COND.EQ]: '==', [COND.NEQ]: '!=' };

/** The condition under which the entry's branch is on, in policy syntax: `virt_use_nfs` or `! (a || b)`. */
function formatCond(policy: Policy, node: CondNode, onTrue: boolean): string {
  const stack: string[] = [];
  for (const e of node.expr) {
    if (e.kind === COND.BOOL) stack.push(policy.bools.byValue[e.bool - 1]?.name ?? `bool#${e.bool}`);
    else if (e.kind === COND.NOT) stack.push(`! ${stack.pop()}`);
    else {
      const b = stack.pop();
      const a = stack.pop();
      stack.push(`(${a} ${COND_OP[e.kind] ?? '?'} ${b})`);
    }
  }
  const expr = stack[0] ?? '';
  return onTrue ? expr : `! (${expr})`;
}

function sentence(policy: Policy, cls: ClassDatum, s: ContextStruct, t: ContextStruct, denied: readonly string[], because: AccessExplanation): string {
  if (denied.length === 0) {
    const rules = because.granting.map((g) =>
      `allow ${g.source} ${g.target}:${g.tclass} { ${g.perms.join(' ')} }${g.conditional ? ` (if ${g.conditional})` : ''}`);
    return `allowed by ${rules.join('; ')}`;
  }
  const parts: string[] = [];
  for (const d of because.denials) {
    const perms = `${cls.name} { ${d.perms.join(' ')} }`;
    switch (d.cause) {
      case 'te': {
        const flips = (d.wouldGrant ?? []).map((w) => w.flip).filter((f): f is BooleanHint => f !== undefined);
        if (flips.length > 0) {
          parts.push(`denied unless ${[...new Set(flips.map((f) => `${f.name} is ${f.value ? 'on' : 'off'}`))].join(' or ')}`);
        } else if (d.wouldGrant && d.wouldGrant.length > 0) {
          parts.push(`denied unless ${d.wouldGrant.map((w) => w.condition).join(' or ')} (booleans ${[...new Set(d.wouldGrant.flatMap((w) => w.booleans))].join(', ')})`);
        } else {
          parts.push(`denied: no allow rule for ${typeName(policy, s.type)} on ${typeName(policy, t.type)}:${perms}`);
        }
        break;
      }
      case 'mls':
      case 'constraint':
        parts.push(`denied by the ${d.cause === 'mls' ? 'MLS ' : ''}constraint on ${perms}: ${d.constraint}`);
        break;
      case 'rbac':
        parts.push(`denied: no role allow for the role change on ${perms}`);
        break;
      case 'bounds':
        parts.push(`denied by typebounds on ${perms}`);
        break;
    }
  }
  return parts.join('; ');
}
