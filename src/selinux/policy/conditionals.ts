import { AvTableBuilder, forEachAvEntry, readAvtabEntryFast, type AvtabLimits } from './avtab.js';
import { AVTAB, COND, type AvTable, type CondNode, type CondTerm } from './model.js';
import type { ByteReader } from './reader.js';

const COND_EXPR_MAXDEPTH = 10;

export interface ConditionalSection {
  readonly nodes: CondNode[];
  readonly table: AvTable;
  readonly storedEnabled: Uint8Array;
}

/**
 * Reads the conditional list (libsepol's cond_read_list for kernel policies): per node its stored state,
 * its postfix boolean expression, and the avtab entries of its true and false branches. All branches share
 * one table, as in libsepol's te_cond_avtab, where several entries may have the same key.
 */
export function readConditionals(r: ByteReader, limits: AvtabLimits & { boolCount: number }, te: AvTable): ConditionalSection {
  r.section = 'conditional list';
  const count = r.count('conditional node', 16);
  // Sized from what is left (each entry takes at least 12 bytes), so it never has to grow.
  const builder = new AvTableBuilder(Math.min(te.size, Math.floor(r.remaining / 12)));
  const nodes: CondNode[] = [];
  const typeRules = new Map<number, number[]>(); // cond type-rule key -> entry indices, for conflict checks
  for (let n = 0; n < count; n++) {
    const storedState = r.u32('conditional state') | 0;
    const nexpr = r.count('conditional expression', 8);
    const expr: CondTerm[] = [];
    let depth = 0;
    for (let i = 0; i < nexpr; i++) {
      const at = r.offset;
      const kind = r.u32('conditional term type');
      const bool = r.u32('conditional term boolean');
      if (kind < COND.BOOL || kind > COND.NEQ) r.fail(`conditional expression uses unknown operator ${kind}`, at);
      if (bool > limits.boolCount) r.fail(`conditional expression uses unknown boolean ${bool}`, at);
      if (kind === COND.BOOL) {
        if (bool === 0) r.fail('conditional expression uses boolean 0', at);
        if (++depth > COND_EXPR_MAXDEPTH) r.fail('conditional expression is too deep', at);
      } else if (kind !== COND.NOT) {
        if (depth < 2) r.fail('conditional operator needs two operands', at);
        depth--;
      } else if (depth < 1) {
        r.fail('conditional "not" with an empty stack', at);
      }
      expr.push({ kind, bool: kind === COND.BOOL ? bool : 0 });
    }
    if (depth !== 1) r.fail('conditional expression does not reduce to one value');
    const trueList = readBranch(r, limits, builder, te, typeRules, undefined);
    const falseList = readBranch(r, limits, builder, te, typeRules, trueList);
    nodes.push({ storedState, expr, trueList, falseList });
  }
  const table = builder.finish();
  const storedEnabled = new Uint8Array(table.size);
  for (let i = 0; i < table.size; i++) storedEnabled[i] = table.specified[i]! & AVTAB.ENABLED ? 1 : 0;
  return { nodes, table, storedEnabled };
}

function typeKey(source: number, target: number, tclass: number, spec: number): number {
  return ((source * 0x10000 + target) * 0x10000 + tclass) * 8 + (spec >> 4);
}

/** One branch; type rules may not conflict with unconditional ones or each other (cond_insertf). */
function readBranch(
  r: ByteReader, limits: AvtabLimits, builder: AvTableBuilder, te: AvTable,
  typeRules: Map<number, number[]>, trueList: Int32Array | undefined,
): Int32Array {
  const count = r.count('conditional rule', 12);
  const out = new Int32Array(count);
  for (let k = 0; k < count; k++) {
    const at = r.offset;
    const i = readAvtabEntryFast(r, limits, builder);
    out[k] = i;
    if (!(builder.specifiedOf(i) & AVTAB.TYPE)) continue;
    const last = builder.keyOf(i);
    let clash = false;
    forEachAvEntry(te, last.source, last.target, last.tclass, (j) => {
      if (te.specified[j]! & last.spec) clash = true;
    });
    if (clash) r.fail('conditional type rule already exists outside of a conditional', at);
    const key = typeKey(last.source, last.target, last.tclass, last.spec);
    const previous = typeRules.get(key);
    if (previous) {
      const inOwnTrueList = trueList !== undefined && previous.length === 1 && trueList.includes(previous[0]!);
      if (!inOwnTrueList) r.fail('conflicting conditional type rules', at);
      previous.push(i);
    } else {
      typeRules.set(key, [i]);
    }
  }
  return out;
}
