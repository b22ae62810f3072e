/**
 * The installed script's checks, `hook -- NAME prepare|start SUB-OP EXTRA` and nothing else, run without
 * the argument parser and the other commands: main.ts sends exactly that argv here, and the shipped build
 * makes this module a bundle of its own (dist/cli/hook.cjs, scripts/bundle.mjs), about a third of
 * program.cjs. It runs the check with the values yargs gives when no option is given (see
 * HOOK_DEFAULT_ARGS); any other argv, options or another operation included (migrate and restore, whose
 * filter is not in this bundle), goes through the full command line.
 */
import type { CliIo } from '../app/command-io.js';
import { readLiveStdin } from '../adapters/hook/live-check.js';
import { runHookCheckRequest, type HookWarmUp } from '../commands/hook-check.js';
import { READ_LIMIT, readAll } from '../adapters/inputs.js';
import { HOOK_DEFAULT_ARGS, hookRequestFrom, type HookArgs } from './hook-args.js';

/** The handler's arguments for `hook -- REST...`, as yargs gives them: what follows `--` in `_` after the command word. */
export const fastHookArgs = (rest: readonly string[]): HookArgs => ({ ...HOOK_DEFAULT_ARGS, boolean: [...HOOK_DEFAULT_ARGS.boolean], _: ['hook', ...rest], args: [] });

// process.stdin, process.stdout and process.stderr are built only when touched: a hook that allows the
// start quietly writes nothing, and libvirt's pipe on stdout would otherwise load node:net and the stream stack.
let wrote = false;
const liveIo: CliIo = {
  get stdin() { return process.stdin; },
  get stdout() { wrote = true; return process.stdout; },
  get stderr() { wrote = true; return process.stderr; },
};

/** The live call built neither output stream: it has nothing in flight, so main.ts may exit at once. */
export const wroteNothing = (): boolean => !wrote;

/**
 * `io`, `hookConfig` and `warmUp` are for the build's warm-up runs (scripts/bundle.mjs); libvirt's call
 * gets the process's own streams and descriptor 0, the default config and the live host.
 */
export function runHook(rest: readonly string[], io?: CliIo, warmUp?: HookWarmUp & { readonly hookConfig: string }) {
  if (warmUp && io) return runHookCheckRequest({ ...hookRequestFrom(fastHookArgs(rest)), hookConfig: warmUp.hookConfig }, io, undefined, warmUp);
  if (io) return runHookCheckRequest(hookRequestFrom(fastHookArgs(rest)), io);
  return runHookCheckRequest(hookRequestFrom(fastHookArgs(rest)), liveIo, () => readLiveStdin(READ_LIMIT, () => readAll(liveIo.stdin)));
}
