/**
 * `virt-seclabel hook [install | uninstall | -- NAME OPERATION SUB-OP EXTRA]`: options and the hand-off to
 * commands/hook.ts. The installed script's call takes a shorter road (hook-fast.ts) with the defaults in
 * hook-args.ts, which are exactly what yargs fills in when no option is given (test/hook/fast-entry checks it).
 */
import { defineCommand } from './command.js';
import { documented } from './help.js';
import { withHostOptions } from './host-args.js';
import { HOOK_DEFAULT_ARGS, hookRequestFrom, type HookArgs } from './hook-args.js';

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
