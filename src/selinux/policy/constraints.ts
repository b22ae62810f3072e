import { EMPTY_EBITMAP, readEbitmap, skipEbitmap } from './ebitmap.js';
import { CEXPR, type Constraint, type ConstraintTerm } from './model.js';
import type { ByteReader } from './reader.js';

const MAX_DEPTH = 5; // CEXPR_MAXDEPTH
const MLS_ATTRS = CEXPR.L1L2 | CEXPR.L1H2 | CEXPR.H1L2 | CEXPR.H1H2 | CEXPR.L1H1 | CEXPR.L2H2;

/**
 * Reads `count` constraints (or validatetrans rules when `allowXtarget`) in libsepol's read_cons_helper
 * layout. The postfix expression is checked as it is read, exactly as libsepol does: a stack that never
 * underflows, never exceeds depth 5, and ends with one value; operators and operands must be known, so
 * the evaluator never meets a malformed expression.
 */
export function readConstraints(r: ByteReader, count: number, allowXtarget: boolean, version: number): Constraint[] {
  const out: Constraint[] = [];
  for (let i = 0; i < count; i++) {
    const permissions = r.u32('constraint permissions');
    const nexpr = r.count('constraint expression', 12);
    const expr: ConstraintTerm[] = [];
    let depth = -1;
    let isMls = false;
    for (let j = 0; j < nexpr; j++) {
      const at = r.offset;
      const kind = r.u32('constraint term type');
      const attr = r.u32('constraint term attribute');
      const op = r.u32('constraint term operator');
      let names = EMPTY_EBITMAP;
      switch (kind) {
        case CEXPR.NOT:
          if (depth < 0) r.fail('constraint "not" with an empty stack', at);
          break;
        case CEXPR.AND:
        case CEXPR.OR:
          if (depth < 1) r.fail('constraint "and"/"or" needs two operands', at);
          depth--;
          break;
        case CEXPR.ATTR:
          if (depth === MAX_DEPTH - 1) r.fail('constraint expression is too deep', at);
          depth++;
          checkAttrOperands(r, attr, op, at);
          if (attr & MLS_ATTRS) isMls = true;
          break;
        case CEXPR.NAMES:
          if (!allowXtarget && attr & CEXPR.XTARGET) r.fail('constraint names the third (xtarget) context', at);
          if (depth === MAX_DEPTH - 1) r.fail('constraint expression is too deep', at);
          depth++;
          checkNamesOperands(r, attr, op, at);
          names = readEbitmap(r);
          // Version 29 added the un-expanded type set next to the names, for policy tools only.
          if (version >= 29) {
            skipEbitmap(r);
            skipEbitmap(r);
            r.u32('constraint type set flags');
          }
          break;
        default:
          r.fail(`unknown constraint term type ${kind}`, at);
      }
      expr.push({ kind, attr, op, names });
    }
    if (depth !== 0) r.fail('constraint expression does not reduce to one value');
    out.push({ permissions, expr, isMls });
  }
  return out;
}

function checkAttrOperands(r: ByteReader, attr: number, op: number, at: number): void {
  // Operands of "attr op attr" compare source with target, so no target flag is valid here.
  if (attr === CEXPR.USER || attr === CEXPR.TYPE) {
    if (op !== CEXPR.EQ && op !== CEXPR.NEQ) r.fail(`operator ${op} is not valid on users or types`, at);
    return;
  }
  if (attr === CEXPR.ROLE) {
    if (op < CEXPR.EQ || op > CEXPR.INCOMP) r.fail(`unknown constraint operator ${op}`, at);
    return;
  }
  if ([CEXPR.L1L2, CEXPR.L1H2, CEXPR.H1L2, CEXPR.H1H2, CEXPR.L1H1, CEXPR.L2H2].includes(attr as never)) {
    if (op < CEXPR.EQ || op > CEXPR.INCOMP) r.fail(`unknown constraint operator ${op}`, at);
    return;
  }
  r.fail(`unknown constraint operand ${attr}`, at);
}

function checkNamesOperands(r: ByteReader, attr: number, op: number, at: number): void {
  if (!(attr & (CEXPR.USER | CEXPR.ROLE | CEXPR.TYPE))) r.fail(`constraint names operand ${attr} is not u, r or t`, at);
  if (op !== CEXPR.EQ && op !== CEXPR.NEQ) r.fail(`operator ${op} is not valid against a name list`, at);
}
