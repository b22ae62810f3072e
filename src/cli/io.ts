/**
 * The CLI's contact with files: reading inputs, and the atomic in-place write (temp file in the same
 * directory, mode and owner kept, fsync, rename), so a failure or a kill never leaves a truncated file.
 */
import { closeSync, fchmodSync, fchownSync, fstatSync, fsyncSync, lstatSync, openSync, readFileSync, readSync, renameSync, unlinkSync, constants } from 'node:fs';
import { basename, dirname } from 'node:path';
// limits.js, not parse.js: reading a policy for `query` should not load the XML parser.
import { MAX_INPUT_BYTES } from '../xml/limits.js';
import { errnoWords } from '../host/errno.js';
import { tempNameIn } from '../host/temp-name.js';
import { readFully, writeFully } from '../host/fd-io.js';

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

/** Why a file was not written, in words (no path: the caller names the file as the user gave it). */
export class WriteError extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** Why a write failed, in words, whatever was thrown. */
export function writeFailure(e: unknown): string {
  return e instanceof WriteError ? e.reason : `cannot write: ${errnoWords(e)}`;
}

/**
 * Replaces `path` with `data` atomically. Refuses a symlink target (rewriting through a link would
 * replace the link by a file); keeps the file's mode and owner.
 */
export function writeAtomic(path: string, data: Uint8Array, expected?: Uint8Array): void {
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    throw new WriteError(`cannot write: ${errnoWords(e)}`);
  }
  if (st.isSymbolicLink()) throw new WriteError('is a symbolic link; refusing to replace it (pass the target path)');
  if (!st.isFile()) throw new WriteError('is not a regular file');
  const tmp = tempNameIn(dirname(path), `.${basename(path)}.virt-seclabel-`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    writeFully(fd, data);
    fchmodSync(fd, st.mode & 0o7777);
    if (fstatSync(fd).uid !== st.uid || fstatSync(fd).gid !== st.gid) {
      try {
        fchownSync(fd, st.uid, st.gid);
      } catch {
        // Not permitted for an unprivileged user: the file then belongs to whoever rewrote it, as with any editor.
      }
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    // Another writer (a second run, an editor) may have replaced the file since we read it: renaming
    // over it would silently drop their change, so refuse instead. A window remains between this check
    // and the rename; without a lock shared by every writer it cannot be closed.
    if (expected !== undefined) {
      let now: Uint8Array;
      try {
        now = readFileSync(path);
      } catch (e) {
        throw new WriteError(`changed while it was processed (now: ${errnoWords(e)}); nothing written, run again`);
      }
      if (Buffer.compare(Buffer.from(now), Buffer.from(expected)) !== 0)
        throw new WriteError('changed while it was processed; nothing written, run again');
    }
    renameSync(tmp, path);
    const dirFd = openSync(dirname(path), constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // already renamed or never created
    }
    if (e instanceof WriteError) throw e;
    throw new WriteError(`cannot write: ${errnoWords(e)}`);
  }
}
