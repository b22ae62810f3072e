/**
 * `virt-seclabel hook`: the program libvirt runs as a qemu hook, and `hook install` / `hook uninstall`.
 * The check reads the XML from stdin and decides through src/hook/judge.ts; this module only wires
 * streams, the config file, the host context and the effects, and maps the outcome to the hook's
 * exit-code contract: 10 refuses the start (a proven-stale annotation), 0 lets it go on (everything
 * else, each reason logged). It never calls libvirt (that would deadlock the daemon).
 */
import { readFileSync } from 'node:fs';
import { EXIT, type CliIo, type ExitCode } from '../app/command-io.js';
import type { HostOptions } from '../app/host-options.js';
import { failure, type Result } from '../result.js';
import { parseHookConfig, type HookConfig, DEFAULT_HOOK_CONFIG } from '../hook/config.js';
import type { HookFiles, HookLog } from '../hook/effects.js';
import { parseInvocation, PHASE_MODEL } from '../hook/invocation.js';
import type { Model } from '../decide/types.js';
import { hookPath, planInstall, planUninstall, RELOAD_NOTE } from '../hook/install.js';
import { judgeDomainXml, type HookContext } from '../hook/judge.js';
import { judgementLines, PREFIX } from '../hook/render.js';
import { HOOK_REFUSE_EXIT, renderHookScript } from '../hook/script.js';
import type { SvirtLabelSource } from '../app/selinux-engine.js';
import { readAll } from '../adapters/inputs.js';
import { openHost } from '../app/open-view.js';
import { createHostContext } from '../app/host-context.js';

export type HookExit = 0 | typeof HOOK_REFUSE_EXIT;

export interface HookCheckDeps {
  readonly stdin: NodeJS.ReadableStream;
  readonly log: HookLog;
  /** The config file's text; undefined when there is none (defaults apply). */
  readonly readConfig: () => { text: string; file: string } | undefined;
  readonly openContext: (svirtLabel: SvirtLabelSource) => Result<HookContext, string>;
  /**
   * The files whose same-boot libvirt record will make libvirt refuse this start ("already in use"), one
   * line each, naming a stale record's fix (app/hook-records.ts). Only adds the cause: never refuses.
   */
  readonly startRecords?: (vm: string, bytes: Uint8Array, model: Model) => Promise<string[]>;
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
    bytes = await readAll(deps.stdin);
  } catch (e) {
    deps.log.say(`${PREFIX} cannot read the domain XML from stdin (${e instanceof Error ? e.message : String(e)}); start allowed unchecked`, { syslog: true });
    return 0;
  }
  if (inv.kind === 'ignored') return 0;
  if (inv.kind === 'unknown') {
    deps.log.say(`${PREFIX} hook called with ${JSON.stringify(args.join(' '))}: ${inv.why}; nothing checked`, { syslog: true });
    return 0;
  }
  const vm = inv.domain;
  try {
    const config = loadConfig(deps, vm);
    if (deps.startRecords) {
      try {
        for (const l of await deps.startRecords(vm, bytes, PHASE_MODEL[inv.phase])) deps.log.say(`${PREFIX} ${vm}: ${l}`, { syslog: true });
      } catch (e) {
        deps.log.say(`${PREFIX} ${vm}: cannot read libvirt's records: ${e instanceof Error ? e.message : String(e)}`, { syslog: true });
      }
    }
    const svirtLabel: SvirtLabelSource = inv.phase === 'start-begin' ? 'generated' : 'any-dynamic';
    const j = judgeDomainXml(bytes, inv.phase, () => deps.openContext(svirtLabel));
    if (!j.ok) {
      deps.log.say(`${PREFIX} ${vm}: ${inv.phase.replace('-', ' ')}: cannot check: ${j.error}; start allowed unchecked`, { syslog: true });
      return 0;
    }
    const lines = judgementLines(vm, j.value);
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

/** The live config reader: a missing file means the defaults. */
export function configReader(file: string): () => { text: string; file: string } | undefined {
  return () => {
    try {
      return { text: readFileSync(file, 'utf8'), file };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  };
}

/** The host context for the check: the live host (a facts snapshot is not the host libvirt starts on). */
export function liveHookContext(opts: HostOptions, svirtLabel: SvirtLabelSource): Result<HookContext, string> {
  if (opts.facts !== undefined) return failure('--facts cannot be used by the hook: it judges the host libvirt starts the VM on');
  const host = openHost(opts);
  if (!host.ok) return host;
  return createHostContext(host.value.view, host.value.opts, { ...host.value.env, svirtLabel });
}

export function runHookInstall(hooksDir: string, binary: string | undefined, files: HookFiles, io: CliIo): ExitCode {
  const path = hookPath(hooksDir);
  const plan = planInstall(path, files.inspect(path), renderHookScript(binary));
  if (plan.kind === 'refuse') {
    io.stderr.write(`virt-seclabel: ${path}: refusing to overwrite ${plan.why}\n`);
    return EXIT.error;
  }
  if (plan.kind === 'unchanged') {
    io.stdout.write(`virt-seclabel: ${path} is already this hook; nothing changed\n`);
    return EXIT.ok;
  }
  io.stdout.write(`virt-seclabel: plan: ${plan.replacing ? 'replace our' : 'write a new'} ${path} (root:root 0755)\n`);
  try {
    files.writeExecutable(path, plan.text);
  } catch (e) {
    io.stderr.write(`virt-seclabel: ${path}: nothing written: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT.error;
  }
  io.stdout.write(`virt-seclabel: wrote ${path} (root:root 0755); ${RELOAD_NOTE}\n`);
  return EXIT.ok;
}

export function runHookUninstall(hooksDir: string, files: HookFiles, io: CliIo): ExitCode {
  const path = hookPath(hooksDir);
  const plan = planUninstall(path, files.inspect(path));
  if (plan.kind === 'refuse') {
    io.stderr.write(`virt-seclabel: ${path}: refusing to remove ${plan.why}\n`);
    return EXIT.error;
  }
  if (plan.kind === 'absent') {
    io.stdout.write(`virt-seclabel: ${path} does not exist; nothing removed\n`);
    return EXIT.ok;
  }
  io.stdout.write(`virt-seclabel: plan: remove ${path}\n`);
  try {
    files.remove(path);
  } catch (e) {
    io.stderr.write(`virt-seclabel: ${path}: not removed: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT.error;
  }
  io.stdout.write(`virt-seclabel: removed ${path}; ${RELOAD_NOTE}\n`);
  return EXIT.ok;
}
