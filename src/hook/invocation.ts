/**
 * What libvirt asked the qemu hook to do (`NAME OPERATION SUB-OP EXTRA`, libvirt-labeling.md "Hooks").
 * Only two moments can refuse a start: `prepare begin` (before any labelling; DAC is re-proved) and
 * `start begin` (the generated SELinux label is in the XML, labelling not done yet). Every other
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

export type HookInvocation =
  | { readonly kind: 'check'; readonly domain: string; readonly phase: HookPhase }
  | { readonly kind: 'ignored'; readonly domain: string }
  | { readonly kind: 'unknown'; readonly why: string };

export function parseInvocation(args: readonly string[]): HookInvocation {
  if (args.length < 3) return { kind: 'unknown', why: `expected NAME OPERATION SUB-OP [EXTRA], got ${args.length} argument(s)` };
  const [domain, operation, subop] = args as [string, string, string];
  if (subop === 'begin' && operation === 'prepare') return { kind: 'check', domain, phase: 'prepare-begin' };
  if (subop === 'begin' && operation === 'start') return { kind: 'check', domain, phase: 'start-begin' };
  if (KNOWN_OPERATIONS.has(operation)) return { kind: 'ignored', domain };
  return { kind: 'unknown', why: `operation '${operation} ${subop}' is not one libvirt documents` };
}
