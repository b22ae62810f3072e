#!/usr/bin/env node
/**
 * The bin entry, kept small because start-up is most of a short run: `--version` answers without
 * loading the argument parser, and everything else loads the command line (yargs and the command
 * table, src/cli/program.ts) only then; `hook -- NAME prepare|start ...`, the installed hook script's
 * checks, load only the check (src/cli/hook-fast.ts). Only this file sets process.exitCode.
 */
import { EXIT } from '../app/command-io.js';
import { packageVersion } from '../app/version.js';

/** Set when the hook's call wrote nothing: see the exit below. */
let quietHook = false;

async function main(argv: string[]): Promise<number> {
  if (argv.length === 1 && argv[0] === '--version') {
    process.stdout.write(`${packageVersion()}\n`);
    return EXIT.ok;
  }
  // libvirt's checks through the installed script (`hook -- NAME prepare|start SUB-OP EXTRA`): the check
  // alone, without yargs and the other commands. migrate and restore, rare, take the full command line,
  // whose hook command adds their filter. (The hook bundle's loader picks its code cache by argv[3] too.)
  if (argv[0] === 'hook' && argv[1] === '--' && (argv[3] === 'prepare' || argv[3] === 'start')) {
    const { runHook, wroteNothing } = await import('./hook-fast.js');
    const code = await runHook(argv.slice(2));
    quietHook = wroteNothing();
    return code;
  }
  const { runCommandLine } = await import('./program.js');
  return runCommandLine(argv);
}

main(process.argv.slice(2)).then(
  (c) => {
    process.exitCode = c;
    // libvirt runs the hook at every VM start. Once it is done, Node's loop would still run the young-
    // generation scavenge V8 posted as a task (a few ms of a ~90 ms call) and its teardown; a call that
    // wrote nothing has no output in flight and no handle open, so it exits at once. Anything that wrote
    // leaves the normal way, whatever its streams.
    if (quietHook) process.exit(c);
  },
  (e: unknown) => {
    process.stderr.write(`virt-seclabel: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = EXIT.error;
  },
);
