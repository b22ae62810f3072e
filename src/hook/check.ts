/**
 * The hook's refuse-or-allow rule, pure given its ports: 10 refuses the start (a proven-stale
 * annotation, unless hook.conf says fail_on = never), 0 lets it go on (everything else, each reason
 * logged). It never calls libvirt (that would deadlock the daemon).
 */
import type { Model } from '../decide/types.js';
import type { Domain } from '../domain/model.js';
import type { SvirtLabelSource } from '../selinux/svirt-process.js';
import type { Result } from '../result.js';
import { DEFAULT_HOOK_CONFIG, parseHookConfig, type HookConfig } from './config.js';
import type { HookLog } from './effects.js';
import { parseInvocation, PHASE_MODEL } from './invocation.js';
import { judgeDomain, parseHookXml, type HookContext } from './judge.js';
import { judgementLines, PREFIX } from './render.js';
import { HOOK_REFUSE_EXIT } from './script.js';

export type HookExit = 0 | typeof HOOK_REFUSE_EXIT;

export interface HookCheckDeps {
  /** The whole domain XML libvirt wrote to stdin. */
  readonly readStdin: () => Promise<Uint8Array>;
  readonly log: HookLog;
  /** The config file's text; undefined when there is none (defaults apply). */
  readonly readConfig: () => { text: string; file: string } | undefined;
  readonly openContext: (svirtLabel: SvirtLabelSource) => Result<HookContext, string>;
  /**
   * The files whose same-boot libvirt record will make libvirt refuse this start ("already in use"), one
   * line each, naming a stale record's fix (issue 25 item 3; live: app/hook-records.ts). Only adds the
   * cause: never refuses. It runs only when the script starts Node (script.ts's fast path skips a domain
   * with nothing to check). It gets the domain already parsed and the check's own host context (opened
   * once, on first use, for both).
   */
  readonly startRecords?: (vm: string, domain: Domain, model: Model, context: () => Result<HookContext, string>) => Promise<string[]>;
  /**
   * `migrate begin` and `restore begin`: the XML re-decided for this host (its qemu identity, policy and
   * mounts) as annotate --prune-stale decides it: the proven annotations added, the proven-stale removed,
   * byte-minimal; `changes` says each edit in words. Absent: those operations are ignored.
   */
  readonly refilter?: (bytes: Uint8Array) => Promise<Result<{ readonly output: Uint8Array; readonly changes: readonly string[] }, string>> | Result<{ readonly output: Uint8Array; readonly changes: readonly string[] }, string>;
  /** Where the filter's XML goes (libvirt reads the hook's stdout); written once, whole, or not at all. */
  readonly writeStdout?: (bytes: Uint8Array) => void;
}

/**
 * The filter for `migrate begin` / `restore begin`: print the re-decided XML only when it differs, and
 * nothing on any error (libvirt then keeps its own XML: empty output is "unchanged"); never a non-zero
 * exit, which would cancel the migration or the restore.
 */
async function runFilter(vm: string, operation: string, bytes: Uint8Array, deps: HookCheckDeps): Promise<HookExit> {
  const what = `${PREFIX} ${vm}: ${operation} begin`;
  if (!deps.refilter || !deps.writeStdout) return 0;
  try {
    const r = await deps.refilter(bytes);
    if (!r.ok) {
      deps.log.say(`${what}: cannot re-decide: ${r.error}; libvirt keeps its XML`, { syslog: true });
      return 0;
    }
    if (r.value.changes.length === 0) return 0;
    deps.writeStdout(r.value.output);
    for (const c of r.value.changes) deps.log.say(`${what}: ${c}`, { syslog: true });
    return 0;
  } catch (e) {
    deps.log.say(`${what}: internal error: ${e instanceof Error ? e.message : String(e)}; libvirt keeps its XML`, { syslog: true });
    return 0;
  }
}

