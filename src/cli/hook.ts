/**
 * `virt-seclabel hook [install | uninstall | -- NAME OPERATION SUB-OP EXTRA]`: options and the hand-off to
 * commands/hook.ts. The installed script's call takes a shorter road (hook-fast.ts) with the defaults
 * below, which are exactly what yargs fills in when no option is given (test/hook/fast-entry checks it).
 */
import { DEFAULT_HOOK_CONFIG_PATH } from '../hook/config.js';
import { DEFAULT_HOOKS_DIR } from '../hook/script.js';
import type { HookRequest } from '../commands/hook.js';
import { defineCommand } from './command.js';
import { documented } from './help.js';
import { hostOptionsFrom, withHostOptions, type RawHostArgs } from './host-args.js';

/** The hook's arguments as yargs gives them. */
export interface HookArgs extends RawHostArgs {
  readonly args?: readonly (string | number)[];
  readonly _: readonly (string | number)[];
  readonly 'hook-config': string;
  readonly 'hooks-dir': string;
  readonly binary?: string;
  readonly 'dry-run'?: boolean;
}

/** What yargs fills in when no option is given: the installed script never passes one. */
export const HOOK_DEFAULT_ARGS = {
  connect: 'qemu:///system',
  boolean: [] as string[],
  'hook-config': DEFAULT_HOOK_CONFIG_PATH,
  'hooks-dir': DEFAULT_HOOKS_DIR,
} as const;

export function hookRequestFrom(a: HookArgs): HookRequest {
  // The script passes `-- NAME OP SUB-OP EXTRA` (a domain name may start with '-'); yargs leaves
  // what follows `--` in `_`, after the command word.
  const words = [...(a.args ?? []), ...a._.slice(1)].map(String);
  return { words, hooksDir: a['hooks-dir'], hookConfig: a['hook-config'], binary: a.binary, dryRun: a['dry-run'] === true, host: hostOptionsFrom(a) };
}

export const hookCommand = defineCommand({
  command: 'hook [args..]',
  describe: 'as libvirt\'s qemu hook (NAME OPERATION SUB-OP EXTRA, XML on stdin): refuse a start only for a proven-stale relabel=\'no\'; `hook install` / `hook uninstall` manage the qemu.d script',
  builder: (y) =>
    documented(withHostOptions(y), 'hook')
      .positional('args', { type: 'string', array: true, describe: 'install | uninstall | -- NAME OPERATION SUB-OP EXTRA' })
      .option('hook-config', { type: 'string', default: HOOK_DEFAULT_ARGS['hook-config'], describe: 'the hook\'s config file (fail_on = stale | never)' })
      .option('hooks-dir', { type: 'string', default: HOOK_DEFAULT_ARGS['hooks-dir'], describe: 'install/uninstall: libvirt\'s hooks directory' })
      .option('binary', { type: 'string', describe: 'install: the command the script runs (default: virt-seclabel on a fixed PATH)' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'install/uninstall: print the plan (and the script install would write), change nothing' }),
  async run(a, io) {
    const { runHookRequest } = await import('../commands/hook.js');
    return runHookRequest(hookRequestFrom(a as unknown as HookArgs), io);
  },
});
