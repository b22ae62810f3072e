/**
 * Runs a command (annotate, explain) once per host its files belong to: the live host, the one
 * --facts names, or, with a .virt-seclabel.json above the working directory and no --facts, the
 * snapshot the config maps each file to. A file no entry maps is skipped with a note: there is no host
 * to ask, and guessing one would check it against the wrong machine.
 */
import { createHostContext, type HostContext } from './host-context.js';
import type { HostOptions } from './host-options.js';
import { conflictingHostOptions, openHost } from './open-view.js';
import { EXIT, type CliIo, type ExitCode } from './command-io.js';
import { findConfig, snapshotFor } from '../precommit/config.js';

export type HostRun = (files: readonly string[], ctx: HostContext) => Promise<ExitCode>;

export interface PerHostOptions {
  /** false with --no-config: ignore .virt-seclabel.json and decide live. */
  readonly useConfig: boolean;
  readonly cwd: string;
  /**
   * What to do with the files no entry maps, after the note. The filter (annotate to stdout) must
   * still write the document, unchanged, or a pipe into `virsh define` would receive nothing.
   */
  readonly unmapped?: (files: readonly string[]) => Promise<ExitCode>;
}

/** 2 (error) outranks 1 (found), which outranks 0. */
const worst = (a: ExitCode, b: ExitCode): ExitCode => (a > b ? a : b);

/** `origin`: where the snapshot was named, when not by --facts (the config file). */
async function runOn(files: readonly string[], opts: HostOptions, run: HostRun, io: CliIo, origin?: string): Promise<ExitCode> {
  const host = openHost(opts);
  if (!host.ok) {
    io.stderr.write(`virt-seclabel: ${origin ? `${origin}: ` : ''}${host.error}\n`);
    return EXIT.error;
  }
  const ctx = createHostContext(host.value.view, host.value.opts, host.value.env);
  if (!ctx.ok) {
    io.stderr.write(`virt-seclabel: ${opts.facts ? `${opts.facts}: ` : ''}${ctx.error}\n`);
    return EXIT.error;
  }
  const code = await run(files, ctx.value);
  for (const w of host.value.takeWarnings()) io.stderr.write(`virt-seclabel: warning: ${w}\n`);
  return code;
}

export async function runPerHost(files: readonly string[], opts: HostOptions, run: HostRun, io: CliIo, per: PerHostOptions): Promise<ExitCode> {
  if (opts.facts !== undefined || !per.useConfig) return runOn(files, opts, run, io);
  const config = findConfig(per.cwd);
  if (!config.ok) {
    io.stderr.write(`virt-seclabel: ${config.error}\n`);
    return EXIT.error;
  }
  if (config.value === undefined) return runOn(files, opts, run, io);
  const cfg = config.value;
  const conflicts = conflictingHostOptions(opts);
  if (conflicts.length > 0) {
    io.stderr.write(`virt-seclabel: ${conflicts.join(', ')} cannot be used with the snapshots of ${cfg.path} (pass --no-config to decide against this host)\n`);
    return EXIT.error;
  }
  const groups = new Map<string, string[]>();
  const unmapped: string[] = [];
  for (const f of files.length === 0 ? ['-'] : files) {
    const snapshot = f === '-' ? undefined : snapshotFor(cfg, f, per.cwd);
    if (snapshot === undefined) {
      io.stderr.write(`${f === '-' ? '<stdin>' : f}: note: no entry of ${cfg.path} maps this file to a facts snapshot; not checked (use --facts FILE, or --no-config for this host)\n`);
      unmapped.push(f);
      continue;
    }
    groups.set(snapshot, [...(groups.get(snapshot) ?? []), f]);
  }
  let code: ExitCode = unmapped.length > 0 && per.unmapped ? await per.unmapped(unmapped) : EXIT.ok;
  for (const [snapshot, group] of groups) code = worst(code, await runOn(group, { ...opts, facts: snapshot }, run, io, `${cfg.path} maps ${group[0]} to this snapshot`));
  return code;
}
