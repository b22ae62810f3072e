/**
 * The command line's surface as yargs defines it, read from the built CLI's own --help (which yargs
 * generates from the definitions): every command, nested ones too, and every option of each. Tests
 * that must cover every option (the man page, the help) enumerate from here, not from a hand list,
 * so a command or option added later is covered without touching them.
 */
import { execFileSync } from 'node:child_process';
import { CLI, REPO } from '../../hardening/support/cli.js';

export interface CliOption {
  readonly long: string;
  readonly short?: string;
}

/** `virt-seclabel ARGS... --help` as a person sees it in a pipe (yargs wraps at 80 columns). */
export function helpOf(path: readonly string[]): string {
  return execFileSync(process.execPath, [CLI, ...path, '--help'], { cwd: REPO, encoding: 'utf8' });
}

function section(help: string, title: string): string[] {
  const lines = help.split('\n');
  const start = lines.indexOf(`${title}:`);
  if (start < 0) return [];
  const end = lines.findIndex((l, i) => i > start && l === '');
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

/** Every command path: ['annotate'], ['explain'], and nested ones such as ['hook', 'install']. */
export function commandPaths(path: readonly string[] = []): string[][] {
  const names = section(helpOf(path), 'Commands')
    .map((l) => l.match(/^ {2}virt-seclabel ((?:[\w-]+ )*[\w-]+)/)?.[1]?.split(' ').at(-1))
    .filter((n): n is string => n !== undefined && !path.includes(n));
  return names.flatMap((n) => [[...path, n], ...commandPaths([...path, n])]);
}

/** The options of a command: `  -i, --in-place` or `      --check` at the start of a line of "Options:". */
export function optionsOf(path: readonly string[]): CliOption[] {
  return section(helpOf(path), 'Options').flatMap((l) => {
    const m = l.match(/^ {2}(?:-(\w), | {4})--([\w-]+)/);
    return m ? [{ long: m[2]!, ...(m[1] ? { short: m[1] } : {}) }] : [];
  });
}
