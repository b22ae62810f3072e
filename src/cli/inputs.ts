/** Reads the FILE arguments (or stdin for none / `-`), keeping each file's failure to itself. */
import { readAll, readInput } from './io.js';
import type { CliIo } from '../app/command-io.js';
import { errnoWords } from '../host/errno.js';

export interface Input {
  readonly name: string;
  /** Path to rewrite with --in-place; undefined for stdin. */
  readonly path: string | undefined;
  readonly bytes: Uint8Array | undefined;
  readonly readError?: string;
}

export const STDIN_NAME = '<stdin>';

export async function readInputs(files: readonly string[], io: CliIo): Promise<Input[]> {
  const names = files.length === 0 ? ['-'] : files;
  const out: Input[] = [];
  let stdinUsed = false;
  for (const f of names) {
    if (f === '-') {
      if (stdinUsed) {
        out.push({ name: STDIN_NAME, path: undefined, bytes: undefined, readError: 'standard input given twice' });
        continue;
      }
      stdinUsed = true;
      out.push({ name: STDIN_NAME, path: undefined, bytes: await readAll(io.stdin) });
      continue;
    }
    try {
      out.push({ name: f, path: f, bytes: readInput(f) });
    } catch (e) {
      out.push({ name: f, path: f, bytes: undefined, readError: `cannot read: ${errnoWords(e)}` });
    }
  }
  return out;
}
