import { COND, type CondNode, type Policy } from './model.js';

/**
 * libsepol's cond_evaluate_expr: a postfix walk over boolean values; -1 when the expression is malformed
 * (the loader already refuses those, so in practice 0 or 1). The result is the bottom of the stack, as in
 * libsepol.
 */
export function evaluateCondExpr(node: CondNode, state: ArrayLike<boolean>): number {
  const stack: number[] = [];
  for (const term of node.expr) {
    switch (term.kind) {
      case COND.BOOL: stack.push(state[term.bool - 1] ? 1 : 0); break;
      case COND.NOT: {
        if (stack.length < 1) return -1;
        stack[stack.length - 1] = stack[stack.length - 1] ? 0 : 1;
        break;
      }
      default: {
        if (stack.length < 2) return -1;
        const b = stack.pop()!;
        const a = stack.pop()!;
        stack.push(binary(term.kind, a, b));
      }
    }
  }
  return stack.length > 0 ? stack[0]! : -1;
}

function binary(kind: number, a: number, b: number): number {
  switch (kind) {
    case COND.OR: return a | b;
    case COND.AND: return a & b;
    case COND.XOR: return a ^ b;
    case COND.EQ: return a === b ? 1 : 0;
    case COND.NEQ: return a !== b ? 1 : 0;
    default: return -1;
  }
}

/**
 * Which conditional avtab entries are enabled under one assignment of boolean values, as libsepol's
 * evaluate_conds leaves them: a node whose result equals the state stored in the file keeps the stored
 * enabled flags; otherwise its true branch is on iff the result is 1 and its false branch iff it is 0.
 * Nodes are evaluated on demand and remembered, so a question only pays for the conditionals it meets.
 */
export class CondSwitches {
  private readonly results: Int8Array;

  constructor(private readonly policy: Policy, readonly state: readonly boolean[]) {
    this.results = new Int8Array(policy.condNodes.length).fill(NOT_EVALUATED);
  }

  enabled(entry: number): boolean {
    const owners = condEntryOwners(this.policy);
    const k = owners.node[entry]!;
    const node = this.policy.condNodes[k];
    if (!node) return this.policy.condStoredEnabled[entry] === 1;
    let result = this.results[k]!;
    if (result === NOT_EVALUATED) {
      result = evaluateCondExpr(node, this.state);
      this.results[k] = result;
    }
    if (result === node.storedState) return this.policy.condStoredEnabled[entry] === 1;
    return owners.onTrue[entry] === 1 ? result > 0 : result === 0;
  }
}

const NOT_EVALUATED = 2;

const ownersCache = new WeakMap<Policy, { node: Int32Array; onTrue: Uint8Array }>();

/** Owner node and branch of each conditional entry, for explanations (computed once per policy, on demand). */
export function condEntryOwners(policy: Policy): { node: Int32Array; onTrue: Uint8Array } {
  const cached = ownersCache.get(policy);
  if (cached) return cached;
  const node = new Int32Array(policy.condAvtab.size).fill(-1);
  const onTrue = new Uint8Array(policy.condAvtab.size);
  policy.condNodes.forEach((n, k) => {
    for (const i of n.trueList) { node[i] = k; onTrue[i] = 1; }
    for (const i of n.falseList) node[i] = k;
  });
  const owners = { node, onTrue };
  ownersCache.set(policy, owners);
  return owners;
}
