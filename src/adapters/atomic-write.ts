/**
 * The one way this program replaces a file: a temporary file in the same directory (O_EXCL, O_NOFOLLOW),
 * written whole, given its mode and owner, fsync'd, renamed over the target, and the directory fsync'd.
 * A reader sees the old file or the whole new one, never a part; a crash after the call returns keeps
 * the new one. The target is never written through: a symbolic link or anything but a regular file at
 * the path is refused, and rename replaces the directory entry itself.
 *
 * Used by annotate --in-place, facts -o, hook install and the parsed-policy cache.
 */
import { closeSync, constants, fchmodSync, fchownSync, fstatSync, fsyncSync, lstatSync, openSync, readFileSync, renameSync, unlinkSync, type Stats } from 'node:fs';
import { basename, dirname } from 'node:path';
import { errnoWords } from '../host/errno.js';
import { writeFully } from '../host/fd-io.js';
import { tempNameIn } from '../host/temp-name.js';

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

export interface Owner {
  readonly uid: number;
  readonly gid: number;
}

export interface AtomicWrite {
  readonly path: string;
  /** The new content; several parts are written one after the other. */
  readonly data: Uint8Array | readonly Uint8Array[];
  /**
   * How a file that does not exist yet is created (the mode less the umask, as open(2) gives it).
   * Without it the file must exist (an in-place edit), and a missing one is an error.
   */
  readonly create?: { readonly mode: number };
  /**
   * Mode and owner to give the file whatever it had. Without them an existing file keeps its own, and
   * keeping an owner this process may not give (an unprivileged user's rewrite) is skipped, as any
   * editor does; a forced owner that cannot be given is an error.
   */
  readonly force?: { readonly mode: number; readonly owner: Owner };
  /** The bytes the file held when it was read: refuse to replace it if it holds anything else now. */
  readonly expected?: Uint8Array;
}

function existing(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new WriteError(`cannot write: ${errnoWords(e)}`);
  }
}

function checkUnchanged(path: string, expected: Uint8Array): void {
  let now: Uint8Array;
  try {
    now = readFileSync(path);
  } catch (e) {
    throw new WriteError(`changed while it was processed (now: ${errnoWords(e)}); nothing written, run again`);
  }
  if (Buffer.compare(Buffer.from(now), Buffer.from(expected)) !== 0) throw new WriteError('changed while it was processed; nothing written, run again');
}

function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Replaces (or creates) `w.path` with `w.data` atomically and durably; throws WriteError. */
export function writeFileAtomic(w: AtomicWrite): void {
  const st = existing(w.path);
  if (st?.isSymbolicLink()) throw new WriteError('is a symbolic link; refusing to replace it (pass the target path)');
  if (st && !st.isFile()) throw new WriteError('is not a regular file');
  if (!st && !w.create) throw new WriteError('cannot write: no such file or directory');
  // A new file gets its create mode through open(2), so the umask applies as for any new file; an
  // existing file's own mode, or a forced one, is set exactly.
  const mode = w.force?.mode ?? (st ? st.mode & 0o7777 : undefined);
  const dir = dirname(w.path);
  const tmp = tempNameIn(dir, `.${basename(w.path)}.virt-seclabel-`);
  let fd: number | undefined;
  let created = false;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode === undefined ? w.create!.mode : 0o600);
    created = true;
    for (const part of Array.isArray(w.data) ? w.data : [w.data as Uint8Array]) writeFully(fd, part);
    if (w.force) fchownSync(fd, w.force.owner.uid, w.force.owner.gid);
    else if (st) keepOwner(fd, st);
    // After the chown: changing the owner clears set-id bits.
    if (mode !== undefined) fchmodSync(fd, mode);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    // Another writer (a second run, an editor) may have replaced the file since it was read: renaming
    // over it would silently drop their change, so refuse instead. A window remains between this check
    // and the rename; without a lock shared by every writer it cannot be closed.
    if (w.expected !== undefined) checkUnchanged(w.path, w.expected);
    renameSync(tmp, w.path);
    created = false;
    fsyncDirectory(dir);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    if (created) {
      try {
        unlinkSync(tmp);
      } catch {
        // already gone
      }
    }
    if (e instanceof WriteError) throw e;
    throw new WriteError(`cannot write: ${errnoWords(e)}`);
  }
}

function keepOwner(fd: number, st: Stats): void {
  const now = fstatSync(fd);
  if (now.uid === st.uid && now.gid === st.gid) return;
  try {
    fchownSync(fd, st.uid, st.gid);
  } catch {
    // Not permitted for an unprivileged user: the file then belongs to whoever rewrote it, as with any editor.
  }
}
