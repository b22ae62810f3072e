import { levelDominates } from './context-valid.js';
import { ebitmapEquals, ebitmapHas } from './ebitmap.js';
import { CEXPR, type Constraint, type ContextStruct, type MlsLevel, type Policy } from './model.js';

function levelEq(a: MlsLevel, b: MlsLevel): boolean {
  return a.sens === b.sens && ebitmapEquals(a.cats, b.cats);
}

function levelPair(attr: number, s: ContextStruct, t: ContextStruct): [MlsLevel, MlsLevel] | undefined {
  switch (attr) {
    case CEXPR.L1L2: return [s.range.low, t.range.low];
    case CEXPR.L1H2: return [s.range.low, t.range.high];
    case CEXPR.H1L2: return [s.range.high, t.range.low];
    case CEXPR.H1H2: return [s.range.high, t.range.high];
    case CEXPR.L1H1: return [s.range.low, s.range.high];
    case CEXPR.L2H2: return [t.range.low, t.range.high];
    default: return undefined;
  }
}

function roleDominates(policy: Policy, r1: number, r2: number): boolean {
  const role = policy.roles.byValue[r1 - 1];
  return role !== undefined && ebitmapHas(role.dominates, r2 - 1);
}

/**
 * libsepol's constraint_expr_eval_reason without the text: evaluates the postfix expression on the
 * source, target (and, for validatetrans, third) contexts; the answer is the bottom of the stack.
 * Operators the loader would not accept evaluate to "deny", as libsepol's BUG() paths do.
 */
export function evaluateConstraint(policy: Policy, c: Constraint, s: ContextStruct, t: ContextStruct, x?: ContextStruct): boolean {
  const stack: boolean[] = [];
  for (const e of c.expr) {
    switch (e.kind) {
      case CEXPR.NOT: stack[stack.length - 1] = !stack[stack.length - 1]; break;
      case CEXPR.AND: { const b = stack.pop()!; const a = stack.pop()!; stack.push(a && b); break; }
      case CEXPR.OR: { const b = stack.pop()!; const a = stack.pop()!; stack.push(a || b); break; }
      case CEXPR.ATTR: {
        const levels = levelPair(e.attr, s, t);
        if (levels) {
          const [l1, l2] = levels;
          switch (e.op) {
            case CEXPR.EQ: stack.push(levelEq(l1, l2)); break;
            case CEXPR.NEQ: stack.push(!levelEq(l1, l2)); break;
            case CEXPR.DOM: stack.push(levelDominates(l1, l2)); break;
            case CEXPR.DOMBY: stack.push(levelDominates(l2, l1)); break;
            case CEXPR.INCOMP: stack.push(!levelDominates(l2, l1) && !levelDominates(l1, l2)); break;
            default: return false;
          }
          break;
        }
        let v1: number;
        let v2: number;
        if (e.attr === CEXPR.USER) { v1 = s.user; v2 = t.user; }
        else if (e.attr === CEXPR.TYPE) { v1 = s.type; v2 = t.type; }
        else if (e.attr === CEXPR.ROLE) {
          v1 = s.role; v2 = t.role;
          if (e.op === CEXPR.DOM) { stack.push(roleDominates(policy, v1, v2)); break; }
          if (e.op === CEXPR.DOMBY) { stack.push(roleDominates(policy, v2, v1)); break; }
          if (e.op === CEXPR.INCOMP) { stack.push(!roleDominates(policy, v1, v2) && !roleDominates(policy, v2, v1)); break; }
        } else return false;
        if (e.op === CEXPR.EQ) stack.push(v1 === v2);
        else if (e.op === CEXPR.NEQ) stack.push(v1 !== v2);
        else return false;
        break;
      }
      case CEXPR.NAMES: {
        let ctx = s;
        if (e.attr & CEXPR.TARGET) ctx = t;
        else if (e.attr & CEXPR.XTARGET) { if (!x) return false; ctx = x; }
        let v: number;
        if (e.attr & CEXPR.USER) v = ctx.user;
        else if (e.attr & CEXPR.ROLE) v = ctx.role;
        else if (e.attr & CEXPR.TYPE) v = ctx.type;
        else return false;
        const member = ebitmapHas(e.names, v - 1);
        if (e.op === CEXPR.EQ) stack.push(member);
        else if (e.op === CEXPR.NEQ) stack.push(!member);
        else return false;
        break;
      }
      default: return false;
    }
  }
  return stack[0] ?? false;
}

const OPERAND: Record<number, [string, string]> = {
  [CEXPR.USER]: ['u1', 'u2'], [CEXPR.ROLE]: ['r1', 'r2'], [CEXPR.TYPE]: ['t1', 't2'],
  [CEXPR.L1L2]: ['l1', 'l2'], [CEXPR.L1H2]: ['l1', 'h2'], [CEXPR.H1L2]: ['h1', 'l2'],
  [CEXPR.H1H2]: ['h1', 'h2'], [CEXPR.L1H1]: ['l1', 'h1'], [CEXPR.L2H2]: ['l2', 'h2'],
};
const OP: Record<number, string> = { [CEXPR.EQ]: '==', [CEXPR.NEQ]: '!=', [CEXPR.DOM]: 'dom', [CEXPR.DOMBY]: 'domby', [CEXPR.INCOMP]: 'incomp' };
const MAX_LISTED_NAMES = 6;

/** The constraint as policy-language text (infix), for explanations; long name lists are shortened. */
export function formatConstraint(policy: Policy, c: Constraint): string {
  const stack: string[] = [];
  for (const e of c.expr) {
    switch (e.kind) {
      case CEXPR.NOT: stack.push(`not (${stack.pop()})`); break;
      case CEXPR.AND:
      case CEXPR.OR: {
        const b = stack.pop();
        const a = stack.pop();
        stack.push(`(${a} ${e.kind === CEXPR.AND ? 'and' : 'or'} ${b})`);
        break;
      }
      case CEXPR.ATTR: {
        const [a, b] = OPERAND[e.attr] ?? ['?', '?'];
        const op = OP[e.op] ?? '?';
        stack.push(`${a} ${op === '==' && a.startsWith('l') || op === '==' && a.startsWith('h') ? 'eq' : op} ${b}`);
        break;
      }
      case CEXPR.NAMES: {
        const which = e.attr & CEXPR.TARGET ? 2 : e.attr & CEXPR.XTARGET ? 3 : 1;
        const letter = e.attr & CEXPR.USER ? 'u' : e.attr & CEXPR.ROLE ? 'r' : 't';
        const table = letter === 'u' ? policy.users : letter === 'r' ? policy.roles : policy.types;
        const names = [...e.names].slice(0, MAX_LISTED_NAMES).map((b) => table.byValue[b]?.name ?? `#${b + 1}`);
        const more = e.names.length > MAX_LISTED_NAMES ? ` …${e.names.length - MAX_LISTED_NAMES} more` : '';
        const list = e.names.length === 1 ? names[0] : `{ ${names.join(' ')}${more} }`;
        stack.push(`${letter}${which} ${OP[e.op] ?? '?'} ${list}`);
        break;
      }
    }
  }
  return stack[0] ?? '';
}
