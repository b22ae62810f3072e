/**
 * The hook command's core for the full command line (cli/hook.ts): install and uninstall (src/hook/install.ts
 * plans them), and the check libvirt runs (commands/hook-check.ts) with the migrate/restore filter wired in,
 * with the live effects of src/adapters/hook/. The installed script's prepare and start calls go to
 * hook-check.ts alone through the fast entry (cli/hook-fast.ts).
 */
import { EXIT, type CliIo, type ExitCode } from '../app/command-io.js';
import { createHostContext } from '../app/host-context.js';
import type { HostOptions } from '../app/host-options.js';
import { hostOptionsRefusal } from '../app/host-option-rules.js';
import { openHost } from '../app/open-view.js';
import { hookPolicyStoreForReading, hookPolicyStoreForWriting } from '../app/policy-cache-env.js';
import { applyHookPolicyStore, planHookPolicyStore } from '../app/hook-policy-store.js';
import { RUNNING_COPY, RUNNING_INSTANCE } from '../selinux/policy/cache-entry.js';
import { loadHostPolicy } from '../app/selinux-engine.js';
import { createLiveView } from '../adapters/live/live-view.js';
import { hookPolicyStoreDir } from '../hook/config.js';
import { liveHookFiles, liveHookProbe, liveHookStoreFiles, runningProgram } from '../adapters/hook/live-effects.js';
import type { HookExit } from '../hook/check.js';
import type { HookFiles, HookProbe, HookSelinuxHost, HookStoreFiles } from '../hook/effects.js';
import { judgeHookUnderSelinux } from '../hook/selinux-install.js';
import { liveSelinuxHost, selinuxKernelRuns } from '../adapters/hook/selinux-host.js';
import { ACTIVE_NOTE, hookPath, planInstall, planStoreRemoval, planUninstall, probeCommandText, probeHook, RELOAD_NOTE } from '../hook/install.js';
import { DEFAULT_BINARY, HOOK_PATH, renderHookScript } from '../hook/script.js';
import { failure, type Result } from '../result.js';
import type { SelinuxOracle } from '../selinux/oracle.js';
import { shellQuote } from '../shell-quote.js';
import { runHookCheckRequest, type HookRequest } from './hook-check.js';

/**
 * The hook command: install and uninstall here, the check in hook-check.ts, with the migrate/restore
 * filter (refilterForThisHost) wired in.
 */
export async function runHookRequest(req: HookRequest, io: CliIo): Promise<ExitCode | HookExit> {
  const { words } = req;
  if (words.length === 1 && words[0] === 'install') {
    const store = hookPolicyStoreDir(req.hookConfig);
    const policyStore = () => storeHookPolicy(store, io);
    const selinux = selinuxKernelRuns() ? liveSelinuxHost(liveHostOracle) : undefined;
    return runHookInstall({ hooksDir: req.hooksDir, binary: req.binary, running: runningProgram(), dryRun: req.dryRun }, { files: liveHookFiles, probe: liveHookProbe, policyStore, ...(selinux && { selinux }) }, io);
  }
  if (words.length === 1 && words[0] === 'uninstall')
    return runHookUninstall(req.hooksDir, liveHookFiles, io, req.dryRun === true, { dir: hookPolicyStoreDir(req.hookConfig), files: liveHookStoreFiles });
  return runHookCheckRequest(req, io, undefined, undefined, refilterForThisHost);
}

/**
 * `migrate begin` / `restore begin`: the XML libvirt handed over, decided for this host as
 * `annotate --prune-stale` decides it (the live host, never a snapshot), with each change in words.
 */
export async function refilterForThisHost(bytes: Uint8Array, host: HostOptions): Promise<Result<{ output: Uint8Array; changes: string[] }, string>> {
  // Loaded on first use, as the records look is: only these two rare operations pay for it.
  const { processInput } = await import('../app/process-input.js');
  const refusal = hostOptionsRefusal('hook', host);
  if (refusal) return failure(refusal);
  const opened = openHost(host);
  if (!opened.ok) return opened;
  const ctx = createHostContext(opened.value.view, opened.value.opts, opened.value.env);
  if (!ctx.ok) return ctx;
  const r = processInput('the domain XML from libvirt', bytes, ctx.value.conn, ctx.value.ports, { pruneStale: true });
  const failed = r.documents.find((d) => !d.ok);
  if (failed && !failed.ok) return failure(`${failed.error.line}:${failed.error.column}: ${failed.error.message}`);
  if (!r.output) return failure('no output');
  const changes: string[] = [];
  for (const d of r.documents) {
    if (!d.ok) continue;
    for (const c of d.plan.changes) {
      const subject = c.target !== undefined ? `disk ${c.target}` : (c.subject ?? 'a file');
      // The decision's own sentence: the proof for an insertion, what denies for a removal.
      const disk = c.target !== undefined ? d.decision.disks.find((x) => x.disk.target === c.target) : undefined;
      const why = disk?.models[c.model].reason;
      const reason = c.kind === 'insert' ? `access proven on this host${why ? `: ${why}` : ''}` : `stale on this host${why ? `: ${why}` : ''}`;
      changes.push(`${subject}: ${c.kind === 'insert' ? 'added' : 'removed'} <seclabel model='${c.model}' relabel='no'/> (${reason})`);
    }
  }
  return { ok: true, value: { output: r.output, changes } };
}

