/**
 * The command line: the table of command modules (one file each in cli/, builder and handler only),
 * yargs over them, and the exit code every handler returns (main.ts, the bin entry, sets it).
 */
import yargs, { type Argv } from 'yargs';
import { EXIT, type CliIo } from '../app/command-io.js';
import { packageVersion } from '../app/version.js';
import { usePolicyCache } from '../app/policy-cache.js';
import { policyCacheFromEnv } from '../app/policy-cache-env.js';
import { DEFAULT_HOOK_CONFIG_PATH } from '../hook/config.js';
import { DEFAULT_HOOKS_DIR } from '../hook/script.js';
import { annotateCommand } from './annotate.js';
import { defineCommand, type AnyCommand } from './command.js';
import { COMPLETION_KEY, completeWord, completionCommand } from './completion.js';
import { doctorCommand } from './doctor.js';
import { explainCommand } from './explain.js';
import { factsCommand } from './facts.js';
import { grantCommand } from './grant.js';
import { documented } from './help.js';
import { hostOptionsFrom, singleValued, withHostOptions, type RawHostArgs } from './host-args.js';
import { labelsCommand } from './labels.js';
import { queryCommand } from './query.js';

// stdin and stderr are getters: touching process.stdin builds a stream (about 3 ms of start-up) and
// process.stderr another (about 1.5 ms), and most runs read files and have nothing to report.
const io: CliIo = {
  get stdin() { return process.stdin; },
  stdout: process.stdout,
  get stderr() { return process.stderr; },
};

/**
 * yargs renders the whole help text right after starting every subcommand's handler, only to have it
 * ready should the (async) handler fail later and help be shown then. Our .fail never shows help, so
 * that text is never used, and rendering it (string-width over every line) was ~20 ms of a one-question
 * `query` (bench/startup.mjs). --help renders it as before.
 */
function skipHelpCache(parser: Argv): void {
  const internal = parser as unknown as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } };
  const usage = internal.getInternalMethods?.().getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => undefined;
}

// TODO(merge): the hook command moves to cli/hook.ts once the hook's check lives in src/hook/.
const hookCommand = defineCommand({
  command: 'hook [args..]',
  describe: 'as libvirt\'s qemu hook (NAME OPERATION SUB-OP EXTRA, XML on stdin): refuse a start only for a proven-stale relabel=\'no\'; `hook install` / `hook uninstall` manage the qemu.d script',
  builder: (y) =>
    documented(withHostOptions(y), 'hook')
      .positional('args', { type: 'string', array: true, describe: 'install | uninstall | -- NAME OPERATION SUB-OP EXTRA' })
      .option('hook-config', { type: 'string', default: DEFAULT_HOOK_CONFIG_PATH, describe: 'the hook\'s config file (fail_on = stale | never)' })
      .option('hooks-dir', { type: 'string', default: DEFAULT_HOOKS_DIR, describe: 'install/uninstall: libvirt\'s hooks directory' })
      .option('binary', { type: 'string', describe: 'install: the command the script runs (default: virt-seclabel on a fixed PATH)' }),
  async run(a, io) {
    // The script passes `-- NAME OP SUB-OP EXTRA` (a domain name may start with '-'); yargs leaves
    // what follows `--` in `_`, after the command word.
    const rest = [...(a.args ?? []), ...a._.slice(1)].map(String);
    const hook = await import('./hook.js');
    const { liveHookFiles, liveHookLog } = await import('../hook/effects.js');
    if (rest.length === 1 && rest[0] === 'install') return hook.runHookInstall(a.hooksDir, a.binary, liveHookFiles, io);
    if (rest.length === 1 && rest[0] === 'uninstall') return hook.runHookUninstall(a.hooksDir, liveHookFiles, io);
    const opts = hostOptionsFrom(a as unknown as RawHostArgs);
    const log = liveHookLog(io.stderr);
    if (!opts.ok) {
      // A bad option in the installed script must not stop VMs from starting: say so, allow.
      log.say(`virt-seclabel: hook: ${opts.error}; start allowed unchecked`, { syslog: true });
      return 0;
    }
    const host = opts.value;
    // The hook runs in libvirtd's context, whose SELinux domain need not be allowed to write a home
    // directory's cache (each refused attempt an audit record on every VM start): it reads the policy.
    usePolicyCache(undefined);
    return hook.runHookCheck(rest, {
      stdin: io.stdin,
      log,
      readConfig: hook.configReader(a.hookConfig),
      openContext: (svirtLabel) => hook.liveHookContext(host, svirtLabel),
      startRecords: async (vm, bytes, model) => {
        const { startRecordLines } = await import('../app/hook-records.js');
        const { createLiveView } = await import('../adapters/live/live-view.js');
        return startRecordLines(vm, bytes, model, createLiveView(), host);
      },
    });
  },
});

/** Every command, in the order --help lists them. */
const COMMANDS: readonly AnyCommand[] = [annotateCommand, explainCommand, factsCommand, grantCommand, doctorCommand, hookCommand, queryCommand, labelsCommand, completionCommand];

export async function runCommandLine(argv: string[]): Promise<number> {
  usePolicyCache(policyCacheFromEnv(process.env));
  let code = 0;
  // yargs may still run a command handler after reporting a usage error; the handlers check this first.
  let usageError = false;
  const parser = yargs(argv)
    .scriptName('virt-seclabel')
    .usage('$0 [annotate] [FILE...]: add relabel=\'no\' seclabels to libvirt disks QEMU can already access');
  for (const c of COMMANDS) {
    parser.command(c.command as string | string[], c.describe, c.builder, async (a) => {
      if (usageError) return;
      code = await c.run(a, io);
    });
  }
  parser
    // yargs answers --get-yargs-completions (what the scripts call); its own script command stays hidden.
    .completion(`__${COMPLETION_KEY}-script`, false, completeWord)
    .check(singleValued, true)
    .strict()
    .help()
    .alias('h', 'help')
    .version(packageVersion())
    .exitProcess(false)
    .fail((msg, err) => {
      if (!usageError) io.stderr.write(`virt-seclabel: ${msg ?? err?.message}\n`);
      usageError = true;
      code = EXIT.error;
    });
  skipHelpCache(parser);
  await parser.parseAsync();
  return code;
}
