/**
 * The shape of a command module: its yargs builder and a handler that hands the parsed options to the
 * command's core (src/commands/) and returns the exit code. Nothing else lives in cli/: no decisions,
 * no host reads, no effects. A handler loads its core with import() when it runs, so a one-question
 * `query` does not pay for setting up the XML, image and snapshot code.
 */
import type { ArgumentsCamelCase, Argv } from 'yargs';
import type { CliIo } from '../app/command-io.js';

export interface Command<A> {
  readonly command: string | readonly string[];
  readonly describe: string;
  readonly builder: (y: Argv) => Argv<A>;
  /** The exit code (the hook adds its own refusal code to the contract). */
  readonly run: (args: ArgumentsCamelCase<A>, io: CliIo) => Promise<number> | number;
}

/** A command with its argument type erased, for the table in program.ts. */
export interface AnyCommand {
  readonly command: string | readonly string[];
  readonly describe: string;
  readonly builder: (y: Argv) => Argv<unknown>;
  readonly run: (args: ArgumentsCamelCase<unknown>, io: CliIo) => Promise<number> | number;
}

export const defineCommand = <A>(c: Command<A>): AnyCommand => c as unknown as AnyCommand;

/** The FILE positionals as strings (yargs turns a numeric name into a number). */
export const fileArgs = (a: { files?: (string | number)[] }): string[] => (a.files ?? []).map(String);

/** A usage problem found after parsing: said the way yargs' own failures are, exit 2. */
export function usage(io: CliIo, message: string): 2 {
  io.stderr.write(`virt-seclabel: ${message}\n`);
  return 2;
}
