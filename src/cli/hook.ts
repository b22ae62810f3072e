/**
 * `virt-seclabel hook`: the handler. It only picks install, uninstall or the check from the words and
 * wires the live effects (src/adapters/hook/) to the decisions in src/hook/ (check.ts: refuse or allow;
 * install.ts: the install and uninstall plans).
 */
import type { CliIo, ExitCode } from '../app/command-io.js';
import { usePolicyCache } from '../app/policy-cache.js';
import { hostOptionsUnusable, runHookCheck, type HookExit } from '../hook/check.js';
import { runHookInstall, runHookUninstall } from '../hook/install.js';
import { configReader, liveHookFiles, liveHookLog, liveHookProbe, runningProgram } from '../adapters/hook/live-effects.js';
import { liveHookContext } from '../adapters/hook/context.js';
import { DEFAULT_HOOK_CONFIG_PATH } from '../hook/config.js';
import { DEFAULT_HOOKS_DIR } from '../hook/script.js';
import { hostOptionsFrom, type RawHostArgs } from './host-args.js';
import { readAll } from './io.js';

export type { HookExit } from '../hook/check.js';

export interface HookArgs {
  readonly args?: readonly (string | number)[];
  readonly _: readonly (string | number)[];
  readonly 'hook-config': string;
  readonly 'hooks-dir': string;
  readonly binary?: string;
}

/**
 * What the yargs definition of `hook` in commands.ts fills in when no option is given (test/hook/fast-entry
 * checks the two agree): the installed script never passes one, so hook-fast.ts starts from these.
 */
export const HOOK_DEFAULT_ARGS = {
  connect: 'qemu:///system',
  boolean: [] as string[],
  'hook-config': DEFAULT_HOOK_CONFIG_PATH,
  'hooks-dir': DEFAULT_HOOKS_DIR,
} as const;

/**
 * `readStdin`: how the check reads the XML; the stream by default, the descriptor itself from the fast
 * entry (hook-fast.ts), which knows io.stdin is the process's own.
 */
export async function runHookCommand(a: HookArgs, io: CliIo, readStdin = () => readAll(io.stdin)): Promise<ExitCode | HookExit> {
  // The script passes `-- NAME OP SUB-OP EXTRA` (a domain name may start with '-'); yargs leaves
  // what follows `--` in `_`, after the command word.
  const rest = [...(a.args ?? []), ...a._.slice(1)].map(String);
  if (rest.length === 1 && rest[0] === 'install') return runHookInstall({ hooksDir: a['hooks-dir'], binary: a.binary, running: runningProgram() }, { files: liveHookFiles, probe: liveHookProbe }, io);
  if (rest.length === 1 && rest[0] === 'uninstall') return runHookUninstall(a['hooks-dir'], liveHookFiles, io);
  const opts = hostOptionsFrom(a as unknown as RawHostArgs);
  const log = liveHookLog(io.stderr);
  if (!opts.ok) return hostOptionsUnusable(opts.error, log);
  const host = opts.value;
  // The hook runs in libvirtd's context, whose SELinux domain need not be allowed to write a home
  // directory's cache (each refused attempt an audit record on every VM start): it reads the policy.
  usePolicyCache(undefined);
  return runHookCheck(rest, {
    readStdin,
    log,
    readConfig: configReader(a['hook-config']),
    openContext: (svirtLabel) => liveHookContext(host, svirtLabel),
  });
}
