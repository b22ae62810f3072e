/**
 * Whether a profile lets a task open a path with the permissions it needs, as the kernel decides it
 * from the DFA apparmor_parser builds: every rule whose glob matches the path contributes; the allowed
 * permissions are the union of the matching allow rules, the denied ones the union of the matching
 * deny rules, and a deny always wins (allow & ~deny). `owner` rules count only when the file's owner
 * uid equals the task's fsuid (the kernel keeps separate "owner" and "other" permission sets). `audit`
 * changes only logging. 'w' includes append ('a'): a task allowed to write may open O_APPEND.
 */
import type { FileRule, Perm } from './parse.js';

export const PERM_ORDER: readonly Perm[] = ['r', 'w', 'a', 'k', 'l', 'm', 'x'];
export const permText = (perms: Iterable<Perm>) => {
  const s = new Set(perms);
  return PERM_ORDER.filter((p) => s.has(p)).join('');
};

export const ruleRef = (r: FileRule) => `${r.file}:${r.line}: ${r.text}`;

export type Evaluation =
  /** Every needed permission is allowed; `by` the rules that grant them (fewest, in profile order). */
  | { readonly verdict: 'allowed'; readonly by: readonly FileRule[] }
  /** A needed permission is taken away by a deny rule. */
  | { readonly verdict: 'denied'; readonly perms: readonly Perm[]; readonly by: FileRule }
  /** No rule allows a needed permission (and none denies it): the kernel refuses it all the same. */
  | { readonly verdict: 'absent'; readonly perms: readonly Perm[]; readonly partial: readonly FileRule[] };

const matches = (r: FileRule, path: string) => r.patterns.some((p) => p.test(path));

/** What a rule grants, with 'w' counting for 'a'. */
function grants(r: FileRule): ReadonlySet<Perm> {
  return r.perms.has('w') && !r.perms.has('a') ? new Set([...r.perms, 'a' as Perm]) : r.perms;
}

/**
 * `path` as the kernel names the object: symlinks resolved, with a trailing '/' for a directory.
 * `isOwner`: the file's uid equals the task's fsuid.
 */
export function evaluate(rules: readonly FileRule[], path: string, needed: readonly Perm[], isOwner: boolean): Evaluation {
  const applicable = rules.filter((r) => (isOwner || !r.owner) && matches(r, path));
  const allowRules = applicable.filter((r) => !r.deny);
  const denyRules = applicable.filter((r) => r.deny);
  const denied = needed.filter((p) => denyRules.some((r) => grants(r).has(p)));
  if (denied.length > 0) return { verdict: 'denied', perms: denied, by: denyRules.find((r) => denied.some((p) => grants(r).has(p)))! };
  const missingPerms = needed.filter((p) => !allowRules.some((r) => grants(r).has(p)));
  if (missingPerms.length > 0) return { verdict: 'absent', perms: missingPerms, partial: allowRules.filter((r) => needed.some((p) => grants(r).has(p))) };
  // One rule granting all, else a greedy cover in profile order.
  const one = allowRules.find((r) => needed.every((p) => grants(r).has(p)));
  if (one) return { verdict: 'allowed', by: [one] };
  const by: FileRule[] = [];
  const left = new Set(needed);
  for (const r of allowRules) {
    if ([...left].some((p) => grants(r).has(p))) {
      by.push(r);
      for (const p of grants(r)) left.delete(p);
    }
    if (left.size === 0) break;
  }
  return { verdict: 'allowed', by };
}
