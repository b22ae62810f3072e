import { failure, success, type Result } from '../result.js';

/**
 * SELinux security contexts as policy-free value types: what a file label or a process label says,
 * parsed with the conventional names (sensitivities sN, categories cN) so that the decision core can
 * compare and print labels without a policy. Categories are held as a sorted, duplicate-free list of
 * numbers, so two spellings of one set (`c0.c2,c5` and `c5,c1,c0,c2`) are the same value.
 *
 * The access computation does NOT use this parser: it resolves context strings against the policy
 * (policy/resolve-context.ts), exactly as libsepol does, aliases and policy-specific names included.
 */
export interface MlsLevel {
  /** Sensitivity number: s0 -> 0. */
  readonly sensitivity: number;
  /** Category numbers, ascending, no duplicates: c0.c2 -> [0, 1, 2]. */
  readonly categories: readonly number[];
}

export interface MlsRange {
  readonly low: MlsLevel;
  readonly high: MlsLevel;
}

export interface SecurityContext {
  readonly user: string;
  readonly role: string;
  readonly type: string;
  /** Absent for a context without an MLS field (non-MLS policies). */
  readonly range?: MlsRange;
}

const IDENT = /^[A-Za-z0-9_.$-]+$/;
const SENS = /^s(0|[1-9][0-9]{0,4})$/;
const CAT = /^c(0|[1-9][0-9]{0,4})$/;
/** No policy has more than a few thousand categories; a bound keeps `c0.c99999999` from allocating. */
const MAX_CATEGORY = 65535;

/** `user:role:type[:low[-high]]` where a level is `sN[:cats]` and cats are `cN` or `cN.cM`, comma-separated. */
export function parseContext(text: string): Result<SecurityContext, string> {
  const parts = text.split(':');
  if (parts.length < 3) return failure(`"${text}" is not user:role:type[:range]`);
  const [user, role, type] = parts as [string, string, string];
  for (const [what, v] of [['user', user], ['role', role], ['type', type]] as const) {
    if (!IDENT.test(v)) return failure(`invalid ${what} "${v}" in "${text}"`);
  }
  if (parts.length === 3) return success({ user, role, type });
  const range = parseRange(parts.slice(3).join(':'));
  if (!range.ok) return failure(`${range.error} in "${text}"`);
  return success({ user, role, type, range: range.value });
}

export function parseRange(text: string): Result<MlsRange, string> {
  const dash = text.indexOf('-');
  const low = parseLevel(dash < 0 ? text : text.slice(0, dash));
  if (!low.ok) return low;
  if (dash < 0) return success({ low: low.value, high: low.value });
  const high = parseLevel(text.slice(dash + 1));
  if (!high.ok) return high;
  if (!dominates(high.value, low.value)) return failure(`range "${text}": the high level does not dominate the low level`);
  return success({ low: low.value, high: high.value });
}

export function parseLevel(text: string): Result<MlsLevel, string> {
  const colon = text.indexOf(':');
  const sensText = colon < 0 ? text : text.slice(0, colon);
  const sm = SENS.exec(sensText);
  if (!sm) return failure(`invalid sensitivity "${sensText}"`);
  const sensitivity = Number(sm[1]);
  if (colon < 0) return success({ sensitivity, categories: [] });
  const cats = new Set<number>();
  for (const item of text.slice(colon + 1).split(',')) {
    const dot = item.indexOf('.');
    const first = catNumber(dot < 0 ? item : item.slice(0, dot));
    if (first === undefined) return failure(`invalid category "${item}"`);
    if (dot < 0) {
      cats.add(first);
      continue;
    }
    const last = catNumber(item.slice(dot + 1));
    if (last === undefined || last <= first) return failure(`invalid category range "${item}"`);
    for (let c = first; c <= last; c++) cats.add(c);
  }
  return success({ sensitivity, categories: [...cats].sort((a, b) => a - b) });
}

function catNumber(text: string): number | undefined {
  const m = CAT.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  return n <= MAX_CATEGORY ? n : undefined;
}

/**
 * Canonical text as the kernel prints it (mls_sid_to_context): runs of three or more consecutive
 * categories as `cA.cB`, shorter runs comma-separated.
 */
export function formatLevel(level: MlsLevel): string {
  const c = level.categories;
  if (c.length === 0) return `s${level.sensitivity}`;
  const items: string[] = [];
  for (let i = 0; i < c.length; ) {
    let j = i;
    while (j + 1 < c.length && c[j + 1] === c[j]! + 1) j++;
    if (j - i >= 2) items.push(`c${c[i]}.c${c[j]}`);
    else for (let k = i; k <= j; k++) items.push(`c${c[k]}`);
    i = j + 1;
  }
  return `s${level.sensitivity}:${items.join(',')}`;
}

export function formatRange(range: MlsRange): string {
  return levelEquals(range.low, range.high) ? formatLevel(range.low) : `${formatLevel(range.low)}-${formatLevel(range.high)}`;
}

export function formatContext(ctx: SecurityContext): string {
  const base = `${ctx.user}:${ctx.role}:${ctx.type}`;
  return ctx.range ? `${base}:${formatRange(ctx.range)}` : base;
}

/** l1 dom l2: at least the sensitivity and every category of l2 (policies order sN by N). */
export function dominates(l1: MlsLevel, l2: MlsLevel): boolean {
  if (l1.sensitivity < l2.sensitivity) return false;
  const have = new Set(l1.categories);
  return l2.categories.every((c) => have.has(c));
}

export function levelEquals(a: MlsLevel, b: MlsLevel): boolean {
  return a.sensitivity === b.sensitivity && a.categories.length === b.categories.length &&
    a.categories.every((c, i) => b.categories[i] === c);
}

/** Neither level dominates the other. */
export function incomparable(a: MlsLevel, b: MlsLevel): boolean {
  return !dominates(a, b) && !dominates(b, a);
}

/** `inner` lies within `outer`: outer.low <= inner.low and inner.high <= outer.high. */
export function rangeContains(outer: MlsRange, inner: MlsRange): boolean {
  return dominates(inner.low, outer.low) && dominates(outer.high, inner.high);
}