function loadConfig(deps: HookCheckDeps, vm: string): HookConfig {
  let raw;
  try {
    raw = deps.readConfig();
  } catch (e) {
    deps.log.say(`${PREFIX} ${vm}: cannot read the hook config (${e instanceof Error ? e.message : String(e)}); using fail_on = stale`, { syslog: true });
    return DEFAULT_HOOK_CONFIG;
  }
  if (!raw) return DEFAULT_HOOK_CONFIG;
  const parsed = parseHookConfig(raw.text, raw.file);
  for (const p of parsed.problems) deps.log.say(`${PREFIX} ${p}`, { syslog: true });
  return parsed.config;
}

export async function runHookCheck(args: readonly string[], deps: HookCheckDeps): Promise<HookExit> {
  const inv = parseInvocation(args);
  // Read the whole XML whatever the operation: libvirt writes it to our stdin and should never see EPIPE.
  let bytes: Uint8Array;
  try {
    bytes = await deps.readStdin();
  } catch (e) {
    deps.log.say(`${PREFIX} cannot read the domain XML from stdin (${e instanceof Error ? e.message : String(e)}); start allowed unchecked`, { syslog: true });
    return 0;
  }
  if (inv.kind === 'ignored') return 0;
  if (inv.kind === 'filter') return runFilter(inv.domain, inv.operation, bytes, deps);
  if (inv.kind === 'unknown') {
    deps.log.say(`${PREFIX} hook called with ${JSON.stringify(args.join(' '))}: ${inv.why}; nothing checked`, { syslog: true });
    return 0;
  }
  const vm = inv.domain;
  const cannotCheck = (why: string): HookExit => {
    deps.log.say(`${PREFIX} ${vm}: ${inv.phase.replace('-', ' ')}: cannot check: ${why}; start allowed unchecked`, { syslog: true });
    return 0;
  };
  try {
    const config = loadConfig(deps, vm);
    const read = parseHookXml(bytes);
    if (!read.ok) return cannotCheck(read.error);
    const { domain } = read.value;
    // XML's second gate before anything is said or refused on this document's account (judge.ts, HookXml).
    const gateRefuses = (): string | undefined => {
      const g = read.value.secondGate();
      return g.ok ? undefined : g.error;
    };
    const svirtLabel: SvirtLabelSource = inv.phase === 'start-begin' ? 'generated' : 'any-dynamic';
    let opened: Result<HookContext, string> | undefined;
    const context = () => (opened ??= deps.openContext(svirtLabel));
    if (deps.startRecords) {
      let records: string[] = [];
      try {
        records = await deps.startRecords(vm, domain, PHASE_MODEL[inv.phase], context);
      } catch (e) {
        records = [`cannot read libvirt's records: ${e instanceof Error ? e.message : String(e)}`];
      }
      if (records.length > 0) {
        const refused = gateRefuses();
        if (refused !== undefined) return cannotCheck(refused);
      }
      for (const l of records) deps.log.say(`${PREFIX} ${vm}: ${l}`, { syslog: true });
    }
    const j = judgeDomain(domain, inv.phase, context);
    if (!j.ok) return cannotCheck(gateRefuses() ?? j.error);
    const lines = judgementLines(vm, j.value);
    if (lines.notes.length + lines.stale.length > 0) {
      const refused = gateRefuses();
      if (refused !== undefined) return cannotCheck(refused);
    }
    for (const n of lines.notes) deps.log.say(n, { syslog: true });
    if (lines.stale.length === 0) return 0;
    if (config.failOn === 'never') {
      for (const s of lines.stale) deps.log.say(`${s} (fail_on = never: start allowed)`, { syslog: true });
      return 0;
    }
    for (const s of lines.stale) deps.log.say(s, { syslog: true });
    return HOOK_REFUSE_EXIT;
  } catch (e) {
    deps.log.say(`${PREFIX} ${vm}: internal error: ${e instanceof Error ? e.message : String(e)}; start allowed unchecked`, { syslog: true });
    return 0;
  }
}

/** Host options the check cannot use (a bad option in the installed script): never a reason to stop a VM. */
export function hostOptionsUnusable(error: string, log: HookLog): HookExit {
  log.say(`${PREFIX} hook: ${error}; start allowed unchecked`, { syslog: true });
  return 0;
}
