/**
 * The command line: the table of command modules (one file each in cli/, builder and handler only),
 * yargs over them, and the exit code every handler returns (main.ts, the bin entry, sets it).
 */
import yargs, { type Argv } from 'yargs';
import { EXIT, type CliIo } from '../app/command-io.js';
import { packageVersion } from '../app/version.js';
import { usePolicyCache } from '../app/policy-cache.js';
import { policyCacheFromEnv } from '../app/policy-cache-env.js';
import { annotateCommand } from './annotate.js';
import type { AnyCommand } from './command.js';
import { COMPLETION_KEY, completeWord, completionCommand } from './completion.js';
import { doctorCommand } from './doctor.js';
import { explainCommand } from './explain.js';
import { factsCommand } from './facts.js';
import { grantCommand } from './grant.js';
import { hookCommand } from './hook.js';
import { singleValued } from './host-args.js';
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
