/**
 * The hook command's arguments as yargs gives them, the defaults it fills in, and the request they make.
 * A module of its own so that the installed script's fast entry (hook-fast.ts), which never loads yargs,
 * carries neither the command's builder nor the help text with it.
 */
import { DEFAULT_HOOK_CONFIG_PATH } from '../hook/config.js';
import { DEFAULT_HOOKS_DIR } from '../hook/script.js';
import type { HookRequest } from '../commands/hook-check.js';
import { hostOptionsFrom, type RawHostArgs } from './host-args.js';

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
