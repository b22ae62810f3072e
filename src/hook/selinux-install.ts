/**
 * `hook install` on an SELinux host: can libvirt's daemon, in its own SELinux domain, run the script, and
 * can the script's SELinux re-check read what it needs? The install probe runs the script's command as the
 * installing user (root in an unconfined domain), which proves the command and its PATH but says nothing
 * about the daemon's domain. libvirt finds hooks by their mode bits alone (virFileIsExecutable: stat) and
 * runs them with virCommandRun, so an exec the policy refuses is a hook that failed, and libvirt refuses
 * every start of every domain ("Hook script execution failed"). Debian's policy, for one, gives
 * /etc/libvirt/hooks/** virt_etc_rw_t, which virtd_t may not execute.
 *
 * Answered from the host's policy as the kernel decides (the access engine), for each daemon context
 * there is (the running libvirtd's or virtqemud's, else the one a system daemon gets), never guessed: an
 * answer the engine cannot give is a refusal too, since a guard that may not run must not be written.
 */
import { formatContext, parseContext } from '../selinux/context.js';
import type { SelinuxOracle } from '../selinux/oracle.js';
import { shellQuote } from '../shell-quote.js';

/** A context libvirt's daemon runs in, and how it was found ("libvirtd, pid 812", "assumed: ..."). */
export interface DaemonContext {
  readonly context: string;
  readonly source: string;
}

/** The label the script will carry, and how install knows ("its file-context label", "its directory's label"). */
export interface ScriptLabel {
  readonly context: string;
  readonly source: string;
}

/** What running a script takes: exec it in the caller's own domain (no transition), and the shell reading it. */
export const SCRIPT_RUN_PERMS = ['read', 'open', 'getattr', 'execute', 'execute_no_trans'] as const;
/** A type for the script that a policy may let the daemon execute; offered only where the policy says so. */
export const FIX_TYPE = 'bin_t';

export type SelinuxInstallVerdict =
  | { readonly kind: 'runs'; readonly notes: readonly string[] }
  | { readonly kind: 'refuse'; readonly why: string; readonly fix: string };

/** The type of a context, for words; a context that does not parse is shown whole (the policy then refuses it). */
const typeOf = (context: string) => {
  const c = parseContext(context);
  return c.ok ? c.value.type : context;
};
const withType = (context: string, type: string) => {
  const c = parseContext(context);
  return c.ok ? formatContext({ ...c.value, type }) : context;
};
/** The regular expression semanage fcontext takes for exactly this path. */
const fcontextPattern = (path: string) => path.replace(/[.[\]()*+?^$|\\{}]/g, '\\$&');

function ask(oracle: SelinuxOracle, scontext: string, tcontext: string, tclass: string, perms: readonly string[]): { allowed: boolean; reason: string } {
  const a = oracle.compute({ scontext, tcontext, tclass, perms });
  if (!a.ok) return { allowed: false, reason: `the policy cannot answer: ${a.error}` };
  return { allowed: a.allowed, reason: a.reason };
}

/**
 * Whether every daemon context may run a script labelled `script` at `path`; if not, the refusal names the
 * denial and, where the policy lets the daemon execute bin_t, the persistent file-context rule that gives it
 * that label. When the script runs, a note for each daemon whose domain may not read the loaded policy:
 * the hook's SELinux re-check then cannot run, and the hook lets such starts go on and logs it.
 */
export function judgeHookUnderSelinux(
  oracle: SelinuxOracle, daemons: readonly DaemonContext[], script: ScriptLabel, path: string,
  /** The context of the kernel's "security" initial SID (selinuxfs initial_contexts/security), which `security { read_policy }` is checked against. */
  securityContext: string,
): SelinuxInstallVerdict {
  const notes: string[] = [];
  for (const d of daemons) {
    const run = ask(oracle, d.context, script.context, 'file', SCRIPT_RUN_PERMS);
    if (!run.allowed) {
      const fixContext = withType(script.context, FIX_TYPE);
      const fixRuns = oracle.typeExists(FIX_TYPE) && ask(oracle, d.context, fixContext, 'file', SCRIPT_RUN_PERMS).allowed;
      const why =
        `libvirt's daemon (${d.context}; ${d.source}) may not run ${path} labelled ${script.context} (${script.source}): ${run.reason}; ` +
        'libvirt would then fail every start with "Hook script execution failed"';
      const fix = fixRuns
        ? `give the script a label that domain may execute, persistently: \`semanage fcontext -a -t ${FIX_TYPE} ${shellQuote(fcontextPattern(path))}\`, then run \`hook install\` again (it writes the script with its file-context label)`
        : `this policy lets ${typeOf(d.context)} execute neither ${typeOf(script.context)} nor ${FIX_TYPE}: the hook cannot run under it; install nothing`;
      return { kind: 'refuse', why, fix };
    }
    const policy = ask(oracle, d.context, securityContext, 'security', ['read_policy']);
    if (!policy.allowed) {
      notes.push(
        `the hook runs in ${typeOf(d.context)} (${d.source}), which may not read the loaded policy (${policy.reason}): ` +
          'it re-checks SELinux annotations only against the copy of the policy `hook install` stores, and only while the kernel keeps that policy ' +
          '(the same boot, no policy load or boolean change since); otherwise such starts go on unchecked and the hook logs why, until `hook install` runs again; ' +
          'DAC annotations are re-checked as everywhere',
      );
    }
  }
  return { kind: 'runs', notes };
}

