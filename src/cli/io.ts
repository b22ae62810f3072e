/**
 * The CLI's contact with files: reading inputs, and the atomic in-place write (temp file in the same
 * directory, mode and owner kept, fsync, rename), so a failure or a kill never leaves a truncated file.
 */
import { closeSync, fchmodSync, fchownSync, fstatSync, fsyncSync, lstatSync, openSync, readFileSync, renameSync, unlinkSync, writeSync, constants } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export async function readAll(stream: NodeJS.ReadableStream): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks);
}

export function readInput(path: string): Uint8Array {
  return readFileSync(path);
}

export class WriteError extends Error {
  constructor(readonly path: string, message: string) {
    super(`${path}: ${message}`);
  }
}

/**
 * Replaces `path` with `data` atomically. Refuses a symlink target (rewriting through a link would
 * replace the link by a file); keeps the file's mode and owner.
 */
export function writeAtomic(path: string, data: Uint8Array): void {
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    throw new WriteError(path, `cannot stat: ${(e as Error).message}`);
  }
  if (st.isSymbolicLink()) throw new WriteError(path, 'is a symbolic link; refusing to replace it (pass the target path)');
  if (!st.isFile()) throw new WriteError(path, 'is not a regular file');
  const tmp = join(dirname(path), `.${basename(path)}.virt-seclabel-${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
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
    // The target may have changed since we read it (another run); rename is still atomic either way.
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
    throw new WriteError(path, `cannot write: ${(e as NodeJS.ErrnoException).code ?? ''} ${(e as Error).message}`.trim());
  }
}