/** The running kernel's policy with its booleans in force, as the access engine answers it. */
function liveHostOracle(): Result<SelinuxOracle, string> {
  const loaded = loadHostPolicy(createLiveView(), { booleans: {} });
  return loaded.ok ? { ok: true, value: loaded.value.oracle } : loaded;
}

/**
 * On an SELinux host: whether libvirt's daemon may run the script at `path` under the label install gives
 * it (src/hook/selinux-install.ts), and which label that is: its file-context label where the host has one
 * (what a relabel would give it anyway), else the one it inherits. A refusal is written and undefined
 * returned; otherwise the label to set (if any) and the notes for the plan.
 */
function selinuxPlan(path: string, sel: HookSelinuxHost, io: CliIo): { label?: string; inherited?: string; notes: readonly string[] } | undefined {
  const refuse = (why: string) => {
    io.stderr.write(`virt-seclabel: hook install: nothing written: ${why}\n`);
    return undefined;
  };
  const oracle = sel.oracle();
  if (!oracle.ok) return refuse(`cannot tell whether libvirt's daemon may run the script under this host's SELinux policy: ${oracle.error}`);
  const security = sel.securityContext();
  if (security === undefined) return refuse('cannot tell whether libvirt\'s daemon may run the script: selinuxfs has no initial_contexts/security');
  const fileContext = sel.fileContextLabel(path);
  const inherited = sel.inheritedLabel(path);
  const script = fileContext !== undefined
    ? { context: fileContext, source: 'its file-context label, which install gives it' }
    : inherited !== undefined ? { context: inherited, source: 'the label it inherits from its directory' } : undefined;
  if (script === undefined) return refuse(`cannot tell which SELinux label ${path} would carry (no file-context label, no labelled directory above it)`);
  const daemons = sel.daemonContexts(oracle.value, security);
  if (daemons.length === 0) return refuse('cannot tell which SELinux domain libvirt\'s daemon runs in: none runs now and this policy has neither virtd_t nor virtqemud_t');
  const verdict = judgeHookUnderSelinux(oracle.value, daemons, script, path, security);
  if (verdict.kind === 'refuse') {
    io.stderr.write(`virt-seclabel: hook install: nothing written: ${verdict.why}\nvirt-seclabel: ${verdict.fix}\n`);
    return undefined;
  }
  const notes = [`checked: ${daemons.map((d) => `${d.context} (${d.source})`).join(', ')} may run it labelled ${script.context} (${script.source})`, ...verdict.notes];
  return { ...(fileContext !== undefined && { label: fileContext }), ...(inherited !== undefined && { inherited }), notes };
}

/** Gives the script the label selinuxPlan chose when it carries another; says what it did. */
function applyScriptLabel(path: string, sel: HookSelinuxHost, label: string, io: CliIo): boolean {
  const now = sel.label(path);
  if (now === label) return true;
  try {
    sel.setLabel(path, label);
  } catch (e) {
    io.stderr.write(`virt-seclabel: ${path}: not labelled ${label}: ${e instanceof Error ? e.message : String(e)}\n`);
    return false;
  }
  io.stdout.write(`virt-seclabel: labelled ${path} ${label} (was ${now ?? 'unlabelled'})\n`);
  return true;
}

/** The hook's policy store for uninstall: where `hook install` wrote it (next to --hook-config), and its effects. */
export interface UninstallStore {
  readonly dir: string;
  readonly files: HookStoreFiles;
}

/**
 * Removes the qemu.d script, and what `hook install` wrote into the hook's policy store (its entries; the
 * directory when nothing else is left in it), plans first. Without `store` (callers that manage only the
 * script), the script alone.
 */
