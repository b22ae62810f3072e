/**
 * Reading what a command is given: the FILE arguments, or standard input for none or `-`, each file's
 * failure kept to itself, and never more than the XML layer accepts (an endless source cannot fill memory).
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
// limits.js, not parse.js: reading a policy for `query` should not load the XML parser.
import { MAX_INPUT_BYTES } from '../xml/limits.js';
import { errnoWords } from '../host/errno.js';
import { readFully } from '../host/fd-io.js';

/**
 * One byte more than the XML layer accepts: enough for it to refuse the input as too large, while an
 * endless source (`/dev/zero`, `< /dev/urandom`, a runaway pipe) never fills memory or hangs the run.
 */
export const READ_LIMIT = MAX_INPUT_BYTES + 1;

export async function readAll(stream: NodeJS.ReadableStream, limit = READ_LIMIT): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const c of stream) {
    const chunk = typeof c === 'string' ? Buffer.from(c) : (c as Buffer);
    chunks.push(chunk);
    total += chunk.length;
    if (total >= limit) break; // leaving the loop destroys the stream: nothing more is read
  }
  return Buffer.concat(chunks).subarray(0, limit);
}

/** The file's bytes, at most `limit` of them (see READ_LIMIT); works for pipes and devices too. */
export function readInput(path: string, limit = READ_LIMIT): Uint8Array {
  const fd = openSync(path, constants.O_RDONLY);
  try {
    // A regular file is read into one buffer of its size (plus one byte, to see it grew): a 2 MB policy
    // read in chunks and joined cost a 2 MB copy on every `query`.
    const st = fstatSync(fd);
    if (st.isFile() && st.size < limit) {
      const whole = Buffer.allocUnsafe(st.size + 1);
      const got = readFully(fd, whole);
      if (got <= st.size) return whole.subarray(0, got);
      return readRest(fd, [whole.subarray(0, got)], got, limit); // it grew while being read
    }
    return readRest(fd, [], 0, limit);
  } finally {
    closeSync(fd);
  }
}

/** Reads on from `total` bytes already in `chunks`, in 1 MiB steps, up to `limit` bytes in all. */
function readRest(fd: number, chunks: Buffer[], total: number, limit: number): Uint8Array {
  while (total < limit) {
    const chunk = Buffer.allocUnsafe(Math.min(1 << 20, limit - total));
    const n = readSync(fd, chunk, 0, chunk.length, null);
    if (n === 0) break;
    chunks.push(chunk.subarray(0, n));
    total += n;
  }
  return Buffer.concat(chunks, total).subarray(0, limit);
}

export interface Input {
  readonly name: string;
  /** Path to rewrite with --in-place; undefined for stdin. */
  readonly path: string | undefined;
  readonly bytes: Uint8Array | undefined;
  readonly readError?: string;
}

export const STDIN_NAME = '<stdin>';

export async function readInputs(files: readonly string[], stdin: NodeJS.ReadableStream): Promise<Input[]> {
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
      out.push({ name: STDIN_NAME, path: undefined, bytes: await readAll(stdin) });
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
