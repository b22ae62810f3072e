/**
 * `virt-seclabel completion [bash|zsh]`: yargs writes the script (and answers the completion requests
 * the script makes, from the same option definitions); it picks the shell from the environment when the
 * parser is built, so the shell named on the command line is put there first.
 */
import type { Argv } from 'yargs';
import { EXIT, type ExitCode } from '../app/command-io.js';

export type CompletionShell = 'bash' | 'zsh';

/** Before the parser is built: make yargs' shell detection see the shell asked for. */
export function selectCompletionShell(argv: readonly string[], env: NodeJS.ProcessEnv): void {
  if (argv[0] !== 'completion') return;
  const shell = argv.find((a) => a === 'bash' || a === 'zsh');
  if (shell === 'zsh') env.ZSH_NAME = 'zsh';
  if (shell === 'bash') {
    env.SHELL = '/bin/bash';
    delete env.ZSH_NAME;
  }
}

export function printCompletion(parser: Argv, _shell: CompletionShell): ExitCode {
  // The script calls `virt-seclabel --get-yargs-completions WORDS...` (yargs' completion entry).
  // yargs' typings omit the script name and command arguments its implementation takes.
  (parser as unknown as { showCompletionScript(name: string, command: string): void }).showCompletionScript('virt-seclabel', 'completion');
  return EXIT.ok;
}
