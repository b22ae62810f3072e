/**
 * What libvirt asked the qemu hook to do (`NAME OPERATION SUB-OP EXTRA`, libvirt-labeling.md "Hooks").
 * Only two moments can refuse a start: `prepare begin` (before any labelling; DAC is re-proved) and
 * `start begin` (the generated SELinux label is in the XML, labelling not done yet). Two may rewrite the
 * XML: `migrate begin` and `restore begin` (a filter: re-decided for this host). Every other
 * operation libvirt runs hooks for is ignored; an operation libvirt does not document is reported.
 */
import type { Model } from '../decide/types.js';

export type HookPhase = 'prepare-begin' | 'start-begin';

/** The one model each phase re-proves: DAC needs no generated label, SELinux needs the one in the XML. */
export const PHASE_MODEL: Readonly<Record<HookPhase, Model>> = { 'prepare-begin': 'dac', 'start-begin': 'selinux' };

/** Operations of libvirt's qemu hook (docs/hooks.rst, virHookQemuOpType) that never start a check. */
const KNOWN_OPERATIONS: ReadonlySet<string> = new Set([
  'start', 'stopped', 'prepare', 'release', 'migrate', 'started', 'reconnect', 'attach', 'restore',
]);

/**
 * The two operations whose stdout libvirt takes as the new domain XML (docs/hooks.rst: `migrate begin`
 * on the destination of an incoming migration, `restore begin` when a saved image is restored; empty
 * output keeps libvirt's XML, a failure or invalid XML cancels the operation).
 */
export type FilterOperation = 'migrate' | 'restore';

export type HookInvocation =
  | { readonly kind: 'check'; readonly domain: string; readonly phase: HookPhase }
  | { readonly kind: 'filter'; readonly domain: string; readonly operation: FilterOperation }
  | { readonly kind: 'ignored'; readonly domain: string }
  | { readonly kind: 'unknown'; readonly why: string };

export function parseInvocation(args: readonly string[]): HookInvocation {
  if (args.length < 3) return { kind: 'unknown', why: `expected NAME OPERATION SUB-OP [EXTRA], got ${args.length} argument(s)` };
  const [domain, operation, subop] = args as [string, string, string];
  if (subop === 'begin' && operation === 'prepare') return { kind: 'check', domain, phase: 'prepare-begin' };
  if (subop === 'begin' && operation === 'start') return { kind: 'check', domain, phase: 'start-begin' };
  if (subop === 'begin' && (operation === 'migrate' || operation === 'restore')) return { kind: 'filter', domain, operation };
  if (KNOWN_OPERATIONS.has(operation)) return { kind: 'ignored', domain };
  return { kind: 'unknown', why: `operation '${operation} ${subop}' is not one libvirt documents` };
}
