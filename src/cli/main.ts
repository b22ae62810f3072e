#!/usr/bin/env node
/**
 * The bin entry, kept small because start-up is most of a short run: `--version` answers without
 * loading the argument parser, and everything else loads the command line (yargs and the command
 * table, src/cli/program.ts) only then; `hook -- ...`, the installed hook script's call, loads only the
 * hook (src/cli/hook-fast.ts). Only this file sets process.exitCode.
 */
import { EXIT } from '../app/command-io.js';
import { packageVersion } from '../app/version.js';

async function main(argv: string[]): Promise<number> {
  if (argv.length === 1 && argv[0] === '--version') {
    process.stdout.write(`${packageVersion()}\n`);
    return EXIT.ok;
  }
  // libvirt's call through the installed script: the hook alone, without yargs and the other commands.
  if (argv[0] === 'hook' && argv[1] === '--') {
    const { runHook } = await import('./hook-fast.js');
    return runHook(argv.slice(2));
  }
  const { runCommandLine } = await import('./program.js');
  return runCommandLine(argv);
}

main(process.argv.slice(2)).then(
  (c) => {
    process.exitCode = c;
  },
  (e: unknown) => {
    process.stderr.write(`virt-seclabel: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = EXIT.error;
  },
);