export function runHookUninstall(hooksDir: string, files: HookFiles, io: CliIo, dryRun = false, store?: UninstallStore): ExitCode {
  const path = hookPath(hooksDir);
  const plan = planUninstall(path, files.inspect(path));
  if (plan.kind === 'refuse') {
    io.stderr.write(`virt-seclabel: ${path}: refusing to remove ${plan.why}\n`);
    return EXIT.error;
  }
  const storePlan = store ? planStoreRemoval(store.dir, store.files.list(store.dir)) : { kind: 'none' as const };
  const storeChanges = storePlan.kind === 'remove' && (storePlan.files.length > 0 || storePlan.removeDir);
  if (plan.kind === 'absent') io.stdout.write(`virt-seclabel: ${path} does not exist; nothing removed\n`);
  else io.stdout.write(`virt-seclabel: plan: remove ${path}\n`);
  if (storePlan.kind === 'leave') io.stdout.write(`virt-seclabel: policy store: leaving ${storePlan.dir}: ${storePlan.why}\n`);
  if (storePlan.kind === 'remove') {
    const what = [...storePlan.files, ...(storePlan.removeDir ? [`the directory ${storePlan.dir}`] : [])];
    if (what.length > 0) io.stdout.write(`virt-seclabel: plan: remove the hook's policy store that hook install wrote: ${what.join(', ')}\n`);
    if (storePlan.left.length > 0) io.stdout.write(`virt-seclabel: policy store: leaving ${storePlan.dir} and what hook install did not write in it: ${storePlan.left.join(', ')}\n`);
  }
  if (plan.kind === 'absent' && !storeChanges) return EXIT.ok;
  if (dryRun) {
    io.stdout.write('virt-seclabel: dry run: nothing removed\n');
    return EXIT.ok;
  }
  if (plan.kind === 'remove') {
    try {
      files.remove(path);
    } catch (e) {
      io.stderr.write(`virt-seclabel: ${path}: not removed: ${e instanceof Error ? e.message : String(e)}\n`);
      return EXIT.error;
    }
    io.stdout.write(`virt-seclabel: removed ${path}; ${RELOAD_NOTE}\n`);
  }
  if (storePlan.kind !== 'remove' || !store) return EXIT.ok;
  const removed: string[] = [];
  const undone = (what: string, e: unknown) => {
    if (removed.length > 0) io.stdout.write(`virt-seclabel: removed ${removed.join(', ')}\n`);
    io.stderr.write(`virt-seclabel: ${what}: not removed: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT.error;
  };
  for (const f of storePlan.files) {
    try {
      store.files.removeFile(f);
    } catch (e) {
      return undone(f, e);
    }
    removed.push(f);
  }
  if (storePlan.removeDir) {
    try {
      store.files.removeDir(storePlan.dir);
    } catch (e) {
      return undone(storePlan.dir, e);
    }
    removed.push(storePlan.dir);
  }
  if (removed.length > 0) io.stdout.write(`virt-seclabel: removed ${removed.join(', ')}\n`);
  return EXIT.ok;
}

export interface InstallOptions {
  readonly hooksDir: string;
  /** --binary; undefined: virt-seclabel on the script's PATH. */
  readonly binary: string | undefined;
  /** The absolute path of the program running now, offered as --binary when the command fails. */
  readonly running: string | undefined;
  /** Print the plan and the script, write nothing. */
  readonly dryRun?: boolean;
}

/**
 * `hook install`'s last step: the parsed policy into the hook's store (src/app/hook-policy-store.ts), plan
 * first. Nothing to store (no SELinux policy on this host, a build without identity) is said and is no error:
 * the hook then reads the policy itself; a store that fails is said on stderr and is no error either: it
 * only costs the hook time, and the hook script is in place.
 */
function storeHookPolicy(dir: string, io: CliIo): void {
  const reader = hookPolicyStoreForReading(dir);
  const plan = planHookPolicyStore(createLiveView(), reader);
  if (!plan.ok) {
    io.stdout.write(`virt-seclabel: policy store: nothing stored: ${plan.error}\n`);
    return;
  }
  const { source, entry, projectionEntry } = plan.value;
  if (plan.value.present) {
    io.stdout.write(`virt-seclabel: policy store: ${dir}/${entry} already holds ${source} as parsed by this build, and ${dir}/${projectionEntry} its projection; nothing changed\n`);
    return;
  }
  const copy = plan.value.instance
    ? `, and the policy's bytes in ${dir}/${RUNNING_COPY} with the kernel's instance they are (boot ${plan.value.instance.bootId}, policy load ${plan.value.instance.policyload}) in ${dir}/${RUNNING_INSTANCE} (root 0600), which the hook reads instead of ${source} while the kernel keeps that instance`
    : '';
  io.stdout.write(`virt-seclabel: plan: store ${source} as parsed by this build in ${dir}/${entry} (root 0600), and its projection for the hook's own questions in ${dir}/${projectionEntry} (root 0600), for the hook to read instead of parsing it${copy}\n`);
  const done = applyHookPolicyStore(plan.value, hookPolicyStoreForWriting(dir)!, reader!);
  if (!done.ok) {
    io.stderr.write(`virt-seclabel: policy store: ${dir}/${entry}: not stored: ${done.error}; the hook reads the policy itself (slower, same answers)\n`);
    return;
  }
  const stored = plan.value.instance ? `; stored ${dir}/${RUNNING_COPY} and ${dir}/${RUNNING_INSTANCE}` : '';
  io.stdout.write(`virt-seclabel: stored ${dir}/${entry}; stored ${dir}/${projectionEntry}${stored}; when the policy or a boolean changes (or at the next boot), the hook reads it itself until \`hook install\` runs again\n`);
}

export function runHookInstall(
  opts: InstallOptions, deps: { files: HookFiles; probe: HookProbe; policyStore?: () => void; selinux?: HookSelinuxHost }, io: CliIo,
): ExitCode {
  const binary = opts.binary ?? DEFAULT_BINARY;
  const path = hookPath(opts.hooksDir);
  const plan = planInstall(path, deps.files.inspect(path), renderHookScript(binary));
  if (plan.kind === 'refuse') {
    io.stderr.write(`virt-seclabel: ${path}: refusing to overwrite ${plan.why}\n`);
    return EXIT.error;
  }
  const verdict = probeHook(binary, deps.probe);
  if (!verdict.ok) {
    io.stderr.write(
      `virt-seclabel: hook install: nothing written: the script would run \`${probeCommandText(binary)}\` with PATH=${HOOK_PATH}, ` +
        `and run that way now it failed: ${verdict.why}\n` +
        `virt-seclabel: make ${shellQuote(binary)} run from that PATH, or name the command the script should run with --binary (an absolute path)\n`,
    );
    if (opts.running !== undefined && opts.running !== binary) {
      const mine = probeHook(opts.running, deps.probe);
      io.stderr.write(
        mine.ok
          ? `virt-seclabel: this program, ${opts.running}, passes the same check: run install again with --binary ${shellQuote(opts.running)}\n`
          : `virt-seclabel: this program, ${opts.running}, fails the same check too (${mine.why}); --binary needs a command that runs it from that PATH, e.g. a wrapper script\n`,
      );
    }
    return EXIT.error;
  }
  const selinux = deps.selinux && selinuxPlan(path, deps.selinux, io);
  if (deps.selinux && !selinux) return EXIT.error;
  // The label to give the script where the one it has (unchanged) or gets (written) is another.
  const relabel = (now: string | undefined) => (selinux?.label !== undefined && now !== selinux.label ? `virt-seclabel: plan: label ${path} ${selinux.label} (now ${now ?? 'unlabelled'})\n` : '');
  const checked = `virt-seclabel: checked: \`${probeCommandText(binary)}\` runs with the script's PATH and environment\n` +
    (selinux?.notes ?? []).map((n) => `virt-seclabel: ${n}\n`).join('');
  const labelled = () => deps.selinux === undefined || selinux?.label === undefined || applyScriptLabel(path, deps.selinux, selinux.label, io);
  const active = ACTIVE_NOTE.map((l) => `virt-seclabel: ${l}\n`).join('');
  if (plan.kind === 'unchanged') {
    const labelLine = relabel(deps.selinux?.label(path));
    io.stdout.write(`${checked}virt-seclabel: ${path} is already this hook${labelLine === '' ? '; nothing changed' : ''}\n${labelLine}`);
    if (opts.dryRun) io.stdout.write('virt-seclabel: dry run: nothing labelled, and the hook\'s policy store is not refreshed\n');
    else {
      if (!labelled()) return EXIT.error;
      deps.policyStore?.();
    }
    io.stdout.write(active);
    return EXIT.ok;
  }
  io.stdout.write(`${checked}virt-seclabel: plan: ${plan.replacing ? 'replace our' : 'write a new'} ${path} (root:root 0755)\n${selinux ? relabel(selinux.inherited) : ''}`);
  if (opts.dryRun) {
    io.stdout.write(`virt-seclabel: dry run: nothing written (nor the hook's policy store); the script would be:\n${plan.text}`);
    return EXIT.ok;
  }
  try {
    deps.files.writeExecutable(path, plan.text);
  } catch (e) {
    io.stderr.write(`virt-seclabel: ${path}: nothing written: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT.error;
  }
  if (!labelled()) {
    // A script libvirt's daemon may not execute would fail every start: never leave it in place.
    try {
      deps.files.remove(path);
      io.stderr.write(`virt-seclabel: removed ${path} again: with the label it has, libvirt would fail every start\n`);
    } catch (e) {
      io.stderr.write(`virt-seclabel: ${path}: could not remove it again (${e instanceof Error ? e.message : String(e)}): remove it, or libvirt may fail every start\n`);
    }
    return EXIT.error;
  }
  io.stdout.write(`virt-seclabel: wrote ${path} (root:root 0755); ${RELOAD_NOTE}\n`);
  deps.policyStore?.();
  io.stdout.write(active);
  return EXIT.ok;
}
