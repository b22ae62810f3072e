import { forEachAvEntry } from './avtab.js';
import type { CondSwitches } from './cond-eval.js';
import { evaluateConstraint } from './constraint-eval.js';
import { AVTAB, packedSet, type Constraint, type ContextStruct, type Policy } from './model.js';

/** libsepol's SEPOL_COMPUTEAV_* reason flags. */
export interface ReasonFlags {
  te: boolean;
  cons: boolean;
  rbac: boolean;
  bounds: boolean;
}

/** A rule (avtab entry) that contributed allowed permissions. */
export interface GrantingEntry {
  readonly table: 'te' | 'cond';
  readonly index: number;
}

export interface AvComputation {
  /** The final allowed vector (avd.allowed). */
  readonly allowed: number;
  /** What TE (unconditional + enabled conditional rules) allowed, before constraints. */
  readonly teAllowed: number;
  readonly flags: ReasonFlags;
  /** Entries whose permissions reached teAllowed (only when traced). */
  readonly granting: readonly GrantingEntry[];
  /** Constraints that failed, with the allowed bits each one removed. */
  readonly failedConstraints: readonly { readonly constraint: Constraint; readonly removed: number }[];
  readonly rbacRemoved: number;
  readonly boundsRemoved: number;
}

/**
 * Mirrors libsepol's context_struct_compute_av (services.c) step by step:
 *  1. TE: for every (source attribute-or-self, target attribute-or-self) pair, OR in the unconditional
 *     allow entries and the enabled conditional ones;
 *  2. constraints (MLS included): each constraint whose permissions meet what is allowed is evaluated,
 *     and removes its permissions when false;
 *  3. RBAC: a process transition that changes role needs a role allow;
 *  4. typebounds: a bounded source type keeps only what its bound would be allowed (recursively).
 * Reason flags are set as libsepol sets them: against the still-requested bits after each stage, except
 * bounds, which is flagged whenever anything was masked.
 */
export function computeAv(
  policy: Policy, s: ContextStruct, t: ContextStruct, tclass: number, requested: number,
  conds: CondSwitches, trace: boolean, depth = 0,
): AvComputation {
  const flags: ReasonFlags = { te: false, cons: false, rbac: false, bounds: false };
  const granting: GrantingEntry[] = [];
  const sattr = packedSet(policy.typeAttrMap, s.type - 1);
  const tattr = packedSet(policy.typeAttrMap, t.type - 1);
  const te = policy.avtab;
  const ct = policy.condAvtab;
  let allowed = 0;
  for (let a = 0; a < sattr.length; a++) {
    const src = sattr[a]! + 1;
    for (let b = 0; b < tattr.length; b++) {
      const tgt = tattr[b]! + 1;
      forEachAvEntry(te, src, tgt, tclass, (i) => {
        // libsepol compares the whole specifier: an unconditional entry flagged "enabled" grants nothing.
        if (te.specified[i] !== AVTAB.ALLOWED) return;
        allowed |= te.data[i]!;
        if (trace && te.data[i]! & requested) granting.push({ table: 'te', index: i });
      });
      forEachAvEntry(ct, src, tgt, tclass, (i) => {
        if ((ct.specified[i]! & AVTAB.ALLOWED) === 0 || !conds.enabled(i)) return;
        allowed |= ct.data[i]!;
        if (trace && ct.data[i]! & requested) granting.push({ table: 'cond', index: i });
      });
    }
  }
  allowed >>>= 0;
  const teAllowed = allowed;
  if (requested & ~allowed) {
    flags.te = true;
    requested &= allowed;
  }

  const cls = policy.classes.byValue[tclass - 1]!;
  const failedConstraints: { constraint: Constraint; removed: number }[] = [];
  for (const constraint of cls.constraints) {
    if ((constraint.permissions & allowed) !== 0 && !evaluateConstraint(policy, constraint, s, t)) {
      failedConstraints.push({ constraint, removed: (allowed & constraint.permissions) >>> 0 });
      allowed = (allowed & ~constraint.permissions) >>> 0;
    }
  }
  if (requested & ~allowed) {
    flags.cons = true;
    requested &= allowed;
  }

  let rbacRemoved = 0;
  if (tclass === policy.processClass && (allowed & policy.processTransDyntrans) !== 0 && s.role !== t.role) {
    const permitted = policy.roleAllows.some((ra) => ra.role === s.role && ra.newRole === t.role);
    if (!permitted) {
      rbacRemoved = (allowed & policy.processTransDyntrans) >>> 0;
      allowed = (allowed & ~policy.processTransDyntrans) >>> 0;
    }
  }
  if (requested & ~allowed) {
    flags.rbac = true;
    requested &= allowed;
  }

  let boundsRemoved = 0;
  const source = policy.types.byValue[s.type - 1];
  // The loader refuses bounds cycles; the depth guard only keeps a bug from recursing forever.
  if (source && source.bounds !== 0 && depth < policy.types.count) {
    const target = policy.types.byValue[t.type - 1];
    const loS = { ...s, type: source.bounds };
    const loT = target && target.bounds !== 0 ? { ...t, type: target.bounds } : t;
    const lo = computeAv(policy, loS, loT, tclass, requested, conds, false, depth + 1);
    const masked = (~lo.allowed & allowed) >>> 0;
    if (masked !== 0) {
      boundsRemoved = masked;
      allowed = (allowed & ~masked) >>> 0;
      flags.bounds = true;
    }
  }
  return { allowed, teAllowed, flags, granting, failedConstraints, rbacRemoved, boundsRemoved };
}
