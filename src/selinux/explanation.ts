import { forEachAvEntry } from './policy/avtab.js';
import { condEntryOwners, evaluateCondExpr, type CondSwitches } from './policy/cond-eval.js';
import type { AvComputation, ReasonFlags } from './policy/compute-av.js';
import { formatConstraint } from './policy/constraint-eval.js';
import { AVTAB, COND, packedSet, type AvTable, type ClassDatum, type CondNode, type ContextStruct, type Policy } from './policy/model.js';

/**
 * Why an access answer is what it is, as data: the rules that granted, and for each denied permission
 * the stage of libsepol's computation that removed it (TE, constraint, MLS constraint, RBAC, typebounds)
 * with what would change it (the booleans of a conditional rule that would grant it).
 */

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

/**
 * What booleans would change, computed (never inferred from a rule carrying some of the permissions):
 * `fixes` are the settings under which the whole request is allowed, each one boolean, or all the
 * candidates together when no single one suffices; `insufficient` is set when conditional rules carry
 * denied permissions but even all their booleans flipped leave the request denied, with what denies then.
 */
export interface BooleanEffect {
  readonly fixes: readonly (readonly BooleanHint[])[];
  readonly insufficient?: { readonly flips: readonly BooleanHint[]; readonly denials: readonly Denial[] };
}

export interface AccessExplanation {
  readonly granting: readonly GrantingRule[];
  readonly denials: readonly Denial[];
  /** Present when a conditional rule carries some denied permission. */
  readonly booleans?: BooleanEffect;
  /** libsepol's reason flags for this request (SEPOL_COMPUTEAV_TE / CONS / RBAC / BOUNDS). */
  readonly flags: Readonly<ReasonFlags>;
  /** The full allowed vector's permission names for the class (what the kernel would cache). */
  readonly allowedPerms: readonly string[];
}

/** Permission names of a vector, in bit order. */
const permsByBit = new WeakMap<ClassDatum, string[]>();

export function permNames(cls: ClassDatum, vector: number): string[] {
  let byBit = permsByBit.get(cls);
  if (!byBit) {
    byBit = [];
    for (const [name, v] of cls.common?.perms ?? []) byBit[v - 1] = name;
    for (const [name, v] of cls.perms) byBit[v - 1] = name;
    permsByBit.set(cls, byBit);
  }
  const out: string[] = [];
  for (let b = 0; b < 32; b++) if ((vector >>> b) & 1 && byBit[b] !== undefined) out.push(byBit[b]!);
  return out;
}

export function typeName(policy: Policy, value: number): string {
  return policy.types.byValue[value - 1]?.name ?? `type#${value}`;
}

export function explain(
  policy: Policy, cls: ClassDatum, s: ContextStruct, t: ContextStruct, requested: number,
  av: AvComputation, state: readonly boolean[], conds: CondSwitches,
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
    const wouldGrant = conditionalGrants(policy, cls, s, t, teDenied, state, conds);
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
  state: readonly boolean[], conds: CondSwitches,
): NonNullable<Denial['wouldGrant']> {
  const ct = policy.condAvtab;
  if (ct.size === 0) return [];
  const owners = condEntryOwners(policy);
  const out: { booleans: string[]; condition: string; flip?: BooleanHint }[] = [];
  const seen = new Set<string>();
  for (const src of packedSet(policy.typeAttrMap, s.type - 1)) {
    for (const tgt of packedSet(policy.typeAttrMap, t.type - 1)) {
      forEachAvEntry(ct, src + 1, tgt + 1, cls.value, (i) => {
        if ((ct.specified[i]! & AVTAB.ALLOWED) === 0 || (ct.data[i]! & denied) === 0 || conds.enabled(i)) return;
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
