/**
 * Shell completion. yargs answers the question (`virt-seclabel --get-yargs-completions WORD...` prints
 * the commands, options and option choices that fit the last word); the scripts here are the shell side.
 * They are our own rather than yargs' templates because yargs picks the shell from $SHELL when the
 * script is printed and hands every word of the line to the engine, also those after the cursor;
 * here the shell is named on the command line and only the words up to the cursor are sent.
 */
import { defineCommand } from './command.js';
import { documented } from './help.js';

export const SHELLS = ['bash', 'zsh'] as const;
export type Shell = (typeof SHELLS)[number];

/** The option yargs answers completions on (yargs' own name for it). */
export const COMPLETION_KEY = 'get-yargs-completions';

/** The shell to write for when none is named: the login shell if it is zsh, else bash. */
export function defaultShell(env: Readonly<Record<string, string | undefined>>): Shell {
  return (env.SHELL ?? '').endsWith('zsh') ? 'zsh' : 'bash';
}

/**
 * What to offer for the word under the cursor. yargs lists every option when the word is empty and
 * nothing else fits; then a FILE is what a person wants, so an empty list lets the shell complete file
 * names. Option names are offered once the word starts with `-`; commands and choices always.
 */
export function filterCompletions(current: string, offered: readonly string[]): string[] {
  // yargs writes a one-letter alias as `--c` when the word starts with `--`: no such option exists.
  if (current.startsWith('-')) return offered.filter((c) => !/^--[^-:](:|$)/.test(c));
  return offered.filter((c) => !c.startsWith('-'));
}

/** The script for `shell`, completing `name` (the program as the shell finds it on PATH). */
export function completionScript(shell: Shell, name: string): string {
  const fn = `_${name.replace(/[^A-Za-z0-9]/g, '_')}_complete`;
  if (shell === 'bash')
    return `# bash completion for ${name}: source this file, or put it in /etc/bash_completion.d/
${fn}() {
  local IFS=$'\\n'
  # Only the words up to the cursor: what follows it does not narrow what fits here.
  COMPREPLY=($(compgen -W "$(${name} --${COMPLETION_KEY} "\${COMP_WORDS[@]:0:COMP_CWORD+1}" 2>/dev/null)" -- "\${COMP_WORDS[COMP_CWORD]}"))
}
# Nothing offered (a FILE is wanted): bash completes file names.
complete -o bashdefault -o default -F ${fn} ${name}
`;
  return `#compdef ${name}
# zsh completion for ${name}: put this file in a directory of $fpath as _${name}, or source it after compinit
${fn}() {
  local -a offered
  # ZSH_NAME makes yargs describe each item as NAME:DESCRIPTION, the form _describe reads.
  offered=("\${(@f)$(ZSH_NAME=zsh ${name} --${COMPLETION_KEY} "\${(@)words[1,CURRENT]}" 2>/dev/null)}")
  offered=(\${offered:#})
  if (( \${#offered} )); then
    _describe '${name}' offered
  else
    _files
  fi
}
if [[ "\${zsh_eval_context[-1]}" == loadautofunc ]]; then
  ${fn} "$@"
else
  compdef ${fn} ${name}
fi
`;
}

type Offered = (onCompleted?: (err: Error | null, completions: string[] | undefined) => void) => void;

/** yargs' completion hook: its own answer, filtered for the word under the cursor. */
export function completeWord(current: string, _argv: unknown, offered: Offered, done: (completions: string[]) => void): void {
  offered((_err, list) => done(filterCompletions(current, list ?? [])));
}

export const completionCommand = defineCommand({
  command: 'completion [shell]',
  describe: 'print the shell completion script (bash or zsh; default: the login shell)',
  builder: (y) => documented(y, 'completion').positional('shell', { choices: SHELLS, describe: 'the shell to complete in' }),
  run(a, io) {
    io.stdout.write(completionScript(a.shell ?? defaultShell(process.env), 'virt-seclabel'));
    return 0;
  },
});
